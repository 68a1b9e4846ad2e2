"""The exported nn.Sequential computes what the engine computes: outputs within 1e-6 in
float32 and 1e-12 in float64, in eval() (running or batch BatchNorm statistics) and in
train() mode (batch statistics, running statistics moving the same way)."""
import numpy as np
import pytest

from nnstudio.engine import Context
from nnstudio.export import export_pytorch, plan_export, read_safetensors
from nnstudio.training import TrainConfig

from .exported import exported_modules, random_network, relative_difference

TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}


def assert_same_outputs(net, x, ctx, ours, theirs, dtype) -> None:
    """Exported outputs equal ours: within 1e-12 in float64, 1e-6 in float32.

    In float32 that bar holds when the network is well conditioned (our own float32 result
    within 2.5e-7 of the exact float64 one: most random networks). Batch statistics of a
    near-constant feature (a Dense after saturated sigmoids) amplify float32 rounding: our
    result and torch's then each lie up to ~2e-5 from the exact answer, in different
    directions, so no float32 implementation can match another to 1e-6. There the export
    must be as accurate as the studio itself: within 8 times our own error of the exact
    answer (measured over 300 random networks: at most 5.2 times).
    """
    if dtype == np.float64:
        assert relative_difference(ours, theirs) <= TOLERANCE[dtype]
        return
    exact = net.copy(np.float64).forward(x.astype(np.float64), ctx)
    own_error = relative_difference(exact, ours)
    if own_error <= 2.5e-7:
        assert relative_difference(ours, theirs) <= TOLERANCE[dtype], own_error
    else:
        assert relative_difference(exact, theirs) <= 8 * own_error, own_error


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bn_stats", ["running", "batch"])
@pytest.mark.parametrize("seed", range(8))
def test_eval_outputs_equal_the_engine(torch, tmp_path, seed, bn_stats, dtype):
    net, rng = random_network(seed, dtype, stats_choices=("auto", "auto", "batch", "running"))
    x = rng.standard_normal((11, 5)).astype(dtype)
    export_pytorch(net, tmp_path, eval_bn_stats=bn_stats)
    ctx = Context.inference(bn_stats=bn_stats)
    ours = net.forward(x, ctx)
    with exported_modules(tmp_path) as (model, _):
        module = model.load()
        assert not module.training
        with torch.no_grad():
            theirs = module(torch.from_numpy(x)).numpy()
    assert theirs.dtype == dtype
    assert_same_outputs(net, x, ctx, ours, theirs, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(8))
def test_train_mode_outputs_and_running_statistics_equal_the_engine(torch, tmp_path, seed, dtype):
    net, rng = random_network(seed, dtype, dropout_p=0.0, stats_choices=("auto", "batch", "running"))
    x = rng.standard_normal((13, 5)).astype(dtype)
    export_pytorch(net, tmp_path, train_config=TrainConfig(bn_stats="auto"))
    with exported_modules(tmp_path) as (model, _):
        module = model.load().train()
        with torch.no_grad():
            theirs = module(torch.from_numpy(x)).numpy()
        state = {name: value.numpy() for name, value in module.state_dict().items()}
    frozen = net.copy()  # before the engine's forward moves its running statistics
    ours = net.forward(x, Context.train(np.random.default_rng(0)))
    assert_same_outputs(frozen, x, Context.train(np.random.default_rng(0)), ours, theirs, dtype)
    expected = plan_export(net).state_dict()  # after the engine's own update of its statistics
    assert sorted(state) == sorted(expected)
    for name, value in expected.items():
        if name.endswith("num_batches_tracked"):
            assert int(state[name]) == int(value), name
        else:
            assert relative_difference(value, state[name]) <= TOLERANCE[dtype], name


def test_weights_hold_every_parameter_and_buffer_and_load_without_the_safetensors_package(
        torch, tmp_path, monkeypatch):
    net, rng = random_network(3, np.float32)
    export_pytorch(net, tmp_path)
    stored = read_safetensors(tmp_path / "weights.safetensors")
    bn_index = net.batchnorm_layers()[0][0]
    assert stored[f"{bn_index}.num_batches_tracked"].dtype == np.int64
    assert stored[f"{bn_index}.num_batches_tracked"].shape == ()
    dense_index = next(i for i, layer in enumerate(net.layers) if "W" in layer.params)
    np.testing.assert_array_equal(stored[f"{dense_index}.weight"], net.layers[dense_index].params["W"].T)
    with exported_modules(tmp_path) as (model, _):
        with_package = model.read_weights(tmp_path / "weights.safetensors")
        monkeypatch.setitem(__import__("sys").modules, "safetensors", None)  # import fails
        without = model.read_weights(tmp_path / "weights.safetensors")
        module = model.load()
    assert sorted(with_package) == sorted(without) == sorted(stored)
    for name, value in stored.items():
        np.testing.assert_array_equal(with_package[name].numpy(), value)
        np.testing.assert_array_equal(without[name].numpy(), value)
        np.testing.assert_array_equal(module.state_dict()[name].numpy(), value)


def test_our_safetensors_files_are_read_and_written_like_the_reference_package(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from nnstudio.export import write_safetensors

    rng = np.random.default_rng(0)
    tensors = {"a.weight": rng.standard_normal((3, 4)).astype(np.float32),
               "b": rng.standard_normal(5), "count": np.array(7, dtype=np.int64),
               "empty": np.zeros((0, 2), np.float32)}
    write_safetensors(tmp_path / "ours.safetensors", tensors, {"format": "pt"})
    theirs = safetensors_numpy.load_file(str(tmp_path / "ours.safetensors"))
    safetensors_numpy.save_file(tensors, str(tmp_path / "reference.safetensors"))
    back = read_safetensors(tmp_path / "reference.safetensors")
    for name, value in tensors.items():
        for other in (theirs, back):
            assert other[name].dtype == value.dtype and other[name].shape == value.shape
            np.testing.assert_array_equal(other[name], value)
