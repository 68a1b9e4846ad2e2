"""Layer functions in the cs231n convention become layers with no wrapper: checked end to
end, correct and buggy, with LAYER_PARAM state, seeds and strict return checks."""
import numpy as np
import pytest

from nnstudio.engine import Context, build_network, layer_from_config
from nnstudio.engine.custom_layers import CustomLayerError, load_custom_layers
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker
from nnstudio.engine.user_code import UserCodeError
from nnstudio.resources import resource_path


def example(name):
    return resource_path("examples", "layer_functions", name)


def variant(tmp_path, name, old, new):
    """A copy of an example file with one planted bug."""
    text = example(name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def batch(features=4, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), rng.integers(0, 3, n)


def check(spec, bn_stats="batch", **config):
    network = build_network(spec, 4, "classification", 3, seed=0)
    return GradientChecker(network, *batch(), CheckConfig(bn_stats=bn_stats, **config)).run()


def failing_tensors(report):
    """Parameter tensors with a mismatch (input gradients, "k.<input>", left out)."""
    return {t.name for t in report.tensors if t.mismatch and not t.info.is_input}


def culprits(report):
    """Where the checker says the error enters: {(layer index, part)}."""
    return {(c.layer_index, c.part) for c in report.culprits}


def test_affine_with_units_passes_and_a_bias_bug_fails_in_its_bias(tmp_path):
    load_custom_layers(example("student_affine.py"))
    network = build_network("student_affine:7,tanh", 4, "classification", 3, seed=0)
    assert network.layers[0].params["w"].shape == (4, 7) and network.output_dims()[0] == 7
    assert check("student_affine:7,tanh").passed
    load_custom_layers(variant(tmp_path, "student_affine.py", "dout.sum(axis=0)", "dout.mean(axis=0)"))
    report = check("student_affine:7,tanh")
    assert not report.passed and failing_tensors(report) == {"0.b"}
    assert culprits(report) == {(0, "parameters")}


@pytest.mark.parametrize("bn_stats", ["batch", "running"])
def test_batchnorm_with_running_stats_in_layer_param_passes(bn_stats):
    load_custom_layers(example("student_batchnorm.py"))
    assert check("dense:6,student_bn,tanh", bn_stats).passed


def test_batchnorm_without_the_mean_path_fails_in_the_fit_phase(tmp_path):
    load_custom_layers(variant(tmp_path, "student_batchnorm.py",
                               "n * dxhat - dxhat.sum(axis=0) -", "n * dxhat -"))
    report = check("dense:6,student_bn,tanh", "batch")
    assert not report.passed and "0.W" in failing_tensors(report)
    assert culprits(report) == {(1, "input")}


def test_running_statistics_persist_in_training_and_never_move_in_a_check():
    load_custom_layers(example("student_batchnorm.py"))
    network = build_network("dense:6,student_bn,tanh", 4, "classification", 3, seed=0)
    bn = network.layers[1]
    running_mean = bn.buffers["running_mean"]
    assert np.all(running_mean == 0) and set(bn.buffers) == {"running_mean", "running_var"}
    x, y = batch()
    network.compute_gradients(x, y, Context.train(np.random.default_rng(0)))
    assert bn.buffers["running_mean"] is running_mean and np.any(running_mean != 0)
    saved = {k: v.copy() for k, v in bn.buffers.items()}
    checker = GradientChecker(network, x, y, CheckConfig(bn_stats="batch"))
    checker.run()
    copy_bn = checker.objective.network.layers[1]
    for name, value in saved.items():  # the checked copy's statistics, after every evaluation
        np.testing.assert_array_equal(copy_bn.buffers[name], value)
        np.testing.assert_array_equal(bn.buffers[name], value)
    network.forward(x, Context.inference())
    np.testing.assert_array_equal(bn.buffers["running_mean"], saved["running_mean"])


def test_dropout_with_seed_replays_one_mask_and_a_backward_drawing_its_own_fails(tmp_path):
    load_custom_layers(example("student_dropout.py"))
    assert check("dense:6,student_dropout:0.3,tanh").passed
    load_custom_layers(variant(tmp_path, "student_dropout.py",
                               "return dout if mask is None else dout * mask",
                               "return dout * ((np.random.rand(*dout.shape) >= 0.3) / 0.7)"))
    report = check("dense:6,student_dropout:0.3,tanh")
    assert not report.passed
    assert {c.layer_index for c in report.culprits} == {1}


def test_dropout_mode_follows_the_context():
    load_custom_layers(example("student_dropout.py"))
    network = build_network("student_dropout:0.5", 4, "classification", 3, seed=0)
    x, _ = batch()
    layer = network.layers[0]
    np.testing.assert_array_equal(layer.forward(x, Context.inference()), x)
    trained = layer.forward(x, Context.train(np.random.default_rng(1)))
    assert np.mean(trained == 0) > 0.2


def test_a_parameter_free_activation_passes_and_a_wrong_derivative_fails(tmp_path):
    load_custom_layers(example("student_swish.py"))
    assert check("dense:6,student_swish").passed
    load_custom_layers(variant(tmp_path, "student_swish.py", "(sigma + x * sigma * (1 - sigma))",
                               "sigma"))
    report = check("dense:6,student_swish")
    assert not report.passed and failing_tensors(report) == {"0.W", "0.b"}
    assert culprits(report) == {(1, "input")}


def test_spec_arguments_override_layer_param_in_order_and_round_trip():
    load_custom_layers(example("student_batchnorm.py"))
    (layer,) = build_network("student_bn:0.001:0.5", 4, "classification", 3).layers[:1]
    assert layer.layer_param["eps"] == 0.001 and layer.layer_param["momentum"] == 0.5
    assert layer.config() == {"eps": 0.001, "momentum": 0.5}
    again = layer_from_config("student_bn", layer.config())
    assert again.layer_param == layer.layer_param
    load_custom_layers(example("student_affine.py"))
    assert layer_from_config("student_affine", {"units": 5}).units == 5
    with pytest.raises(ValueError, match="needs a positive number of units"):
        build_network("student_affine", 4, "classification", 3)
    with pytest.raises(ValueError, match="at most 2 arguments"):
        build_network("student_bn:1:2:3", 4, "classification", 3)


def test_stacked_copies_are_computed_one_plain_batch_at_a_time():
    load_custom_layers(example("student_batchnorm.py"))
    network = build_network("student_bn", 4, "classification", 3)
    layer, ctx = network.layers[0], Context(training=True, bn_stats="batch")
    x = np.random.default_rng(2).standard_normal((3, 8, 4))
    stacked = layer.forward(x, ctx)
    for copy_index in range(3):
        np.testing.assert_allclose(stacked[copy_index], layer.forward(x[copy_index], ctx))


BN_HEAD = '''import numpy as np
NAME = "shape_bn"
PARAMS = {"gamma": (("D",), "ones"), "beta": (("D",), "zeros")}
LAYER_PARAM = {"eps": 1e-5}
def forward(x, gamma, beta, bn_param):
    return x * gamma + beta, x
def backward(dout, cache):
'''


@pytest.mark.parametrize("body, message, line", [
    ("    return dout * 2, dout.sum(0)\n",
     "backward returned 2 arrays; expected dx, dgamma, dbeta", 8),
    ("    return dout, (dout * cache).sum(0, keepdims=True), dout.sum(0)\n",
     r"dgamma has shape \(1, 12\), gamma has \(12,\)", 8),
    ("    return dout\n", "backward returned one array; expected dx, dgamma, dbeta", 8),
])
def test_what_backward_returns_is_checked_with_the_file_and_line(tmp_path, body, message, line):
    path = tmp_path / "shape_bn.py"
    path.write_text(BN_HEAD + body, encoding="utf-8")
    load_custom_layers(path)
    network = build_network("shape_bn", 12, "classification", 3)
    x = np.random.default_rng(0).standard_normal((5, 12))
    with pytest.raises(UserCodeError, match=message) as caught:
        GradientChecker(network, x, np.arange(5) % 3)
    assert caught.value.path == str(path) and caught.value.line == line
    assert str(caught.value).startswith(f"error in {path}:{line}: ValueError")


def test_non_float_output_and_exceptions_in_user_code_name_file_and_line(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text('NAME = "int_out"\ndef forward(x):\n    return (x > 0).astype(int), x\n'
                    'def backward(dout, cache):\n    return dout\n', encoding="utf-8")
    load_custom_layers(path)
    layer = build_network("int_out", 3, "classification", 2).layers[0]
    with pytest.raises(UserCodeError, match="dtype int64; expected floats"):
        layer.forward(np.ones((2, 3)), Context())
    path.write_text('NAME = "boom"\ndef forward(x):\n    return x[99], x\n'
                    'def backward(dout, cache):\n    return dout\n', encoding="utf-8")
    load_custom_layers(path)
    layer = build_network("boom", 3, "classification", 2).layers[0]
    with pytest.raises(UserCodeError, match=rf"error in {path}:3: IndexError"):
        layer.forward(np.ones((2, 3)), Context())


@pytest.mark.parametrize("text, message", [
    ('NAME = "Bad Name"\n', "NAME must be a lower-case identifier"),
    ('NAME = "dense"\n', "built-in layer's name"),
    ('NAME = "nofwd"\ndef backward(dout, cache):\n    return dout\n', "no forward"),
    ('NAME = "p"\nPARAMS = {"w": (("Q",), "he")}\n', "must be a tuple of"),
    ('NAME = "p"\nPARAMS = {"w": (("D",), "uniform")}\n', "init 'uniform'"),
    ('NAME = "sig"\nPARAMS = {"w": (("D",), "ones")}\ndef forward(x):\n    return x, x\n'
     'def backward(dout, cache):\n    return dout, dout\n', "cannot be called with 2 arguments"),
])
def test_a_malformed_convention_is_refused_at_its_line(tmp_path, text, message):
    path = tmp_path / "layer.py"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CustomLayerError, match=message):
        load_custom_layers(path)


def test_the_file_folder_is_importable_while_it_loads(tmp_path):
    (tmp_path / "my_helpers.py").write_text("def double(a):\n    return 2 * a\n", encoding="utf-8")
    path = tmp_path / "helper_layer.py"
    path.write_text('from my_helpers import double\nNAME = "doubler"\n'
                    'def forward(x):\n    return double(x), None\n'
                    'def backward(dout, cache):\n    return double(dout)\n', encoding="utf-8")
    load_custom_layers(path)
    assert check("dense:5,doubler").passed
