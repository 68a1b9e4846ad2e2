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


def allowed(net, x, ctx, ours, dtype) -> float:
    """The tolerance, or in float32 twice our own rounding error if that is larger.

    Batch statistics of a feature with a tiny batch variance (a Dense after saturated
    sigmoids) amplify float32 rounding: there, our float32 result and torch's each lie
    ~2e-6 from the exact (float64) answer, so neither can be closer to the other than
    that. The float64 comparison (1e-12) has no such allowance.
    """
    if dtype == np.float64:
        return TOLERANCE[dtype]
    exact = net.copy(np.float64).forward(x.astype(np.float64), ctx)
    return max(TOLERANCE[dtype], 2 * relative_difference(exact, ours))


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
    assert relative_difference(ours, theirs) <= allowed(net, x, ctx, ours, dtype)


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
    tolerance = allowed(frozen, x, Context.train(np.random.default_rng(0)), ours, dtype)
    assert relative_difference(ours, theirs) <= tolerance
    expected = plan_export(net).state_dict()  # after the engine's own update of its statistics
    assert sorted(state) == sorted(expected)
    for name, value in expected.items():
        if name.endswith("num_batches_tracked"):
            assert int(state[name]) == int(value), name
        else:
            assert relative_difference(value, state[name]) <= tolerance, name


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
