"""The verdict rule: a noise floor from rounding, a relative tolerance, and second looks.

A first comparison at step h sorts elements into agree / disagree. A disagreement is never
the verdict by itself (see ``refine``): a kink excuses it only when the switch explains it,
and a mismatch is only called after a second estimate confirms it.
"""
from __future__ import annotations

import numpy as np

from .results import KINK, MISMATCH, OK, UNVERIFIABLE

# Verdict codes in arrays; index into VERDICT_NAMES.
CODE_OK, CODE_KINK, CODE_MISMATCH, CODE_UNVERIFIABLE = 0, 1, 2, 3
VERDICT_NAMES: tuple[str, ...] = (OK, KINK, MISMATCH, UNVERIFIABLE)
VERDICT_CODES: dict[str, int] = {name: code for code, name in enumerate(VERDICT_NAMES)}
#: how bad a verdict is (higher: worse): a tensor's or layer's status is the worst verdict
#: among its elements
SEVERITY: dict[str, int] = {OK: 0, KINK: 1, UNVERIFIABLE: 2, MISMATCH: 3}

# Which rule decided (a column of the result store; index into RULES).
(RULE_TOLERANCE, RULE_TRUNCATION, RULE_CONFIRMED, RULE_KINK_AVOIDED, RULE_KINK_RULED_OUT,
 RULE_ONE_SIDED, RULE_NOISE_FLOOR, RULE_KINK_UNRESOLVED) = range(8)
RULES: tuple[str, ...] = ("tolerance", "truncation", "confirmed", "kink avoided",
                          "kink ruled out", "one-sided", "noise floor", "kink unresolved")
RULE_TEXT: dict[str, str] = {
    "tolerance": "compared at step h",
    "truncation": "the error at h shrank like h²: a higher-order difference (or h/10) agrees",
    "confirmed": "disagrees at h, and again with a higher-order difference and at h/10",
    "kink avoided": "a switch flipped at h; a smaller step that crosses none agrees",
    "kink ruled out": "a switch flipped at h; a smaller step that crosses none still disagrees",
    "one-sided": "a switch sits at θ itself; the one-sided slopes account for the difference",
    "noise floor": "rounding noise of the evaluations could hide a 2x error here",
    "kink unresolved": "switches flip on both sides even at h/1000; the slopes do not explain "
                       "the difference, and no step can tell",
}

#: numpy's float64 machine epsilon, the unit of rounding error.
EPS = float(np.finfo(np.float64).eps)
#: floor = FLOOR_SAFETY · ε · S / h, S from ``analytic.rounding_scale``; measured in
#: bench/gradcheck_tolerances.py (0 false alarms in 10,000 correct networks).
FLOOR_SAFETY = 4.0
#: |analytic| below this fraction of the network's largest gradient is negligible: such an
#: element is never "unverifiable" (a Dense bias before BatchNorm has gradient 0).
NEGLIGIBLE = 1e-6


def noise_floor(rounding: float, h: float, atol: float | None = None, loss: float = 0.0,
                scales_with_loss: bool = False) -> float:
    """The absolute floor of the rule: FLOOR_SAFETY·ε·S/h from the rounding scale S of one
    evaluation, or a fixed ``atol`` (times max(1, |L|) when ``scales_with_loss``)."""
    if atol is None:
        return FLOOR_SAFETY * EPS * rounding / h
    return atol * (max(1.0, abs(loss)) if scales_with_loss else 1.0)


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


def agrees(analytic: np.ndarray, numeric: np.ndarray, rtol: float, floor: float) -> np.ndarray:
    """|a − n| ≤ floor + rtol·max(|a|, |n|), element-wise; False for NaN."""
    abs_error, _, scale = errors(analytic, numeric)
    return abs_error <= floor + rtol * scale


def classify(abs_error: np.ndarray, scale: np.ndarray, kinked: np.ndarray,
             rtol: float, atol: float) -> np.ndarray:
    """First-look codes (P,): ok when |a−n| ≤ atol + rtol·scale, else kink if a switch
    flipped, else mismatch. A non-finite error is never "ok"."""
    within = abs_error <= atol + rtol * scale  # False for NaN: never silently "ok"
    codes = np.where(kinked, CODE_KINK, CODE_MISMATCH)
    return np.where(within, CODE_OK, codes).astype(np.int8)


def unverifiable(codes: np.ndarray, analytic: np.ndarray, floor,
                 significant: float) -> np.ndarray:
    """Elements judged ok whose gradient matters (|a| > ``significant``) but whose floor
    would let a 2x error pass: claimed 2g against true g differs by |a|/2."""
    return (codes == CODE_OK) & (np.abs(analytic) > significant) & (floor >= 0.5 * np.abs(analytic))


def violation(abs_error: np.ndarray, scale: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """How far past the tolerance: |a−n| / (atol + rtol·scale); > 1 fails. Orders "worst"."""
    bound = atol + rtol * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = abs_error / np.where(bound > 0, bound, np.finfo(float).tiny)
    return np.where(np.isnan(ratio), np.inf, ratio)
