"""Other layer-function shapes: a parameter-free layer (bare dx) and cs231n's affine with units."""
import textwrap

import pytest

from nnstudio.grading import Grader, load_assignment

from .conftest import student

RELU = textwrap.dedent('''
    import numpy as np

    def relu_forward(x):
        return np.maximum(0, x), x

    def relu_backward(dout, x):
        return dout * (x > 0)
''')

AFFINE = textwrap.dedent('''
    import numpy as np

    def affine_forward(x, w, b):
        return x @ w + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout, dout.sum(axis=0)
''')


def _grader(tmp_path, functions, reference):
    (tmp_path / "ref.py").write_text(reference)
    (tmp_path / "a.toml").write_text(textwrap.dedent(f'''
        [assignment]
        file = "layers.py"
        reference = "ref.py"
        [functions]
        {functions}
        [data]
        batch = 5
        features = 3
        [[checks]]
        name = "gradients"
        points = 2
        seed = 5
        [[checks]]
        name = "reference"
        kind = "reference"
        seed = 6
    '''))
    return Grader(load_assignment(tmp_path / "a.toml"), "process")


def test_a_parameter_free_layer_returns_a_bare_dx(tmp_path):
    grader = _grader(tmp_path, 'forward = "relu_forward"\nbackward = "relu_backward"', RELU)
    assert grader.grade(student(tmp_path / "s", "ok", None, **{"layers.py": RELU})).status == "passed"
    leaky = RELU.replace("dout * (x > 0)", "dout * (x > 0) + 0.1 * dout * (x <= 0)")
    grade = grader.grade(student(tmp_path / "s", "leaky", None, **{"layers.py": leaky}))
    assert grade.status == "failed" and [t.name for t in grade.checks[0].tensors] == ["dx"]


@pytest.mark.parametrize("bug, culprit", [("x.T @ dout", "dw"), ("dout.sum(axis=0)", "db")])
def test_an_affine_layer_with_units_changes_the_width(tmp_path, bug, culprit):
    functions = ('forward = "affine_forward"\nbackward = "affine_backward"\nunits = 4\n'
                 'output = "units"\n'
                 'params = { w = { shape = ["D", "units"] }, b = { shape = ["units"], init = "zeros" } }')
    grader = _grader(tmp_path, functions, AFFINE)
    assert grader.grade(student(tmp_path / "s", "ok", None, **{"layers.py": AFFINE})).status == "passed"
    wrong = AFFINE.replace(bug, f"0.5 * {bug}")
    grade = grader.grade(student(tmp_path / "s", "bug", None, **{"layers.py": wrong}))
    bad = [t.name for t in grade.checks[0].tensors if t.status != "ok"]
    assert grade.status == "failed" and bad == [culprit]
