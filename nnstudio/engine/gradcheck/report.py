"""A finished (or partial) check as plain data: the JSON object and the terminal table.

JSON object of one phase (``CheckReport.to_dict()``), format ``"nnstudio.gradcheck/2"``:

    format       "nnstudio.gradcheck/2"
    passed       no mismatch, no unverifiable element, no failing problem
    complete     every planned element was checked
    settings     h, rtol, atol (null: from rounding), atol_scales_with_loss,
                 atol_effective (the floor used), rounding_scale, loss_at_theta, bn_stats,
                 dropout, seed, include_regularization, l1, l2, samples_per_tensor,
                 screen_first, check_inputs, batch_size, and from the command line:
                 source, faults, custom_layers
    network      {"layers": [{"index", "type", "label", "faults"}], "loss", "loss_fault",
                  "parameters"}
    totals       {"planned", "checked", "ok", "kink", "mismatch", "unverifiable"}
    culprits     where errors enter: [{"layer_index", "label", "part": "input" |
                 "parameters" | "loss" | "shape" | "nondeterministic" | "non-finite",
                 "max_rel_error", "tensors", "message"}]
    problems     [{"kind", "layer_index", "layer_label", "message", "fails"}]
    layers       per layer (and the loss, index = number of layers): index, label,
                 tensors, planned, checked, ok, kink, mismatch, unverifiable,
                 max_rel_error, status, worst, role ("culprit" | "affected" | "ok" | ...),
                 input_gradient ({"status", "max_rel_error"} or null), parameters (status)
    tensors      per tensor: name ("k.W", or "k.<input>" for the gradient layer k returns
                 for its input), layer_index, layer_label, param, kind, shape, size,
                 planned, checked, ok, kink, mismatch, unverifiable, max_abs_error,
                 max_rel_error, status, worst (element or null), screen (or null)
    screen       null, or a list of screen results: tensor, layer_index, analytic,
                 numeric, abs_error, rel_error, verdict, kinks
    mismatches   every mismatching element; kinks: every element judged "kink";
    unverifiable every element the noise floor could hide a 2x error of
    element      tensor, layer_index, index (list), flat_index, analytic, numeric,
                 abs_error, rel_error, verdict, rule (what decided it), f_plus, f_minus,
                 kinks ([{layer_index, layer_label, units, source}])

Non-finite numbers are written as null.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .culprits import Culprit, LayerRole, localize
from .labels import loss_label
from .results import INPUT_PARAM, MISMATCH, OK, UNVERIFIABLE, ElementResult, Problem, ScreenResult
from .summary import LayerSummary, TensorSummary, verdict_counts
from .verdict import RULE_TEXT, errors, violation

FORMAT = "nnstudio.gradcheck/2"
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
    unverifiable: list[ElementResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    culprits: list[Culprit] = field(default_factory=list)
    roles: list[LayerRole] = field(default_factory=list)

    @classmethod
    def from_checker(cls, checker, **extra) -> "CheckReport":
        objective = checker.objective
        network = objective.network
        settings = checker.config.to_dict()
        settings["batch_size"] = int(objective.x.shape[0])
        settings["atol_effective"] = objective.atol
        settings["rounding_scale"] = objective.rounding
        settings["loss_at_theta"] = objective.base.data_loss + objective.base.penalty
        tensors = checker.tensor_summaries()
        culprits, roles = localize(tensors, objective.problems,
                                   [layer.describe() for layer in network.layers],
                                   loss_label(network.loss))
        description = {
            "layers": [{"index": i, "type": layer.type_name, "label": layer.describe(),
                        "fault": layer.fault} for i, layer in enumerate(network.layers)],
            "loss": network.loss.type_name, "loss_fault": network.loss.fault,
            "parameters": int(network.num_parameters()),
        }
        return cls(settings, description, tensors, checker.layer_summaries(),
                   checker.screen_results, checker.mismatches(), checker.kinks(),
                   checker.passed, checker.checked >= checker.planned, dict(extra),
                   checker.unverifiable(), list(objective.problems), culprits, roles)

    @property
    def totals(self) -> dict:
        tensors = self.tensors
        return {"planned": sum(t.info.planned for t in tensors),
                "checked": sum(t.checked for t in tensors), **verdict_counts(tensors)}

    def worst_elements(self, count: int = _SHOWN_WORST) -> list[ElementResult]:
        """Mismatches, then kinks, furthest past the tolerance first."""
        rtol, atol = self.settings["rtol"], self.settings["atol_effective"]
        flagged = self.mismatches or self.unverifiable or self.kinks
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
            "culprits": [culprit.to_dict() for culprit in self.culprits],
            "problems": [problem.to_dict() for problem in self.problems],
            "layers": self._layer_dicts(),
            "tensors": [tensor.to_dict() for tensor in self.tensors],
            "screen": None if self.screen is None else [s.to_dict() for s in self.screen],
            "mismatches": [r.to_dict() for r in self.mismatches],
            "kinks": [r.to_dict() for r in self.kinks],
            "unverifiable": [r.to_dict() for r in self.unverifiable],
        }
        for key, value in self.extra.items():
            if key != "settings":
                data[key] = value
        return data

    def _layer_dicts(self) -> list[dict]:
        roles = {role.index: role for role in self.roles}
        layers = []
        for layer in self.layers:
            data = layer.to_dict()
            role = roles.get(layer.index)
            if role is not None:
                data.update(role=role.role, input_gradient=role.input_summary(),
                            parameters=role.parameters)
            layers.append(data)
        return layers

    def format_text(self) -> str:
        """The terminal table: settings, one block per layer, culprits, worst elements,
        advice, verdict."""
        lines = self._header() + [""] + self._table()
        if self.screen is not None:
            lines += [""] + self._screen_lines()
        lines += self._problem_lines() + self._culprit_lines()
        worst = self.worst_elements()
        if worst:
            title = ("Worst mismatches" if self.mismatches else
                     "Unverifiable elements" if self.unverifiable else "Kinks (not errors)")
            lines += ["", f"{title}:"] + [_element_line(r) for r in worst]
        if self.unverifiable:
            lines += ["", self.unverifiable_advice()]
        lines += ["", self._verdict_line()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's view: verdict, culprits, tensors, a heatmap per failing tensor."""
        from .report_html import report_html

        return report_html(self)

    def unverifiable_advice(self) -> str:
        s = self.settings
        names = sorted({r.tensor for r in self.unverifiable})
        return (f"Unverifiable: in {', '.join(names)} the rounding noise of the loss "
                f"(floor {s['atol_effective']:.2g} at L = {s['loss_at_theta']:.3g}) is as large "
                "as the gradients themselves, so a 2x error there would pass. This is not a "
                "pass. Bring the loss to a moderate scale — standardize the regression target "
                "and the inputs — or check at a step h closer to the square root of the "
                "noise.")

    def _problem_lines(self) -> list[str]:
        if not self.problems:
            return []
        return [""] + [("Problem: " if p.fails else "Warning: ") + p.message for p in self.problems]

    def _culprit_lines(self) -> list[str]:
        if not self.culprits:
            return []
        lines = ["", "Where the error enters:"]
        lines += [f"  {c.message}" + (f" (max rel error {c.max_rel_error:.1e})"
                                     if c.max_rel_error is not None else "")
                  for c in self.culprits]
        affected = [r for r in self.roles if r.role == "affected"]
        if affected:
            lines.append("  affected only (a wrong gradient reaches them): "
                         + ", ".join(f"{r.index} {r.label}" for r in affected))
        return lines

    # -- text parts -----------------------------------------------------------------
    def _header(self) -> list[str]:
        s, totals = self.settings, self.totals
        dropout = {"fixed": f"fixed mask (seed {s['seed']})", "off": "off",
                   "redraw": "mask re-drawn per evaluation (wrong on purpose)"}[s["dropout"]]
        reg = (f"included (l1={s['l1']:g}, l2={s['l2']:g})" if s["include_regularization"]
               else "excluded")
        floor = ("from rounding" if s["atol"] is None
                 else f"atol {s['atol']:g}" + (" x |L|" if s["atol_scales_with_loss"] else ""))
        sampled = ("all elements" if s["samples_per_tensor"] is None
                   else f"{s['samples_per_tensor']} sampled per tensor")
        return [
            f"Gradient check: {totals['checked']:,} of {totals['planned']:,} elements "
            f"({sampled}), batch {s['batch_size']}, h={s['h']:g}, "
            f"rule |a-n| <= {s['atol_effective']:.2g} + {s['rtol']:g}*max(|a|,|n|)",
            f"L(theta) = {s['loss_at_theta']:.6g}; noise floor {floor}",
            f"BatchNorm: {s['bn_stats']} statistics; dropout: {dropout}; regularization: {reg}",
        ]

    def _table(self) -> list[str]:
        head = (f"{'layer':<18} {'tensor':<7} {'shape':<11} {'checked':>8} {'ok':>8} "
                f"{'kink':>6} {'mismatch':>8} {'max rel err':>11}  status")
        roles = {role.index: role.role for role in self.roles}
        lines = [head, "-" * len(head)]
        by_layer: dict[int, list[TensorSummary]] = {}
        for tensor in self.tensors:
            by_layer.setdefault(tensor.info.layer_index, []).append(tensor)
        for layer in self.layers:
            label = f"{layer.index} {layer.label}"
            role = roles.get(layer.index)
            for position, tensor in enumerate(by_layer[layer.index]):
                shape = "x".join(str(n) for n in tensor.info.shape)
                status = tensor.status.upper() if tensor.status in (MISMATCH, UNVERIFIABLE) \
                    else tensor.status
                if position == 0 and role in ("culprit", "affected"):
                    status += f"  <- {role}"
                if tensor.info.planned == 0 and tensor.screen is not None:
                    status = f"screen {tensor.screen.verdict}, not drilled into"
                param = "dx" if tensor.info.param == INPUT_PARAM else tensor.info.param
                if tensor.info.param == INPUT_PARAM and tensor.info.layer_index == len(self.network["layers"]):
                    param = "dout"
                lines.append(
                    f"{label if position == 0 else '':<18} {param:<7} {shape:<11} "
                    f"{tensor.checked:>8,} {tensor.ok:>8,} {tensor.kink:>6,} "
                    f"{tensor.mismatch:>8,} {tensor.max_rel_error:>11.2e}  {status}")
        return lines

    def _screen_lines(self) -> list[str]:
        lines = ["Directional screen (random direction per tensor):"]
        for result in self.screen or ():
            lines.append(f"  {result.tensor:<10} analytic {result.analytic: .6e}  numeric "
                         f"{result.numeric: .6e}  rel {result.rel_error:.1e}  {result.verdict}")
        return lines

    def _verdict_line(self) -> str:
        totals = self.totals
        state = "PASS" if self.passed else "FAIL"
        partial = "" if self.complete else " (incomplete)"
        screened = ""
        if self.screen is not None:
            flagged = sum(result.verdict != OK for result in self.screen)
            screened = f"; the screen flagged {flagged} of {len(self.screen)} tensors"
        unverifiable = (f"{totals['unverifiable']:,} unverifiable, "
                        if totals["unverifiable"] else "")
        problems = sum(p.fails for p in self.problems)
        failing = f"{problems} problem{'s' if problems != 1 else ''}, " if problems else ""
        return (f"{state}{partial}: {failing}{totals['mismatch']:,} mismatches, {unverifiable}"
                f"{totals['kink']:,} kinks, {totals['ok']:,} ok of {totals['checked']:,} "
                f"checked{screened}")


def _element_line(result: ElementResult) -> str:
    kinks = "".join(f"  [{k.source} flip in {k.layer_index} {k.layer_label}: {k.units} units]"
                    for k in result.kinks)
    rule = "" if result.rule == "tolerance" else f" ({RULE_TEXT[result.rule]})"
    return (f"  {result.label:<16} analytic {result.analytic: .6e}  numeric {result.numeric: .6e}"
            f"  rel {result.rel_error:.1e}  {result.verdict}{rule}{kinks}")
