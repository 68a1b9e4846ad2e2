"""Input gradients of layers that mix the rows of a batch: some rows element by element,
and the whole tensor along random directions.

Perturbing one element of the input of a layer followed by batch statistics (BatchNorm in
fit mode) or by a custom layer changes every later row, so each element costs a whole
evaluation of the rest of the network — the bulk of a check of a BatchNorm network. For
localization a tensor's verdict is what counts, and a wrong ``dx`` is wrong in most of its
elements: such tensors are checked on ``INPUT_ROWS`` seeded rows (all their features), and
along ``DIRECTIONS`` seeded random directions over the whole tensor, uᵀ∇L against
(L(a + h·u) − L(a − h·u)) / 2h, judged with the same second looks as an element (a
switch that flips is avoided at a smaller step, a disagreement confirmed against
truncation). A direction that disagrees fails the tensor like a mismatching element.
"""
from __future__ import annotations

import numpy as np

from .refine import Measure, decide
from .results import OK, UNVERIFIABLE, ScreenResult, TensorInfo
from .verdict import SEVERITY, VERDICT_NAMES

#: rows of a row-mixing layer's input checked element by element (all rows if fewer)
INPUT_ROWS = 4
#: random directions over the whole tensor
DIRECTIONS = 2


def sampled_rows(rows: int, columns: int, seed: int, position: int) -> np.ndarray:
    """Flat indices of INPUT_ROWS seeded rows (sorted), every column of each."""
    if rows <= INPUT_ROWS:
        return np.arange(rows * columns, dtype=np.intp)
    rng = np.random.default_rng([seed, 9, position])
    chosen = np.sort(rng.choice(rows, size=INPUT_ROWS, replace=False))
    return (chosen[:, None] * columns + np.arange(columns)[None, :]).reshape(-1).astype(np.intp)


def direction_check(objective, evaluator, info: TensorInfo, position: int) -> ScreenResult:
    """The worst of DIRECTIONS directional checks of input tensor ``info``."""
    config, k = objective.config, info.layer_index
    base, gradient = objective.boundary(k), objective.input_gradients[k]
    rng = np.random.default_rng([config.seed, 10, position])
    results = []
    for _ in range(DIRECTIONS):
        direction = rng.standard_normal(base.shape)
        direction /= np.linalg.norm(direction) or 1.0
        results.append(_one_direction(objective, evaluator, info, base, gradient, direction))
    return max(results, key=lambda r: SEVERITY.get(r.verdict, 0))


def _one_direction(objective, evaluator, info, base, gradient, direction) -> ScreenResult:
    k = info.layer_index
    analytic = np.array([float(np.vdot(direction, gradient))])
    patterns_base = objective.base.patterns

    def measure(_flat: np.ndarray, step: float) -> Measure:
        stack = np.stack([base + step * direction, base - step * direction])
        out, patterns = objective.forward_stack(stack, k)
        losses = objective.stack_loss(out)
        plus = minus = False
        units = 0
        for index, pattern in patterns.items():
            reference = patterns_base[index]
            if reference is None:
                continue
            changed_plus, changed_minus = pattern[0] != reference, pattern[1] != reference
            plus |= bool(changed_plus.any())
            minus |= bool(changed_minus.any())
            units += int((changed_plus | changed_minus).sum())
        return Measure(losses[:1], losses[1:], np.array([plus]), np.array([minus]),
                       np.array([units]))

    h = objective.config.h
    first = measure(np.zeros(1, dtype=np.intp), h)
    # uᵀ∇L may be small by chance: judge it against the typical size ‖∇L‖/√n too.
    typical = float(np.linalg.norm(gradient)) / np.sqrt(max(gradient.size, 1))
    # uᵀ∇L is small when u is nearly orthogonal to ∇L by chance: that is not a reason to
    # call it unverifiable (significant = inf); the tensor is, when the floor reaches
    # half the typical size of its elements.
    decision = decide(measure, np.zeros(1, dtype=np.intp), analytic, first, h,
                      objective.config.rtol, objective.atol + objective.config.rtol * typical,
                      objective.base.data_loss, np.inf)
    numeric = float(decision.numeric[0])
    abs_error = abs(float(analytic[0]) - numeric)
    scale = max(abs(float(analytic[0])), abs(numeric), typical)
    verdict = VERDICT_NAMES[int(decision.codes[0])]
    hidden = typical > objective.significant and float(decision.floor[0]) >= 0.5 * typical
    if verdict == OK and hidden:
        verdict = UNVERIFIABLE
    return ScreenResult(info.name, k, float(analytic[0]), numeric, abs_error,
                        abs_error / scale if scale > 0 else 0.0, verdict)
