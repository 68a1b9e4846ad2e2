"""Optimizer state: the packed fast path equals the per-tensor path; state survives a round trip."""
import numpy as np
import pytest

from nnstudio.engine import SGD, Adam, Context, Regularization, build_network, make_optimizer


def trained(optimizer_factory, steps, packed=True, net=None, optimizer=None):
    rng = np.random.default_rng(0)
    net = net or build_network("dense:8,batchnorm,relu,dense:6,tanh", 3, "classification", 3, seed=2)
    optimizer = optimizer or optimizer_factory()
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.integers(0, 3, 16)
    for _ in range(steps):
        net.compute_gradients(x, y, Context.inference(bn_stats="batch"), Regularization(l1=1e-3))
        optimizer.step(net if packed else net.named_parameters())
    return net, optimizer


FACTORIES = [lambda: SGD(0.1), lambda: SGD(0.1, momentum=0.9), lambda: SGD(0.1, 0.9, nesterov=True),
             lambda: Adam(0.01)]


@pytest.mark.parametrize("factory", FACTORIES)
def test_packed_and_per_tensor_updates_are_identical(factory):
    packed, _ = trained(factory, 15, packed=True)
    per_tensor, _ = trained(factory, 15, packed=False)
    for name, value in packed.state_dict().items():
        np.testing.assert_array_equal(value, per_tensor.state_dict()[name], err_msg=name)


@pytest.mark.parametrize("factory", FACTORIES)
def test_state_round_trip_continues_as_if_never_stopped(factory):
    straight, _ = trained(factory, 10)
    half, optimizer = trained(factory, 5)
    resumed_optimizer = factory()
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed, _ = trained(factory, 5, net=half, optimizer=resumed_optimizer)
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(value, resumed.state_dict()[name], err_msg=name)


def test_state_is_keyed_by_parameter_name():
    _, optimizer = trained(lambda: Adam(0.01), 2)
    keys = set(optimizer.state_dict())
    assert {"0.W/m", "0.W/v", "1.gamma/m", "steps"} <= keys


@pytest.mark.parametrize("name, settings, message", [
    ("sgd", {"lr": -1}, "learning rate must be a positive number, got -1.0"),
    ("sgd", {"lr": 0.1, "momentum": 1.5}, "momentum must be in [0, 1), got 1.5"),
    ("sgd", {"lr": 0.1, "nesterov": True}, "Nesterov momentum needs momentum > 0"),
    ("adam", {"beta1": 1.0}, "beta1 must be in [0, 1), got 1.0"),
    ("rmsprop", {}, "unknown optimizer 'rmsprop'"),
])
def test_bad_optimizer_settings_are_named(name, settings, message):
    with pytest.raises(ValueError) as info:
        make_optimizer(name, **settings)
    assert message in str(info.value)


def test_a_deep_copied_or_edited_network_still_trains_through_the_optimizer():
    import copy

    source, _ = trained(lambda: SGD(0.1, momentum=0.9), 1)
    for clone in (copy.deepcopy(source), source.copy()):
        before = clone.state_dict()
        trained(lambda: SGD(0.1, momentum=0.9), 3, net=clone)
        assert not np.array_equal(before["0.W"], clone.state_dict()["0.W"])
    # replacing one array by hand drops the packed path instead of updating a stale buffer
    source.layers[0].params["W"] = source.layers[0].params["W"].copy()
    assert source.flat_parameters() is None
    before = source.layers[0].params["W"].copy()
    trained(lambda: SGD(0.1), 1, net=source)
    assert not np.array_equal(before, source.layers[0].params["W"])
