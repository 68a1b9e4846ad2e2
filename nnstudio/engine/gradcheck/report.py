"""A finished (or partial) check as plain data: the JSON object and the terminal table.

JSON object (``CheckReport.to_dict()``), format ``"nnstudio.gradcheck/1"``:

    format       "nnstudio.gradcheck/1"
    passed       true when no checked element (and no screened tensor) is a mismatch
    complete     every planned element was checked
    settings     h, rtol, atol, atol_scales_with_loss, atol_effective (the floor used:
                 atol·max(1, |L|) when scaling), loss_at_theta, bn_stats, dropout, seed,
                 include_regularization, l1, l2, samples_per_tensor, screen_first,
                 batch_size, and from the command line: source, faults, custom_layers
    network      {"layers": [{"index", "type", "label", "faults"}], "loss", "loss_fault",
                  "parameters"}
    totals       {"planned", "checked", "ok", "kink", "mismatch"}
    layers       per layer with parameters: index, label, tensors, planned, checked, ok,
                 kink, mismatch, max_rel_error, status, worst (element or null)
    tensors      per tensor: name, layer_index, layer_label, param, shape, size, planned,
                 checked, ok, kink, mismatch, max_abs_error, max_rel_error, status,
                 worst (element or null), screen (screen result or null)
    screen       null, or a list of screen results: tensor, layer_index, analytic,
                 numeric, abs_error, rel_error, verdict, kinks
    mismatches   every mismatching element; kinks: every element judged "kink"
    element      tensor, layer_index, index (list), flat_index, analytic, numeric,
                 abs_error, rel_error, verdict, f_plus, f_minus,
                 kinks ([{layer_index, layer_label, units, source}])

Non-finite numbers are written as null.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .results import KINK, MISMATCH, ElementResult, ScreenResult
from .summary import LayerSummary, TensorSummary
from .verdict import errors, violation

FORMAT = "nnstudio.gradcheck/1"
_SHOWN_WORST = 10


@dataclass(frozen=True)
class CheckReport:
    """Snapshot of a check; build it with :meth:`from_checker`."""

    settings: dict
    network: dict
    tensors: list[TensorSummary]
    layers: list[LayerSummary]
    screen: list[ScreenResult] | None
    mismatches: list[ElementResult]
    kinks: list[ElementResult]
    passed: bool
    complete: bool
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_checker(cls, checker, **extra) -> "CheckReport":
        objective = checker.objective
        network = objective.network
        settings = checker.config.to_dict()
        settings["batch_size"] = int(objective.x.shape[0])
        settings["atol_effective"] = objective.atol
        settings["loss_at_theta"] = objective.base.data_loss + objective.base.penalty
        description = {
            "layers": [{"index": i, "type": layer.type_name, "label": layer.describe(),
                        "fault": layer.fault} for i, layer in enumerate(network.layers)],
            "loss": network.loss.type_name, "loss_fault": network.loss.fault,
            "parameters": int(network.num_parameters()),
        }
        return cls(settings, description, checker.tensor_summaries(), checker.layer_summaries(),
                   checker.screen_results, checker.mismatches(), checker.kinks(),
                   checker.passed, checker.checked >= checker.planned, dict(extra))

    @property
    def totals(self) -> dict:
        tensors = self.tensors
        return {"planned": sum(t.info.planned for t in tensors),
                "checked": sum(t.checked for t in tensors), "ok": sum(t.ok for t in tensors),
                "kink": sum(t.kink for t in tensors),
                "mismatch": sum(t.mismatch for t in tensors)}

    def worst_elements(self, count: int = _SHOWN_WORST) -> list[ElementResult]:
        """Mismatches, then kinks, furthest past the tolerance first."""
        rtol, atol = self.settings["rtol"], self.settings["atol_effective"]
        flagged = self.mismatches or self.kinks
        if not flagged:
            return []
        analytic = np.array([r.analytic for r in flagged])
        numeric = np.array([r.numeric for r in flagged])
        abs_error, _, scale = errors(analytic, numeric)
        order = np.argsort(-violation(abs_error, scale, rtol, atol), kind="stable")
        return [flagged[i] for i in order[:count]]

    def to_dict(self) -> dict:
        data = {
            "format": FORMAT, "passed": self.passed, "complete": self.complete,
            "settings": {**self.settings, **self.extra.get("settings", {})},
            "network": self.network, "totals": self.totals,
            "layers": [layer.to_dict() for layer in self.layers],
            "tensors": [tensor.to_dict() for tensor in self.tensors],
            "screen": None if self.screen is None else [s.to_dict() for s in self.screen],
            "mismatches": [r.to_dict() for r in self.mismatches],
            "kinks": [r.to_dict() for r in self.kinks],
        }
        for key, value in self.extra.items():
            if key != "settings":
                data[key] = value
        return data

    def format_text(self) -> str:
        """The terminal table: settings, one block per layer, worst elements, verdict."""
        lines = self._header() + [""] + self._table()
        if self.screen is not None:
            lines += [""] + self._screen_lines()
        worst = self.worst_elements()
        if worst:
            title = "Worst mismatches" if self.mismatches else "Kinks (not errors)"
            lines += ["", f"{title}:"] + [_element_line(r) for r in worst]
        lines += ["", self._verdict_line()]
        return "\n".join(lines)

    # -- text parts -----------------------------------------------------------------
    def _header(self) -> list[str]:
        s, totals = self.settings, self.totals
        dropout = {"fixed": f"fixed mask (seed {s['seed']})", "off": "off",
                   "redraw": "mask re-drawn per evaluation (wrong on purpose)"}[s["dropout"]]
        reg = (f"included (l1={s['l1']:g}, l2={s['l2']:g})" if s["include_regularization"]
               else "excluded")
        sampled = ("all elements" if s["samples_per_tensor"] is None
                   else f"{s['samples_per_tensor']} sampled per tensor")
        return [
            f"Gradient check: {totals['checked']:,} of {totals['planned']:,} elements "
            f"({sampled}), batch {s['batch_size']}, h={s['h']:g}, "
            f"rule |a-n| <= {s['atol_effective']:.2g} + {s['rtol']:g}*max(|a|,|n|)",
            f"L(theta) = {s['loss_at_theta']:.6g}"
            + (f"; atol {s['atol']:g} x |L|" if s['atol_effective'] != s['atol'] else ""),
            f"BatchNorm: {s['bn_stats']} statistics; dropout: {dropout}; regularization: {reg}",
        ]

    def _table(self) -> list[str]:
        head = (f"{'layer':<18} {'tensor':<7} {'shape':<11} {'checked':>8} {'ok':>8} "
                f"{'kink':>6} {'mismatch':>8} {'max rel err':>11}  status")
        lines = [head, "-" * len(head)]
        by_layer: dict[int, list[TensorSummary]] = {}
        for tensor in self.tensors:
            by_layer.setdefault(tensor.info.layer_index, []).append(tensor)
        for layer in self.layers:
            label = f"{layer.index} {layer.label}"
            for position, tensor in enumerate(by_layer[layer.index]):
                shape = "x".join(str(n) for n in tensor.info.shape)
                status = tensor.status.upper() if tensor.status == MISMATCH else tensor.status
                if tensor.info.planned == 0 and tensor.screen is not None:
                    status = f"screen {tensor.screen.verdict}, not drilled into"
                lines.append(
                    f"{label if position == 0 else '':<18} {tensor.info.param:<7} {shape:<11} "
                    f"{tensor.checked:>8,} {tensor.ok:>8,} {tensor.kink:>6,} "
                    f"{tensor.mismatch:>8,} {tensor.max_rel_error:>11.2e}  {status}")
        return lines

    def _screen_lines(self) -> list[str]:
        lines = ["Directional screen (random direction per tensor):"]
        for result in self.screen:
            lines.append(f"  {result.tensor:<10} analytic {result.analytic: .6e}  numeric "
                         f"{result.numeric: .6e}  rel {result.rel_error:.1e}  {result.verdict}")
        return lines

    def _verdict_line(self) -> str:
        totals = self.totals
        state = "PASS" if self.passed else "FAIL"
        partial = "" if self.complete else " (incomplete)"
        screened = ""
        if self.screen is not None:
            flagged = sum(result.verdict != "ok" for result in self.screen)
            screened = f"; the screen flagged {flagged} of {len(self.screen)} tensors"
        return (f"{state}{partial}: {totals['mismatch']:,} mismatches, {totals['kink']:,} kinks, "
                f"{totals['ok']:,} ok of {totals['checked']:,} checked{screened}")


def _element_line(result: ElementResult) -> str:
    kinks = "".join(f"  [{k.source} flip in {k.layer_index} {k.layer_label}: {k.units} units]"
                    for k in result.kinks)
    return (f"  {result.label:<16} analytic {result.analytic: .6e}  numeric {result.numeric: .6e}"
            f"  rel {result.rel_error:.1e}  {result.verdict}{kinks}")
