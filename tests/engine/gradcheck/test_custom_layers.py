"""Custom layers: loaded only when asked, checked like built-ins, errors at the file's lines."""
import textwrap

import numpy as np
import pytest

from nnstudio.engine import LAYER_TYPES, build_network
from nnstudio.engine.custom_layers import CustomLayerError, load_custom_layers
from nnstudio.engine.gradcheck import GradientChecker
from nnstudio.resources import resource_path

GOOD = textwrap.dedent('''\
    import numpy as np
    from nnstudio.engine import Layer


    class Square(Layer):
        type_name = "square_test"

        def forward(self, x, ctx):
            self.cache["x"] = x
            return x * x

        def backward(self, dout):
            return 2 * self.cache["x"] * dout
''')


pytestmark = pytest.mark.usefixtures("forget_custom_layers")


def _write(tmp_path, text, name="layer.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rng_batch(features=3, n=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, features)), rng.integers(0, 2, n)


def test_a_loaded_layer_is_usable_and_checked_like_a_builtin(tmp_path):
    classes = load_custom_layers(_write(tmp_path, GOOD))
    assert [cls.__name__ for cls in classes] == ["Square"] and "square_test" in LAYER_TYPES
    network = build_network("dense:4,square_test,dense:3,tanh", 3, "classification", 2, seed=0)
    assert GradientChecker(network, *_rng_batch()).run().passed


def test_the_example_prelu_passes_and_its_own_fault_is_found():
    load_custom_layers(resource_path("examples", "prelu_layer.py"))
    network = build_network("dense:5,prelu,dense:4,prelu", 3, "classification", 2, seed=1)
    assert GradientChecker(network, *_rng_batch()).run().passed
    network.layers[3].set_fault("alpha_grad_unsummed")
    report = GradientChecker(network, *_rng_batch()).run()
    assert {t.name for t in report.tensors if t.mismatch} == {"3.alpha"}


def test_the_faulty_example_is_named_as_the_culprit_not_the_dense_before_it():
    load_custom_layers(resource_path("examples", "faulty_swish_layer.py"))
    network = build_network("dense:5,swish_faulty,dense:4,tanh", 3, "classification", 2, seed=1)
    report = GradientChecker(network, *_rng_batch()).run()
    assert {t.name for t in report.tensors if t.mismatch} == {"0.W", "0.b", "0.<input>", "1.<input>"}
    assert [(c.layer_index, c.part) for c in report.culprits] == [(1, "input")]
    assert [r.role for r in report.roles][:3] == ["affected", "culprit", "ok"]
    assert "the error enters at layer 1 Swish (faulty)" in report.format_text()


@pytest.mark.parametrize("text, line, message", [
    ("import numpy\n\nclass Broken(:\n    pass\n", 3, "syntax error"),
    ("import numpy\nx = 1\nraise RuntimeError('boom')\n", 3, "RuntimeError while running the file: boom"),
    ("def helper():\n    return 1 / 0\n\nhelper()\n", 2, "ZeroDivisionError"),
    ("import sys\nsys.exit(3)\n", 2, "SystemExit"),
    ("import numpy\nVALUE = 3\n", None, "defines no Layer subclass"),
    ("from nnstudio.engine import Layer\n\n\nclass Odd(Layer):\n    type_name = 'Not Ok'\n"
     "    def forward(self, x, ctx): return x\n    def backward(self, d): return d\n", 4, "type_name"),
    ("from nnstudio.engine import Layer\n\nclass Clash(Layer):\n    type_name = 'relu'\n"
     "    def forward(self, x, ctx): return x\n    def backward(self, d): return d\n", 3, "built-in"),
    ("from nnstudio.engine import Layer\n\nclass Half(Layer):\n    type_name = 'half'\n"
     "    def forward(self, x, ctx): return x\n", 3, "does not define backward"),
])
def test_problems_in_the_file_name_the_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text)
    with pytest.raises(CustomLayerError) as caught:
        load_custom_layers(path)
    error = caught.value
    assert isinstance(error, ValueError) and message in str(error) and str(path) in str(error)
    assert error.line == line
    if line:
        assert f"line {line}" in str(error)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="custom layer file not found"):
        load_custom_layers(tmp_path / "absent.py")


def test_binary_files_are_refused(tmp_path):
    path = tmp_path / "blob.py"
    path.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(CustomLayerError, match="not UTF-8"):
        load_custom_layers(path)
