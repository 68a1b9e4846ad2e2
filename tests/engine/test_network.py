"""Network behaviour: end-to-end gradients, state dicts, modes, statistics, bad arguments."""
import numpy as np
import pytest

from nnstudio.engine import (BatchNorm, Context, Dense, Dropout, Network, Regularization, ReLU,
                             SoftmaxCrossEntropy, Tanh, build_network, parse_layer_spec)

from .numeric import numeric_gradient, relative_error


def small_net(dtype=np.float64, spec="dense:6,batchnorm,tanh,dropout:0.3,dense:5,relu"):
    return build_network(spec, n_features=4, task="classification", n_outputs=3, seed=1, dtype=dtype)


def test_network_gradients_including_regularization_match_centered_differences():
    rng = np.random.default_rng(0)
    net = small_net()
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    reg = Regularization(l1=0.01, l2=0.1)

    def ctx():  # training mode with the same dropout mask every time
        return Context(training=True, rng=np.random.default_rng(5))

    def objective():
        return net.evaluate(x, y, ctx(), reg).total

    net.compute_gradients(x, y, ctx(), reg)
    for _, name, value, grad in list(net.named_parameters()):
        analytic = grad.copy()
        numeric = numeric_gradient(objective, value)
        # The Dense bias feeding BatchNorm has a true gradient of 0: an absolute floor for it.
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9, err_msg=name)
        if np.abs(numeric).max() > 1e-6:
            assert relative_error(analytic, numeric) < 1e-6, name


def test_loss_reports_data_and_penalty_separately():
    net = small_net()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    plain = net.evaluate(x, y, Context.inference())
    regularized = net.evaluate(x, y, Context.inference(), Regularization(l2=0.5))
    weights = [layer.params["W"] for layer in net.layers if isinstance(layer, Dense)]
    assert regularized.data == plain.data
    assert regularized.penalty == pytest.approx(0.25 * sum(float((w * w).sum()) for w in weights))
    assert regularized.total == pytest.approx(regularized.data + regularized.penalty)


def test_state_dict_round_trip_gives_identical_predictions():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 4)).astype(np.float32)
    source = small_net(np.float32)
    source.compute_gradients(x, rng.integers(0, 3, 10), Context.train(rng))  # moves running stats
    target = small_net(np.float32)
    target.build(4, seed=99)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target.predict(x), source.predict(x))
    assert "1.running_var" in source.state_dict() and "1.num_batches_tracked" in source.state_dict()


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("0.W"), "missing ['0.W']"),
    (lambda s: s.update(extra=np.zeros(1)), "unexpected ['extra']"),
    (lambda s: s.update({"0.b": np.zeros(7, np.float32)}), "0.b: expected shape (6,), got (7,)"),
    (lambda s: s.update({"0.b": np.zeros(6, np.float64)}), "0.b: expected dtype float32, got float64"),
])
def test_load_state_dict_names_what_does_not_fit(change, message):
    net = small_net(np.float32)
    state = net.state_dict()
    change(state)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    assert message in str(info.value)


def test_running_statistics_move_only_when_the_context_allows():
    rng = np.random.default_rng(3)
    net = small_net()
    x = rng.standard_normal((8, 4))
    before = net.state_dict()
    net.forward(x, Context(training=True, update_stats=False, rng=rng))
    after = net.state_dict()
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])
    net.forward(x, Context.train(rng))
    assert int(net.state_dict()["1.num_batches_tracked"]) == 1
    assert not np.array_equal(net.state_dict()["1.running_mean"], before["1.running_mean"])


def test_network_wide_batchnorm_mode_switches_predictions():
    rng = np.random.default_rng(4)
    net = small_net()
    x = rng.standard_normal((16, 4)) * 4 + 2
    running = net.predict(x, Context.inference(bn_stats="running"))
    batch = net.predict(x, Context.inference(bn_stats="batch"))
    assert not np.allclose(running, batch)
    np.testing.assert_array_equal(running, net.predict(x))


def test_population_statistics_are_the_mean_and_unbiased_variance_of_the_layer_input():
    rng = np.random.default_rng(5)
    net = Network([Dense(3), BatchNorm(), ReLU(), Dense(4), BatchNorm()], SoftmaxCrossEntropy(), 2, seed=0,
                  dtype=np.float64)
    x = rng.standard_normal((50, 2))
    net.recompute_population_statistics(x)
    first = x @ net.layers[0].params["W"] + net.layers[0].params["b"]
    np.testing.assert_allclose(net.layers[1].buffers["running_mean"], first.mean(0), rtol=1e-12)
    np.testing.assert_allclose(net.layers[1].buffers["running_var"], first.var(0, ddof=1), rtol=1e-12)
    # The second BatchNorm sees the first one in inference mode with its new statistics.
    hidden = net.forward(x, Context.inference())
    inner = net.layers[3].cache["x"] @ net.layers[3].params["W"] + net.layers[3].params["b"]
    np.testing.assert_allclose(net.layers[4].buffers["running_mean"], inner.mean(0), atol=1e-12)
    np.testing.assert_allclose(net.layers[4].buffers["running_var"], inner.var(0, ddof=1), rtol=1e-12)
    assert hidden.shape == (50, 4)


def test_reset_running_statistics():
    net = small_net()
    net.forward(np.random.default_rng(6).standard_normal((8, 4)), Context.train(np.random.default_rng(0)))
    net.reset_running_statistics()
    bn = net.layers[1]
    np.testing.assert_array_equal(bn.buffers["running_mean"], 0)
    np.testing.assert_array_equal(bn.buffers["running_var"], 1)
    assert int(bn.buffers["num_batches_tracked"]) == 0


def test_same_dropout_seed_gives_the_same_mask_and_no_global_state_is_used():
    x = np.ones((4, 6))
    layer = Dropout(0.5)
    layer.build(6, np.random.default_rng(0), np.float64)
    first = layer.forward(x, Context(training=True, rng=np.random.default_rng(42)))
    np.random.seed(0)  # the global generator must not matter
    second = layer.forward(x, Context(training=True, rng=np.random.default_rng(42)))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(layer.forward(x, Context.inference()), x)


def test_float32_training_stays_float32_and_copy_casts_to_float64():
    rng = np.random.default_rng(7)
    net = small_net(np.float32)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    net.compute_gradients(x, y, Context.train(rng), Regularization(l1=0.1, l2=0.1))
    for _, name, value, grad in net.named_parameters():
        assert value.dtype == np.float32 and grad.dtype == np.float32, name
    clone = net.copy(np.float64)
    assert all(value.dtype == np.float64 for _, _, value, _ in clone.named_parameters())
    assert clone.state_dict()["1.num_batches_tracked"].dtype == np.int64
    clone.layers[0].params["W"][0, 0] += 1
    assert net.layers[0].params["W"][0, 0] != clone.layers[0].params["W"][0, 0]


def test_config_round_trip_rebuilds_the_same_architecture():
    net = small_net(np.float32)
    rebuilt = Network.from_config(net.config(), seed=1)
    assert rebuilt.config() == net.config()
    assert rebuilt.num_parameters() == net.num_parameters()


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(-3), "Dense units must be a positive integer, got -3"),
    (lambda: Dense(0), "got 0"),
    (lambda: Dropout(1.0), "Dropout p must be in [0, 1), got 1.0"),
    (lambda: Dropout(-0.1), "got -0.1"),
    (lambda: LeakyReLUBad(), "LeakyReLU slope"),
    (lambda: BatchNorm(momentum=2), "momentum must be in [0, 1], got 2.0"),
    (lambda: parse_layer_spec("dense:16,sigmoidd"), "unknown layer 'sigmoidd'"),
    (lambda: Context(bn_stats="both"), "bn_stats must be one of"),
])
def test_bad_arguments_raise_value_error_saying_what_was_expected(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


def LeakyReLUBad():
    from nnstudio.engine import LeakyReLU

    return LeakyReLU(-1)


def test_wrong_input_shape_and_labels_are_reported():
    net = small_net()
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 4\), got \(5, 3\)"):
        net.forward(np.zeros((5, 3)), Context.inference())
    with pytest.raises(ValueError, match="class label 3 is out of range: expected 0..2"):
        net.evaluate(np.zeros((2, 4)), np.array([0, 3]), Context.inference())
    with pytest.raises(ValueError, match=r"class labels must have shape \(2,\)"):
        net.evaluate(np.zeros((2, 4)), np.array([0, 1, 2]), Context.inference())


def test_batchnorm_refuses_a_single_sample_batch_in_batch_mode():
    net = small_net()
    with pytest.raises(ValueError, match="at least 2 samples"):
        net.forward(np.zeros((1, 4)), Context(training=True, rng=np.random.default_rng(0)))


def test_unknown_spec_token_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        parse_layer_spec("dense:8,softplus")
    for name in ("batchnorm", "dense", "dropout", "leakyrelu", "relu", "sigmoid", "tanh"):
        assert name in str(info.value)


def test_spec_builds_the_layers_it_names():
    layers = parse_layer_spec("dense:16:xavier, batchnorm:0.2, relu, leakyrelu:0.1, dropout:0.25, tanh, sigmoid")
    assert [layer.describe() for layer in layers] == [
        "Dense(16)", "BatchNorm", "ReLU", "LeakyReLU(0.1)", "Dropout(0.25)", "Tanh", "Sigmoid"]
    assert layers[0].init == "xavier" and layers[1].momentum == 0.2
    assert isinstance(parse_layer_spec("tanh")[0], Tanh)
