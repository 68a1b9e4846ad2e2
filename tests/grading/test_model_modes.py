"""A model with running statistics and ``set_mode``: its test phase is checked on statistics
from a few training passes, so a test-mode-only backward bug is caught."""
import textwrap

from nnstudio.grading import Grader, load_assignment

from .conftest import student

MODEL = textwrap.dedent('''
    import numpy as np

    class Normed:
        """scores = ((X - mean) / std) @ W + b, softmax loss; batch statistics in train mode."""
        def __init__(self, input_dim, num_classes):
            rng = np.random.default_rng(0)
            self.params = {"W": 0.5 * rng.standard_normal((input_dim, num_classes)),
                           "b": np.zeros(num_classes)}
            self.running = (np.zeros(input_dim), np.ones(input_dim))
            self.mode = "train"

        def set_mode(self, mode):
            self.mode = mode

        def loss(self, X, y):
            if self.mode == "train":
                mean, var = X.mean(0), X.var(0)
                self.running = (0.9 * self.running[0] + 0.1 * mean, 0.9 * self.running[1] + 0.1 * var)
            else:
                mean, var = self.running
            std = np.sqrt(var + 1e-5)
            xn = (X - mean) / std
            scores = xn @ self.params["W"] + self.params["b"]
            p = np.exp(scores - scores.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            n = len(y)
            loss = -np.log(p[np.arange(n), y]).mean()
            d = p.copy()
            d[np.arange(n), y] -= 1
            d /= n
            return loss, {"W": xn.T @ d, "b": d.sum(0)}

    def make_model(input_dim, num_classes):
        return Normed(input_dim, num_classes)
''')

ASSIGNMENT = '''
[assignment]
file = "net.py"
convention = "model"
reference = "reference.py"

[data]
batch = 10
features = 3

[[checks]]
name = "train"
mode = "train"
seed = 1

[[checks]]
name = "test"
mode = "test"
seed = 2
'''


def test_test_mode_uses_trained_statistics_and_catches_a_test_only_bug(tmp_path):
    (tmp_path / "reference.py").write_text(MODEL)
    (tmp_path / "a.toml").write_text(ASSIGNMENT)
    grader = Grader(load_assignment(tmp_path / "a.toml"), "process")
    good = grader.grade(student(tmp_path / "s", "good", None, **{"net.py": MODEL}))
    assert good.status == "passed"
    # using the input instead of the normalised input in dW only matters where they differ
    bad_source = MODEL.replace('{"W": xn.T @ d', '{"W": (X if self.mode == "test" else xn).T @ d')
    bad = grader.grade(student(tmp_path / "s", "bad", None, **{"net.py": bad_source}))
    assert bad.status == "failed"
    assert [c.passed for c in bad.checks] == [True, False]
    assert "W is wrong" in bad.checks[1].message
