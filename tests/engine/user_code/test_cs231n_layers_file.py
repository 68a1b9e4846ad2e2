"""A student's whole cs231n layers.py loads as it is: one layer per pair present."""
import shutil

import numpy as np
import pytest

from nnstudio.engine import LAYER_TYPES, build_network
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker, check_network
from nnstudio.resources import resource_path

ALL = ["cs231n_affine", "cs231n_relu", "cs231n_batchnorm", "cs231n_layernorm", "cs231n_dropout"]


def copy_package(tmp_path):
    target = tmp_path / "cs231n"
    shutil.copytree(resource_path("examples", "cs231n"), target)
    return target


def run_check(spec, bn_stats="batch"):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    network = build_network(spec, 5, "classification", 3, seed=0)
    return GradientChecker(network, x, y, CheckConfig(bn_stats=bn_stats)).run()


def test_every_pair_registers_with_the_assignment_shapes(tmp_path):
    package = copy_package(tmp_path)
    classes = load_custom_layers(package / "layers.py")  # imports .layer_utils_helpers
    assert [cls.type_name for cls in classes] == ALL and all(n in LAYER_TYPES for n in ALL)
    network = build_network("cs231n_affine:6,cs231n_batchnorm,cs231n_relu,cs231n_dropout:0.8,"
                            "cs231n_layernorm", 5, "classification", 3)
    shapes = {name: value.shape for _, name, value, _ in network.named_parameters()}
    assert shapes["0.w"] == (5, 6) and shapes["0.b"] == (6,) and shapes["1.gamma"] == (6,)
    assert network.layers[3].layer_param["p"] == 0.8
    small = build_network("cs231n_affine:4,cs231n_batchnorm,cs231n_relu,cs231n_dropout:0.8,"
                          "cs231n_affine:4,cs231n_layernorm", 5, "classification", 3, seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    report = check_network(small, x, y)  # the default: fit and predict
    assert report.passed and set(report.phases) == {"fit", "predict"}


@pytest.mark.parametrize("old, new, spec", [
    ("db = row_sums(dout)", "db = row_sums(dout) / dout.shape[0]", "cs231n_affine:6,cs231n_relu"),
    ("return dout * (x > 0)", "return dout * (x >= -1)", "cs231n_affine:6,cs231n_relu"),
    ("N * dxhat - dxhat.sum(axis=0) -", "N * dxhat -", "cs231n_affine:6,cs231n_batchnorm"),
    ("return dout * mask", "return dout", "cs231n_affine:6,cs231n_dropout:0.6"),
])
def test_a_planted_bug_in_a_pair_fails(tmp_path, old, new, spec):
    package = copy_package(tmp_path)
    layers = package / "layers.py"
    text = layers.read_text(encoding="utf-8")
    assert old in text
    layers.write_text(text.replace(old, new), encoding="utf-8")
    load_custom_layers(layers)
    assert not run_check(spec).passed


def test_only_the_pairs_present_register_and_other_functions_are_ignored(tmp_path):
    path = tmp_path / "layers.py"
    path.write_text("import numpy as np\n"
                    "def relu_forward(x):\n    return np.maximum(x, 0), x\n"
                    "def relu_backward(dout, cache):\n    return dout * (cache > 0)\n"
                    "def affine_forward(x, w, b):\n    return x @ w + b, None\n"   # no backward
                    "def conv_forward_naive(x, w, b, p):\n    return x, None\n", encoding="utf-8")
    assert [cls.type_name for cls in load_custom_layers(path)] == ["cs231n_relu"]
