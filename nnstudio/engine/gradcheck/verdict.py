"""The verdict rule: a noise floor plus a relative tolerance, kinks told apart from bugs."""
from __future__ import annotations

import numpy as np

from .results import KINK, MISMATCH, OK

# Verdict codes in arrays; index into VERDICT_NAMES.
CODE_OK, CODE_KINK, CODE_MISMATCH = 0, 1, 2
VERDICT_NAMES: tuple[str, ...] = (OK, KINK, MISMATCH)


def errors(analytic: np.ndarray, numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absolute error, relative error and scale max(|a|, |n|), element-wise.

    analytic, numeric: (P,) -> three arrays (P,). The relative error is 0 where both
    values are exactly 0 (nothing to compare), so it never divides by zero.
    """
    abs_error = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_error = np.where(scale > 0, abs_error / np.where(scale > 0, scale, 1.0), 0.0)
    return abs_error, rel_error, scale


def classify(abs_error: np.ndarray, scale: np.ndarray, kinked: np.ndarray,
             rtol: float, atol: float) -> np.ndarray:
    """Verdict codes (P,): ok when |a−n| ≤ atol + rtol·scale, else kink if a switch flipped.

    A non-finite error is a mismatch unless a kink explains it.
    """
    within = abs_error <= atol + rtol * scale  # False for NaN: never silently "ok"
    codes = np.where(kinked, CODE_KINK, CODE_MISMATCH)
    return np.where(within, CODE_OK, codes).astype(np.int8)


def violation(abs_error: np.ndarray, scale: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """How far past the tolerance: |a−n| / (atol + rtol·scale); > 1 fails. Orders "worst"."""
    bound = atol + rtol * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = abs_error / np.where(bound > 0, bound, np.finfo(float).tiny)
    return np.where(np.isnan(ratio), np.inf, ratio)
