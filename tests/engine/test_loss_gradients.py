"""Losses against centered differences in float64, and their numerical stability."""
import numpy as np
import pytest

from nnstudio.engine import MeanSquaredError, SoftmaxCrossEntropy

from .numeric import numeric_gradient, relative_error


def test_cross_entropy_gradient():
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    loss = SoftmaxCrossEntropy()
    loss.forward(logits, labels)
    analytic = loss.backward()
    numeric = numeric_gradient(lambda: float(loss.forward(logits, labels)), logits)
    assert relative_error(analytic, numeric) < 1e-8


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]])
    value = SoftmaxCrossEntropy().forward(logits, np.array([0, 2]))
    assert np.isfinite(value)
    assert value == pytest.approx(1e4 / 2)


def test_cross_entropy_matches_the_definition():
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((5, 3)), np.array([0, 1, 2, 1, 0])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probs[np.arange(5), labels]))
    assert SoftmaxCrossEntropy().forward(logits, labels) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_gives_one_value_per_leading_copy():
    rng = np.random.default_rng(2)
    stack, labels = rng.standard_normal((3, 5, 4)), rng.integers(0, 4, 5)
    loss = SoftmaxCrossEntropy()
    values = loss.forward(stack, labels)
    assert values.shape == (3,)
    for i in range(3):
        assert values[i] == pytest.approx(SoftmaxCrossEntropy().forward(stack[i], labels), rel=1e-12)


@pytest.mark.parametrize("shape", [(6, 1), (6, 3)])
def test_mse_gradient(shape):
    rng = np.random.default_rng(3)
    out, target = rng.standard_normal(shape), rng.standard_normal(shape)
    loss = MeanSquaredError()
    loss.forward(out, target)
    analytic = loss.backward()
    numeric = numeric_gradient(lambda: float(loss.forward(out, target)), out)
    assert relative_error(analytic, numeric) < 1e-8


def test_mse_accepts_a_flat_target_for_one_output():
    out = np.array([[1.0], [2.0]])
    assert MeanSquaredError().forward(out, np.array([0.0, 0.0])) == pytest.approx(2.5)
