"""The report of one phase of a whole-model check: a :class:`CheckReport` (same JSON and
table) whose header says what was checked and how.

Settings add ``phase``, ``mode``, ``model``, ``set_mode``, ``dropout_seed_set`` and
``running_stats`` (how a predict check's running statistics were set, or null) to those of
a network check; ``rounding_scale`` is the estimate of ``ModelChecker.atol``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .report import CheckReport
from .results import KINK, MISMATCH, OK, UNVERIFIABLE, ElementResult, TensorInfo
from .summary import TensorSummary
from .verdict import errors, violation

_PHASE_TEXT = {
    "fit": 'fit phase, mode "train" (batch statistics, one dropout mask)',
    "predict": 'predict phase, mode "test" (running statistics, dropout off)',
}


def summarize(info: TensorInfo, results: list[ElementResult], rtol: float,
              atol: float) -> TensorSummary:
    """Counts and extremes of one tensor's results, as the network checker's summaries."""
    counts = {OK: 0, KINK: 0, MISMATCH: 0, UNVERIFIABLE: 0}
    for result in results:
        counts[result.verdict] += 1
    max_abs = max_rel = 0.0
    worst = None
    if results:
        analytic = np.array([r.analytic for r in results])
        numeric = np.array([r.numeric for r in results])
        abs_error, rel_error, scale = errors(analytic, numeric)
        max_abs = float(abs_error.max())
        significant = scale > atol  # below the floor a relative error is noise over noise
        max_rel = float(rel_error[significant].max()) if significant.any() else 0.0
        worst = results[int(np.argmax(violation(abs_error, scale, rtol, atol)))]
    return TensorSummary(info, len(results), counts[OK], counts[KINK], counts[MISMATCH],
                         max_abs, max_rel, worst, None, counts[UNVERIFIABLE])


@dataclass(frozen=True)
class ModelCheckReport(CheckReport):
    """A :class:`CheckReport` of one phase of a model: the header names the model."""

    def _header(self) -> list[str]:
        s, totals = self.settings, self.totals
        sampled = ("all elements" if s["samples_per_tensor"] is None
                   else f"{s['samples_per_tensor']} sampled per tensor")
        floor = ("from rounding" if s["atol"] is None
                 else f"atol {s['atol']:g}" + (" x |L|" if s["atol_scales_with_loss"] else ""))
        seeded = f"numpy's global generator seeded with {s['seed']}"
        if s["dropout_seed_set"]:
            seeded += f" and dropout_param['seed'] = {s['seed']}"
        return [
            f"Gradient check of model {s['model']}, {_PHASE_TEXT[s['phase']]}: "
            f"{totals['checked']:,} of {totals['planned']:,} elements ({sampled}), batch "
            f"{s['batch_size']}, h={s['h']:g}, "
            f"rule |a-n| <= {s['atol_effective']:.2g} + {s['rtol']:g}*max(|a|,|n|)",
            f"L(theta) = {s['loss_at_theta']:.6g} (the model's own loss, with any "
            f"regularization it adds); noise floor {floor}",
            f"Every evaluation ran on a fresh float64 deep copy of the model; {seeded}",
        ]


__all__ = ["ModelCheckReport", "summarize"]
