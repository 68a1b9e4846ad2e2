"""Gradient check of a whole hand-written model (cs231n's ``FullyConnectedNet`` protocol).

    report = nnstudio.check_model(model, X, y)        # fit phase, and predict if it can
    print(report.format_text()); report.passed; report.phases["fit"].to_dict()

The model's own ``grads`` are compared, element by element, with central differences of
its own ``loss`` (see :mod:`.model_objective` for why every evaluation is a fresh deep
copy). Tensors are named by the model's keys (``W1``, ``gamma1``). The verdicts are the
network checker's (:mod:`.verdict`, :func:`.refine.decide`): a disagreement at h is only a
mismatch once a fourth-order difference and smaller steps confirm it (truncation and a
ReLU switching inside the step both vanish there; a wrong gradient does not), and an
element whose noise floor could hide a 2x error is "unverifiable", never "ok". The floor
comes from the rounding error of an evaluation, estimated from what a black box shows:
|L|, its parameters and their gradients. The result is a :class:`PhasedReport`, as for a
network: the fit phase, and the predict phase (mode "test") when the model has
``set_mode`` and its ``loss(X, y)`` honours it (the loss differs between modes).
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import numpy as np

from ..context import BATCH, RUNNING
from .checker import element_plan
from .config import DEFAULT_ATOL, DEFAULT_H, DEFAULT_RTOL, CheckConfig
from .model_objective import ModelObjective
from .model_report import ModelCheckReport, summarize
from .phases import FIT, PREDICT, PhasedReport
from .refine import Measure, decide
from .report import CheckReport
from .results import KINK, MISMATCH, UNVERIFIABLE, ElementResult, TensorInfo
from .summary import LayerSummary, TensorSummary
from .verdict import NEGLIGIBLE, RULES, VERDICT_NAMES, errors, noise_floor, violation

UNTIL = ("element", "tensor", "layer", "mismatch", "end")
#: rounding of a model's hidden activations is unseen: count it as large as that of its
#: parameters (for an affine layer Σ|x·dx| and Σ|W·dW| are of one size)
HIDDEN_ROUNDING_FACTOR = 2.0
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def layer_groups(names: list[str], model_name: str = "model") -> dict[str, tuple[int, str]]:
    """name -> (layer index, label). cs231n keys end in their layer number (W1, gamma1):
    those are layer N of the model; any other key is a group of its own, numbered after."""
    if len(model_name) > 15:  # the report's layer column
        model_name = model_name[:14] + "…"
    numbers = {name: int(m.group(2)) for name in names if (m := _NUMBERED.match(name))}
    following = max(numbers.values(), default=0) + 1
    found = {}
    for name in names:
        if name in numbers:
            found[name] = (numbers[name], model_name)
        else:
            found[name] = (following, name)
            following += 1
    return found


class ModelChecker:
    """Element-by-element check of one phase of a model, as a resumable stream.

    Offers the stepping interface of :class:`GradientChecker` (``tensors``, ``advance``,
    ``tensor_summaries``, ``layer_summaries``, ``checked``, ``planned``, ``finished``,
    ``passed``, ``atol``, ``config``, ``problems``), so the window can show it in the same
    view. ``localizes`` is False: without the gradients a model's layers return for their
    inputs, no culprit can be named; the mismatching tensors say where to look.
    """

    localizes = False

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray, config: CheckConfig | None = None,
                 phase: str = "fit") -> None:
        self.config = config if config is not None else CheckConfig()
        self.objective = ModelObjective(model, x, y, phase, self.config.seed)
        self.phase = phase
        groups = layer_groups(self.objective.names, self.objective.model_name)
        self.tensors: list[TensorInfo] = []
        self._plans: list[np.ndarray] = []
        for position, (name, shape) in enumerate(self.objective.shapes.items()):
            size = int(np.prod(shape, dtype=np.int64))
            plan = self._plan(size, position)
            index, label = groups[name]
            self.tensors.append(TensorInfo(name, index, label, name, tuple(shape), int(plan.size)))
            self._plans.append(plan)
        self._results: list[list[ElementResult]] = [[] for _ in self.tensors]
        self._cursor = (0, 0)
        self.screen_results = None
        self.problems: list = []
        self.rounding: float | None = None
        self._floor: float | None = None
        self.started = time.perf_counter()

    def _plan(self, size: int, position: int) -> np.ndarray:
        return element_plan(size, self.config, position)

    # -- state ----------------------------------------------------------------------
    @property
    def atol(self) -> float:
        """The noise floor; evaluates the model's loss on first use.

        ``config.atol`` None (default): FLOOR_SAFETY·ε·S/h with the rounding scale
        S = |L| + 1 + 2·Σ|θ·∂L/∂θ| (what a black box shows of ``analytic.rounding_scale``);
        else the configured atol (times max(1, |L|) with ``atol_scales_with_loss``).
        """
        objective, config = self.objective, self.config
        if self._floor is None:
            spread = sum(float(np.abs(objective.template.params[name] * grad).sum())
                         for name, grad in objective.gradients.items())
            self.rounding = abs(objective.loss) + 1.0 + HIDDEN_ROUNDING_FACTOR * spread
            self._floor = noise_floor(self.rounding, config.h, config.atol, objective.loss,
                                      config.atol_scales_with_loss)
        return self._floor

    @property
    def significant(self) -> float:
        """|gradient| below this is negligible: never "unverifiable" (NEGLIGIBLE × largest)."""
        largest = max((float(np.abs(g).max()) for g in self.objective.gradients.values()
                       if g.size), default=0.0)
        return NEGLIGIBLE * largest

    @property
    def planned(self) -> int:
        return sum(info.planned for info in self.tensors)

    @property
    def checked(self) -> int:
        return sum(len(results) for results in self._results)

    @property
    def finished(self) -> bool:
        return self.checked >= self.planned

    @property
    def passed(self) -> bool:
        return not any(r.verdict in (MISMATCH, UNVERIFIABLE)
                       for results in self._results for r in results)

    def mismatches(self) -> list[ElementResult]:
        return [r for results in self._results for r in results if r.verdict == MISMATCH]

    def kinks(self) -> list[ElementResult]:
        return [r for results in self._results for r in results if r.verdict == KINK]

    def unverifiable(self) -> list[ElementResult]:
        return [r for results in self._results for r in results if r.verdict == UNVERIFIABLE]

    # -- driving --------------------------------------------------------------------
    def advance(self, until: str = "element") -> Iterator[ElementResult]:
        """Yield one result per element until (and including) the stop point."""
        if until not in UNTIL:
            raise ValueError(f"until must be one of {UNTIL}, got {until!r}")
        yielded = False
        while self._cursor[0] < len(self.tensors):
            position, element = self._cursor
            if element >= len(self._plans[position]):
                self._cursor = (position + 1, 0)
                following = self.tensors[position + 1] if position + 1 < len(self.tensors) else None
                if yielded and (until == "tensor" or (until == "layer" and (
                        following is None
                        or following.layer_index != self.tensors[position].layer_index))):
                    return
                continue
            result = self._check(position, int(self._plans[position][element]))
            self._results[position].append(result)
            self._cursor = (position, element + 1)
            yielded = True
            yield result
            if until == "element" or (until == "mismatch" and result.verdict == MISMATCH):
                return

    def run(self) -> ModelCheckReport:
        """Check everything left; the report of this phase (a CheckReport)."""
        for _ in self.advance("end"):
            pass
        return self.report()

    def _check(self, position: int, flat: int) -> ElementResult:
        info = self.tensors[position]
        objective = self.objective
        analytic = float(objective.gradients[info.name].reshape(-1)[flat])
        h = self.config.h

        def measure(flats: np.ndarray, step: float) -> Measure:
            """L(θ ± step) per element; a black box shows no switches."""
            plus, minus = [], []
            for element in flats:
                index = tuple(int(i) for i in np.unravel_index(int(element), info.shape))
                plus.append(objective.evaluate(info.name, index, step))
                minus.append(objective.evaluate(info.name, index, -step))
            none = np.zeros(len(flats), dtype=bool)
            return Measure(np.array(plus), np.array(minus), none, none,
                           np.zeros(len(flats), dtype=np.int64))

        flats = np.array([flat])
        first = measure(flats, h)
        decision = decide(measure, flats, np.array([analytic]), first, h, self.config.rtol,
                          self.atol, objective.loss, self.significant)
        numeric = float(decision.numeric[0])
        abs_error, rel_error, _ = errors(np.array([analytic]), np.array([numeric]))
        index = tuple(int(i) for i in np.unravel_index(flat, info.shape))
        return ElementResult(info.name, info.layer_index, index, flat, analytic, numeric,
                             float(abs_error[0]), float(rel_error[0]),
                             VERDICT_NAMES[int(decision.codes[0])], float(first.plus[0]),
                             float(first.minus[0]), (), RULES[int(decision.rules[0])])

    # -- summaries --------------------------------------------------------------------
    def tensor_summaries(self) -> list[TensorSummary]:
        atol = self.atol if self.checked else 0.0  # nothing to judge yet: run no user code
        return [summarize(info, results, self.config.rtol, atol)
                for info, results in zip(self.tensors, self._results)]

    def layer_summaries(self) -> list[LayerSummary]:
        summaries = self.tensor_summaries()
        atol = self.atol if self.checked else 0.0
        layers: list[LayerSummary] = []
        for index in dict.fromkeys(info.layer_index for info in self.tensors):
            members = [s for s in summaries if s.info.layer_index == index]
            worst = max((s.worst for s in members if s.worst is not None),
                        key=lambda w: float(violation(
                            np.array([w.abs_error]),
                            np.array([max(abs(w.analytic), abs(w.numeric))]),
                            self.config.rtol, atol)[0]), default=None)
            layers.append(LayerSummary(
                index, members[0].info.layer_label, tuple(s.name for s in members),
                sum(s.info.planned for s in members), sum(s.checked for s in members),
                sum(s.ok for s in members), sum(s.kink for s in members),
                sum(s.mismatch for s in members), max(s.max_rel_error for s in members),
                worst, sum(s.unverifiable for s in members)))
        return layers

    def report(self) -> ModelCheckReport:
        objective = self.objective
        atol = self.atol
        settings = {
            "h": self.config.h, "rtol": self.config.rtol, "atol": self.config.atol,
            "atol_scales_with_loss": self.config.atol_scales_with_loss,
            "atol_effective": atol, "rounding_scale": self.rounding,
            "loss_at_theta": objective.loss, "phase": self.phase,
            "mode": objective.mode, "bn_stats": BATCH if self.phase == FIT else RUNNING,
            "dropout": "fixed" if self.phase == FIT else "off", "seed": int(self.config.seed),
            "include_regularization": True, "l1": None, "l2": None,
            "samples_per_tensor": self.config.samples_per_tensor, "screen_first": False,
            "check_inputs": False,
            "batch_size": int(objective.x.shape[0]), "model": objective.model_name,
            "set_mode": objective.has_set_mode, "dropout_seed_set": objective.has_dropout,
            "running_stats": objective.warmed_up,
        }
        network = {"layers": [{"index": layer.index, "type": "model", "label": layer.label,
                               "fault": None} for layer in self.layer_summaries()],
                   "loss": f"{objective.model_name}.loss", "loss_fault": None,
                   "parameters": int(sum(info.size for info in self.tensors))}
        return ModelCheckReport(settings, network, self.tensor_summaries(), self.layer_summaries(),
                                None, self.mismatches(), self.kinks(), self.passed, self.finished,
                                {"elapsed_seconds": round(time.perf_counter() - self.started, 4)},
                                self.unverifiable())


def check_model(model: Any, X: np.ndarray, y: np.ndarray, *, h: float = DEFAULT_H,
                rtol: float = DEFAULT_RTOL, atol: float | None = DEFAULT_ATOL, seed: int = 0,
                samples_per_tensor: int | None = None, phases: tuple[str, ...] | None = None
                ) -> PhasedReport:
    """Check a hand-written model's gradients; the model is left bit-identical.

    Parameters
    ----------
    model : object with ``params`` and ``loss(X, y) -> (loss, grads)`` (cs231n protocol)
    X : (N, D) array, y : (N,) labels
    h, rtol : the checker's step and relative tolerance
    atol : a fixed noise floor; None (default) estimates it from rounding
    seed : int     dropout seed and numpy's global seed in every evaluation; sampling
    samples_per_tensor : int, optional   check k seeded elements per tensor, not all
    phases : ("fit",), ("predict",) or ("fit", "predict"); default fit, plus predict when
        the model has ``set_mode`` and ``loss`` honours it

    Returns
    -------
    PhasedReport: ``phases`` {"fit": CheckReport, "predict": ...} with tensors named by the
    model's keys, ``notes`` (why a phase was not checked), ``passed`` when all passed.
    """
    config = CheckConfig(h=h, rtol=rtol, atol=atol, seed=seed, samples_per_tensor=samples_per_tensor)
    checkers: dict[str, ModelChecker] = {}
    notes: dict[str, list[str]] = {}
    for phase in phases or (FIT, PREDICT):
        checker = ModelChecker(model, X, y, config, phase)
        if phases is None and phase == PREDICT:
            if not checker.objective.has_set_mode:
                notes[FIT] = ["the predict phase is not checked: the model has no "
                              "set_mode('train' | 'test') (cs231n's loss(X, y) always trains "
                              "when y is given)"]
                break
            if checker.objective.loss == checkers[FIT].objective.loss:
                notes[FIT] = ["the predict phase is not checked: loss(X, y) is the same after "
                              "set_mode('test') as after set_mode('train'), so it does not "
                              "honour the mode or nothing in the model depends on it"]
                break
        checkers[phase] = checker
    reports: dict[str, CheckReport] = {phase: checker.run() for phase, checker in checkers.items()}
    for phase, report in reports.items():
        if report.settings.get("running_stats"):
            notes.setdefault(phase, []).append(report.settings["running_stats"])
    return PhasedReport(reports, notes)


__all__ = ["ModelChecker", "check_model", "layer_groups"]
