"""A check never changes what it was given, and its objective is one fixed function."""
import numpy as np
import pytest

from nnstudio.engine import Adam, BatchNorm, Context, Regularization, build_network
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker
from nnstudio.engine.gradcheck.objective import Objective

SPEC = "dense:8,batchnorm,relu,dropout:0.4,dense:6,batchnorm,tanh"


def _trained(seed: int = 0):
    """A float32 network after a few training steps: running stats and counters moved."""
    rng = np.random.default_rng(seed)
    network = build_network(SPEC, 4, "classification", 3, seed=seed)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    optimizer = Adam(lr=0.01)
    for _ in range(3):
        network.compute_gradients(x, y, Context.train(rng))
        optimizer.step(network.named_parameters())
    return network, optimizer, x, y


def _snapshot(network) -> dict[str, np.ndarray]:
    state = {name: value.copy() for name, value in network.state_dict().items()}
    state.update({f"grad:{name}": grad.copy() for _, name, _, grad in network.named_parameters()})
    return state


@pytest.mark.parametrize("bn_stats", ["batch", "running"])
@pytest.mark.parametrize("dropout", ["fixed", "off", "redraw"])
def test_the_checked_network_is_left_bit_identical(bn_stats, dropout):
    network, optimizer, x, y = _trained()
    before = _snapshot(network)
    optimizer_before = {k: [a.copy() for a in v] if isinstance(v, list) else v
                        for k, v in vars(optimizer).items()}
    rng = np.random.default_rng(42)
    rng_state = rng.bit_generator.state
    config = CheckConfig(bn_stats=bn_stats, dropout=dropout, include_regularization=True,
                         regularization=Regularization(l1=1e-3, l2=1e-2))
    checker = GradientChecker(network, x, y, config, rng=rng)
    checker.run()
    checker.screen()
    after = _snapshot(network)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name].dtype == after[name].dtype and before[name].tobytes() == after[name].tobytes(), name
    assert network.dtype == np.float32
    assert all(layer.fault is None for layer in network.layers)
    assert all(getattr(layer, "fixed_mask", None) is None for layer in network.layers)
    assert rng.bit_generator.state == rng_state  # the caller's generator did not advance
    assert repr(vars(optimizer)) == repr(optimizer_before)


def test_batchnorm_running_statistics_and_counter_do_not_move():
    network, _, x, y = _trained()
    counters = [int(layer.buffers["num_batches_tracked"]) for _, layer in network.batchnorm_layers()]
    assert all(count == 3 for count in counters)
    checker = GradientChecker(network, x, y, CheckConfig(bn_stats="batch"))
    copy_buffers = {name: value.copy() for _, name, value in checker.objective.network.named_buffers()}
    checker.run()
    for _, name, value in checker.objective.network.named_buffers():
        assert np.array_equal(value, copy_buffers[name]), name  # not even the float64 copy's
    assert [int(layer.buffers["num_batches_tracked"]) for _, layer in network.batchnorm_layers()] == counters


def test_one_context_serves_both_sides():
    network, _, x, y = _trained()
    for bn_stats in ("batch", "running"):
        objective = Objective(network, x, y, CheckConfig(bn_stats=bn_stats))
        ctx = objective.ctx
        assert isinstance(ctx, Context) and ctx.bn_stats == bn_stats and not ctx.update_stats
        assert all(layer.uses_batch_stats(ctx) == (bn_stats == "batch")
                   for _, layer in objective.network.batchnorm_layers())
    with pytest.raises(ValueError, match="bn_stats"):
        CheckConfig(bn_stats="auto")  # the mode is always an explicit choice


def test_mixing_batch_and_running_statistics_would_fail_and_cannot_be_configured():
    """What the single context prevents: analytic with batch, numeric with running stats."""
    network, _, x, y = _trained()
    batch = Objective(network, x, y, CheckConfig(bn_stats="batch", dropout="off"))
    running = Objective(network, x, y, CheckConfig(bn_stats="running", dropout="off"))
    layer, h = batch.network.layers[0], 1e-5
    weights = running.network.layers[0].params["W"]
    weights[0, 0] += h
    plus = running.network.evaluate(running.x, running.y, running.ctx).total
    weights[0, 0] -= 2 * h
    minus = running.network.evaluate(running.x, running.y, running.ctx).total
    mixed_numeric = (plus - minus) / (2 * h)
    assert abs(mixed_numeric - batch.gradients["0.W"][0, 0]) > 1e-3 * abs(mixed_numeric)
    assert layer is not running.network.layers[0]
    assert {"bn_stats"} <= set(CheckConfig.__dataclass_fields__)
    assert not {"analytic_bn_stats", "numeric_bn_stats"} & set(CheckConfig.__dataclass_fields__)
    for bn_stats in ("batch", "running"):
        assert GradientChecker(network, x, y, CheckConfig(bn_stats=bn_stats, dropout="off")).run().passed


def test_a_layer_override_applies_to_both_sides():
    network, _, x, y = _trained()
    network.layers[1].stats = "running"  # this layer: running statistics whatever the context
    assert GradientChecker(network, x, y, CheckConfig(bn_stats="batch")).run().passed


def test_float64_copy_is_checked_not_the_float32_original():
    network, _, x, y = _trained()
    checker = GradientChecker(network, x, y)
    assert checker.objective.network.dtype == np.float64
    assert checker.objective.network is not network
    assert all(value.dtype == np.float64 for _, _, value, _ in checker.objective.network.named_parameters())


def test_batchnorm_with_batch_statistics_needs_two_rows():
    network, _, x, y = _trained()
    with pytest.raises(ValueError, match="at least 2 rows"):
        GradientChecker(network, x[:1], y[:1], CheckConfig(bn_stats="batch"))
    assert GradientChecker(network, x[:1], y[:1], CheckConfig(bn_stats="running")).run().passed


@pytest.mark.parametrize("bad, message", [
    (dict(h=0.0), "h must be a positive"), (dict(h=1.0), "far too large"),
    (dict(rtol=-1.0), "rtol"), (dict(atol=float("nan")), "atol"),
    (dict(dropout="sometimes"), "dropout"), (dict(samples_per_tensor=0), "samples_per_tensor"),
    (dict(seed=-1), "seed"),
])
def test_bad_settings_are_refused_with_a_message(bad, message):
    with pytest.raises(ValueError, match=message):
        CheckConfig(**bad)


def test_bad_batches_are_refused_with_a_message():
    network, _, x, y = _trained()
    with pytest.raises(ValueError, match="features"):
        GradientChecker(network, x[:, :3], y)
    with pytest.raises(ValueError, match="NaN"):
        GradientChecker(network, np.full_like(x, np.nan), y)
    with pytest.raises(ValueError, match="unknown tensors"):
        GradientChecker(network, x, y, only=["9.W"])


def test_float32_batchnorm_layers_stay_float32_after_check():
    network, _, x, y = _trained()
    GradientChecker(network, x, y).run()
    assert all(value.dtype == np.float32 for _, _, value in network.named_buffers()
               if value.dtype.kind == "f")
    assert isinstance(network.layers[1], BatchNorm)
