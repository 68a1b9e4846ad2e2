"""Second looks: what decides an element whose first comparison at step h disagrees.

- **A switch flipped** (ReLU, LeakyReLU, an L1 sign): try h/10, h/100, h/1000; at the
  first step that crosses no switch the element is judged by the ordinary rule there
  (floor scaled by h/step) — ok ("kink avoided") or mismatch ("kink ruled out"). If every
  step still crosses one, the switch sits at θ itself: the one-sided slope on the side
  that does not flip must agree ("one-sided", a real kink); if both sides flip, the
  element is a kink only when the analytic value lies between the two slopes, else it
  cannot be decided ("kink unresolved", unverifiable). A kink never excuses an error the
  switch does not explain — at h = 0.1 almost every element crosses some switch.
- **No switch flipped**: truncation error shrinks like h², a wrong backward does not. The
  element is re-estimated with the fourth-order difference (8(f₊−f₋) − (f₊₂−f₋₂))/12h,
  then with central differences at h/10 and h/100 while their error keeps shrinking; it
  is ok ("truncation") if one agrees, and a mismatch ("confirmed") otherwise. The same
  second look applies to a step that avoided a switch but still disagrees.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .verdict import (CODE_KINK, CODE_MISMATCH, CODE_OK, CODE_UNVERIFIABLE, RULE_CONFIRMED,
                      RULE_KINK_AVOIDED, RULE_KINK_RULED_OUT, RULE_KINK_UNRESOLVED,
                      RULE_NOISE_FLOOR, RULE_ONE_SIDED, RULE_TOLERANCE, RULE_TRUNCATION, agrees,
                      classify, errors, unverifiable)

#: smaller steps tried when a switch flips, as divisors of h
KINK_STEPS = (10.0, 100.0, 1000.0)
#: one-sided differences have truncation error O(step), not O(step²): a looser rtol
ONE_SIDED_RTOL_FACTOR = 10.0


@dataclass
class Measure:
    """Objective changes at θ+s and θ−s for P elements (penalty base left out of both).

    plus, minus : (P,)  L(θ±s) − penalty(θ)
    flip_plus, flip_minus : bool (P,)  some switch at θ±s differs from θ
    units : (P,) int   switch units that flipped on either side
    """

    plus: np.ndarray
    minus: np.ndarray
    flip_plus: np.ndarray
    flip_minus: np.ndarray
    units: np.ndarray

    def central(self, step: float) -> np.ndarray:
        return (self.plus - self.minus) / (2 * step)

    @property
    def flipped(self) -> np.ndarray:
        return self.flip_plus | self.flip_minus


Measurer = Callable[[np.ndarray, float], Measure]


@dataclass
class Decision:
    """codes, rules (int8 (P,)), the estimate each verdict used, and the floor it had."""

    codes: np.ndarray
    rules: np.ndarray
    numeric: np.ndarray
    floor: np.ndarray


def decide(measure: Measurer, flat: np.ndarray, analytic: np.ndarray, first: Measure,
           h: float, rtol: float, floor: float, f0: float, significant: float) -> Decision:
    """Verdicts for P elements of one tensor, measured first at step h.

    measure(flat subset, step) evaluates further steps; ``f0`` is L(θ) − penalty(θ).
    """
    numeric = first.central(h)
    abs_error, _, scale = errors(analytic, numeric)
    codes = classify(abs_error, scale, first.flipped, rtol, floor)
    rules = np.full(flat.size, RULE_TOLERANCE, dtype=np.int8)
    floors = np.full(flat.size, floor)
    kinked = np.flatnonzero(codes == CODE_KINK)
    if kinked.size:
        _resolve_kinks(measure, flat, analytic, kinked, h, rtol, floor, f0,
                       codes, rules, numeric, floors)
    doubtful = np.flatnonzero((codes == CODE_MISMATCH) & (rules == RULE_TOLERANCE))
    if doubtful.size:
        _confirm(measure, flat, analytic, first, doubtful, h, rtol, floor, codes, rules, numeric)
    hidden = unverifiable(codes, analytic, floors, significant)
    codes[hidden] = CODE_UNVERIFIABLE
    rules[hidden] = RULE_NOISE_FLOOR
    return Decision(codes, rules, numeric, floors)


def _resolve_kinks(measure, flat, analytic, pending, h, rtol, floor, f0,
                   codes, rules, numeric, floors) -> None:
    last: tuple[np.ndarray, Measure, float, float] | None = None
    for factor in KINK_STEPS:
        step = h / factor
        m = measure(flat[pending], step)
        clean = ~m.flipped
        estimate = m.central(step)
        ok = agrees(analytic[pending], estimate, rtol, floor * factor)
        # A clean step that still disagrees may only be truncation at that step.
        doubt = np.flatnonzero(clean & ~ok)
        if doubt.size:
            settled, better = _truncation(measure, flat[pending[doubt]], analytic[pending[doubt]],
                                          _subset(m, doubt), step, rtol, floor * factor)
            ok[doubt] = settled
            estimate[doubt] = better
        done = pending[clean]
        codes[done] = np.where(ok[clean], CODE_OK, CODE_MISMATCH)
        rules[done] = np.where(ok[clean], RULE_KINK_AVOIDED, RULE_KINK_RULED_OUT)
        numeric[done] = estimate[clean]
        floors[done] = floor * factor
        last = (pending[~clean], _subset(m, ~clean), step, factor)
        pending = pending[~clean]
        if not pending.size:
            return
    assert last is not None  # KINK_STEPS is not empty
    rows, m, step, factor = last
    a = analytic[rows]
    slope_plus, slope_minus = (m.plus - f0) / step, (f0 - m.minus) / step
    one_sided_floor = 2 * floor * factor
    loose = rtol * ONE_SIDED_RTOL_FACTOR
    plus_ok = ~m.flip_plus & agrees(a, slope_plus, loose, one_sided_floor)
    minus_ok = ~m.flip_minus & agrees(a, slope_minus, loose, one_sided_floor)
    one_clean = ~m.flip_plus | ~m.flip_minus
    low, high = np.minimum(slope_plus, slope_minus), np.maximum(slope_plus, slope_minus)
    between = (~one_clean) & (a >= low - one_sided_floor) & (a <= high + one_sided_floor)
    explained = plus_ok | minus_ok | between
    codes[rows] = np.where(explained, CODE_KINK,
                           np.where(one_clean, CODE_MISMATCH, CODE_UNVERIFIABLE))
    rules[rows] = np.where(explained, RULE_ONE_SIDED,
                           np.where(one_clean, RULE_KINK_RULED_OUT, RULE_KINK_UNRESOLVED))
    clean_slope = np.where(~m.flip_plus, slope_plus, slope_minus)
    numeric[rows] = np.where(one_clean & ~explained, clean_slope, numeric[rows])
    floors[rows] = one_sided_floor


def _confirm(measure, flat, analytic, first, rows, h, rtol, floor, codes, rules, numeric) -> None:
    truncation, better = _truncation(measure, flat[rows], analytic[rows], _subset(first, rows),
                                     h, rtol, floor)
    codes[rows[truncation]] = CODE_OK
    rules[rows] = np.where(truncation, RULE_TRUNCATION, RULE_CONFIRMED)
    numeric[rows] = better


def _truncation(measure, flat, a, first: Measure, h, rtol, floor) -> tuple[np.ndarray, np.ndarray]:
    """Whether the disagreement at step h (no switch crossed) is truncation error, and the
    better estimate: the fourth-order difference, then central differences at h/10 and
    h/100 whose error must shrink (at least tenfold per step; truncation shrinks 100x)."""
    at_h = first.central(h)
    wide = measure(flat, 2 * h)
    fourth = (8 * (first.plus - first.minus) - (wide.plus - wide.minus)) / (12 * h)
    settled = ~wide.flipped & agrees(a, fourth, rtol, 1.5 * floor)
    better = np.where(settled, fourth, at_h)
    previous_error = np.abs(a - at_h)
    pending = np.flatnonzero(~settled)
    for factor in (10.0, 100.0):
        if not pending.size:
            break
        step = h / factor
        narrow = measure(flat[pending], step)
        estimate = narrow.central(step)
        error = np.abs(a[pending] - estimate)
        shrinking = error <= 0.1 * previous_error[pending]
        ok = ~narrow.flipped & shrinking & agrees(a[pending], estimate, rtol, factor * floor)
        settled[pending[ok]] = True
        better[pending[ok]] = estimate[ok]
        keep = shrinking & ~ok & ~narrow.flipped   # still converging: look once more
        previous_error[pending] = error
        pending = pending[keep]
    return settled, better


def _subset(m: Measure, keep: np.ndarray) -> Measure:
    return Measure(m.plus[keep], m.minus[keep], m.flip_plus[keep], m.flip_minus[keep],
                   m.units[keep])

