"""The report of a whole-model check: a :class:`CheckReport` (same JSON and table), with
the model's phases.

JSON: the fields of ``CheckReport.to_dict()`` for the first phase checked (fit, unless only
predict was asked for), with ``passed`` true only when every phase passed, plus
``"phases": {"fit": {...}, "predict": {...}}`` (each phase's own report without
``"format"``) and ``"phase_note"`` (why a phase was not checked, or null). Settings add
``phase``, ``mode``, ``model``, ``confirm_h``, ``set_mode``, ``dropout_seed_set`` and
``running_stats`` (how a predict check's running statistics were set, or null).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .report import CheckReport
from .results import KINK, MISMATCH, OK, ElementResult, TensorInfo
from .summary import TensorSummary
from .verdict import errors, violation

_PHASE_TEXT = {
    "fit": 'fit phase (mode "train": batch statistics, one dropout mask)',
    "predict": 'predict phase (mode "test": running statistics, dropout off)',
}


def summarize(info: TensorInfo, results: list[ElementResult], rtol: float,
              atol: float) -> TensorSummary:
    """Counts and extremes of one tensor's results, as the network checker's summaries."""
    counts = {OK: 0, KINK: 0, MISMATCH: 0}
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
                         max_abs, max_rel, worst, None)


@dataclass(frozen=True)
class ModelCheckReport(CheckReport):
    """A :class:`CheckReport` of one phase; :meth:`combine` joins the phases."""

    phase_reports: dict = field(default_factory=dict)
    note: str | None = None

    @classmethod
    def combine(cls, reports: dict[str, "ModelCheckReport"], note: str | None = None
                ) -> "ModelCheckReport":
        first = next(iter(reports.values()))
        return replace(first, phase_reports=dict(reports), note=note,
                       passed=all(r.passed for r in reports.values()),
                       complete=all(r.complete for r in reports.values()))

    @property
    def phases(self) -> dict[str, "ModelCheckReport"]:
        """phase -> its own report (just this one when it was not combined)."""
        return self.phase_reports or {self.settings["phase"]: self}

    def failing_tensors(self) -> dict[str, list[str]]:
        """phase -> names of the tensors with a mismatch (phases without any left out)."""
        found = {phase: [t.name for t in report.tensors if t.mismatch]
                 for phase, report in self.phases.items()}
        return {phase: names for phase, names in found.items() if names}

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["phases"] = {phase: {k: v for k, v in CheckReport.to_dict(report).items()
                                  if k != "format"} for phase, report in self.phases.items()}
        data["phase_note"] = self.note
        return data

    def format_text(self) -> str:
        if len(self.phases) == 1:
            text = CheckReport.format_text(self)
            return text + (f"\n{self.note}" if self.note else "")
        blocks = [CheckReport.format_text(report) for report in self.phases.values()]
        verdicts = ", ".join(f"{phase} {'PASS' if report.passed else 'FAIL'}"
                             for phase, report in self.phases.items())
        overall = f"{'PASS' if self.passed else 'FAIL'} overall ({verdicts})"
        return "\n\n".join(blocks + ([self.note] if self.note else []) + [overall])

    def _header(self) -> list[str]:
        s, totals = self.settings, self.totals
        sampled = ("all elements" if s["samples_per_tensor"] is None
                   else f"{s['samples_per_tensor']} sampled per tensor")
        seeded = f"numpy's global generator seeded with {s['seed']}"
        if s["dropout_seed_set"]:
            seeded += f" and dropout_param['seed'] = {s['seed']}"
        return [
            f"Gradient check of model {s['model']}, {_PHASE_TEXT[s['phase']]}: "
            f"{totals['checked']:,} of {totals['planned']:,} elements ({sampled}), batch "
            f"{s['batch_size']}, h={s['h']:g} (disagreements re-checked at {s['confirm_h']:g}), "
            f"rule |a-n| <= {s['atol_effective']:.2g} + {s['rtol']:g}*max(|a|,|n|)",
            f"L(theta) = {s['loss_at_theta']:.6g}: the model's own loss, with any "
            "regularization it adds",
            f"Every evaluation ran on a fresh float64 deep copy of the model; {seeded}",
        ] + ([f"Running statistics: {s['running_stats']}"] if s.get("running_stats") else [])


__all__ = ["ModelCheckReport", "summarize"]
