"""Centered differences in float64 and relative error, shared by the engine tests."""
import numpy as np


def numeric_gradient(f, array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f() / d array by centered differences, perturbing ``array`` in place."""
    grad = np.zeros_like(array, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        try:
            array[index] = original + h
            f_plus = f()
            array[index] = original - h
            f_minus = f()
        finally:
            array[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max(|a|, |b|) over all elements, with a floor against 0/0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / scale)
