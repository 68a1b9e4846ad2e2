"""Fit and predict: one check covers both ways a network with BatchNorm or Dropout runs.

- **fit**: batch statistics, one dropout mask drawn from the seed and replayed;
- **predict**: running statistics, dropout off. On a network that has never been trained
  (running mean 0, variance 1) the normalisation would be the identity, hiding mistakes
  such as ``dgamma = sum(x·dout)`` in place of ``sum(x̂·dout)``: the predict phase then
  uses the population statistics of the check batch, and the report says so.

A network without such layers behaves the same in both phases and is checked once.

    report = check_network(network, x, y)          # CheckConfig() defaults, both phases
    report.passed, report.phases["predict"].culprits
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..context import BATCH, RUNNING
from ..layers import BatchNorm, Dropout
from ..network import Network
from ..user_code import call_user
from .checker import GradientChecker
from .config import CheckConfig
from .culprits import Culprit
from .guard import is_builtin
from .report import FORMAT, CheckReport
from .stress import relabel, stress_checks

FIT, PREDICT, SELECTED = "fit", "predict", "selected"
PHASE_TEXT = {FIT: "fit: batch statistics, one fixed dropout mask",
              PREDICT: "predict: running statistics, dropout off",
              SELECTED: "the statistics and dropout mode chosen"}
PHASE_CHOICES = ("auto", "both", FIT, PREDICT)
LOW_VARIANCE = "fit, features at variance ≈ eps"


def phase_dependent(network: Network) -> bool:
    """Whether the network computes differently in fit and predict (BatchNorm, Dropout,
    or a custom layer, which may: its code decides)."""
    return any(isinstance(layer, (BatchNorm, Dropout)) or not is_builtin(layer)
               for layer in network.layers)


def phase_config(config: CheckConfig, phase: str) -> CheckConfig:
    if phase == FIT:
        return replace(config, bn_stats=BATCH, dropout="fixed")
    if phase == PREDICT:
        return replace(config, bn_stats=RUNNING, dropout="off")
    return config


def choose_phases(network: Network, phases: str = "auto") -> tuple[str, ...]:
    """"auto"/"both": fit and predict when they differ (else fit alone); or one phase."""
    if phases == SELECTED:
        return (SELECTED,)
    if phases not in PHASE_CHOICES:
        raise ValueError(f"phases must be one of {PHASE_CHOICES}, got {phases!r}")
    if phases in (FIT, PREDICT):
        return (phases,)
    return (FIT, PREDICT) if phase_dependent(network) else (FIT,)


def _normalizers(network: Network) -> list:
    """Layers keeping running statistics as buffers ``running_mean`` / ``running_var``:
    BatchNorm, and custom layers following the same convention."""
    return [layer for layer in network.layers
            if {"running_mean", "running_var"} <= set(layer.buffers)]


def never_trained(network: Network) -> bool:
    """Every normalizer still has running mean 0 and variance 1 (nothing was learned)."""
    layers = _normalizers(network)
    return bool(layers) and all(
        np.all(layer.buffers["running_mean"] == 0) and np.all(layer.buffers["running_var"] == 1)
        for layer in layers)


def predict_network(network: Network, x: np.ndarray) -> tuple[Network, list[str]]:
    """The network the predict phase checks, and what was done to it (said in the report)."""
    if not never_trained(network) or len(x) < 2:
        return network, []
    realistic = network.copy(np.float64)
    call_user(realistic.recompute_population_statistics, np.asarray(x, dtype=np.float64),
              context="in forward, recomputing running statistics for the predict phase")
    return realistic, ["the network was never trained (running mean 0, variance 1, which "
                       "would make the normalisation the identity): the predict phase uses "
                       "the population statistics of the check batch instead"]


def phase_checker(network: Network, x: np.ndarray, y: np.ndarray, config: CheckConfig,
                  phase: str, rng: np.random.Generator | None = None,
                  only=None) -> tuple[GradientChecker, list[str]]:
    """A GradientChecker for one phase, with the notes the report should carry."""
    notes: list[str] = []
    if phase == PREDICT:
        network, notes = predict_network(network, x)
    return GradientChecker(network, x, y, phase_config(config, phase), rng=rng, only=only), notes


@dataclass
class PhasedReport:
    """The reports of every phase checked; passed only when all passed.

    ``stress`` holds, per BatchNorm-like layer, the fit-phase check of that layer alone on
    features squeezed to variance ≈ eps (see ``stress``).
    """

    phases: dict[str, CheckReport]
    notes: dict[str, list[str]] = field(default_factory=dict)
    stress: dict[int, CheckReport] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(report.passed for report in self.phases.values()) \
            and all(report.passed for report in self.stress.values())

    @property
    def culprits(self) -> list[tuple[str, Culprit]]:
        found = [(name, c) for name, report in self.phases.items() for c in report.culprits]
        for index, report in self.stress.items():
            found += [(LOW_VARIANCE, c) for c in relabel(report.culprits, index)]
        return found

    def to_dict(self) -> dict:
        phases = {}
        for name, report in self.phases.items():
            data = report.to_dict()
            data["notes"] = list(self.notes.get(name, []))
            phases[name] = data
        stress = [{"layer_index": index, "passed": report.passed, "totals": report.totals,
                   "culprits": [c.to_dict() for c in relabel(report.culprits, index)],
                   "problems": [p.to_dict() for p in report.problems]}
                  for index, report in self.stress.items()]
        return {"format": FORMAT, "status": "ok", "passed": self.passed,
                "phases": phases, "low_variance": stress,
                "culprits": [dict(c.to_dict(), phase=name) for name, c in self.culprits]}

    def format_text(self) -> str:
        blocks = []
        for name, report in self.phases.items():
            title = f"== {PHASE_TEXT[name]} =="
            notes = [f"Note: {note}" for note in self.notes.get(name, [])]
            blocks.append("\n".join([title] + notes + [report.format_text()]))
        if self.stress:
            blocks.append(self._stress_text())
        verdicts = ", ".join(f"{name} {'PASS' if r.passed else 'FAIL'}"
                             for name, r in self.phases.items())
        if self.stress:
            low = all(r.passed for r in self.stress.values())
            verdicts += f", low variance {'PASS' if low else 'FAIL'}"
        state = "PASS" if self.passed else "FAIL"
        blocks.append(f"{state} ({verdicts})")
        return "\n\n".join(blocks)

    def _stress_text(self) -> str:
        lines = ["== BatchNorm-like layers alone, on features with variance ≈ eps =="]
        for index, report in self.stress.items():
            totals = report.totals
            state = "PASS" if report.passed else "FAIL"
            lines.append(f"  layer {index}: {state}: {totals['mismatch']} mismatches, "
                         f"{totals['unverifiable']} unverifiable of {totals['checked']} checked")
            lines += [f"    {c.message}" for c in relabel(report.culprits, index)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's view (``report_html``): each phase's verdict, culprits, tensors, heatmaps."""
        from .report_html import phased_html

        return phased_html(self)


def check_network(network: Network, x: np.ndarray, y: np.ndarray,
                  config: CheckConfig | None = None, phases: str = "auto",
                  rng: np.random.Generator | None = None) -> PhasedReport:
    """Check every element in each phase (see the module docstring); the network is left
    bit-identical. ``phases``: "auto"/"both", "fit", "predict", or "selected" (one check
    with ``config``'s own bn_stats and dropout)."""
    config = config if config is not None else CheckConfig()
    reports, notes, stress = {}, {}, {}
    for phase in choose_phases(network, phases):
        checker, phase_notes = phase_checker(network, x, y, config, phase, rng)
        reports[phase] = checker.run()
        notes[phase] = phase_notes
        if phase == FIT and not checker.objective.problems:
            stress = stress_checks(checker, config)
    return PhasedReport(reports, notes, stress)
