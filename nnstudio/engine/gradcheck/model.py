"""Gradient check of a whole hand-written model (cs231n's ``FullyConnectedNet`` protocol).

    report = nnstudio.check_model(model, X, y)        # fit phase, and predict if it can
    print(report.format_text()); report.passed; report.to_dict()

The model's own ``grads`` are compared, element by element, with central differences of
its own ``loss`` (see :mod:`.model_objective` for why every evaluation is a fresh deep
copy). Tensors are named by the model's keys (``W1``, ``gamma1``); the verdict uses the
checker's rule (:mod:`.verdict`). A disagreement is confirmed at a second step h/10: a
wrong gradient stays wrong, while one that agrees at h/10 was a switch (a ReLU) inside
the step, reported as "kink". The predict phase (mode "test") is checked too when the
model has ``set_mode`` and its ``loss(X, y)`` honours it (the loss differs between modes).
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import numpy as np

from .config import DEFAULT_ATOL, DEFAULT_H, DEFAULT_RTOL, CheckConfig
from .model_objective import ModelObjective
from .model_report import ModelCheckReport, summarize
from .results import KINK, MISMATCH, ElementResult, TensorInfo
from .summary import LayerSummary, TensorSummary
from .verdict import CODE_KINK, CODE_MISMATCH, CODE_OK, VERDICT_NAMES, classify, errors, violation

UNTIL = ("element", "tensor", "layer", "mismatch", "end")
CONFIRM_FACTOR = 10.0
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def layer_groups(names: list[str], model_name: str = "model") -> dict[str, tuple[int, str]]:
    """name -> (layer index, label). cs231n keys end in their layer number (W1, gamma1):
    those are layer N of the model; any other key is a group of its own, numbered after."""
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
    ``passed``, ``atol``, ``config``), so the window can show it in the same view.
    """

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
        self.started = time.perf_counter()

    def _plan(self, size: int, position: int) -> np.ndarray:
        k = self.config.samples_per_tensor
        if k is None or k >= size:
            return np.arange(size, dtype=np.intp)
        rng = np.random.default_rng([self.config.seed, 1, position])
        return np.sort(rng.choice(size, size=k, replace=False)).astype(np.intp)

    # -- state ----------------------------------------------------------------------
    @property
    def atol(self) -> float:
        """The noise floor atol·max(1, |L|); evaluates the model's loss on first use."""
        scale = max(1.0, abs(self.objective.loss)) if self.config.atol_scales_with_loss else 1.0
        return self.config.atol * scale

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
        return not any(r.verdict == MISMATCH for results in self._results for r in results)

    def mismatches(self) -> list[ElementResult]:
        return [r for results in self._results for r in results if r.verdict == MISMATCH]

    def kinks(self) -> list[ElementResult]:
        return [r for results in self._results for r in results if r.verdict == KINK]

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
        """Check everything left; the report of this phase."""
        for _ in self.advance("end"):
            pass
        return self.report()

    def _check(self, position: int, flat: int) -> ElementResult:
        info = self.tensors[position]
        index = tuple(int(i) for i in np.unravel_index(flat, info.shape))
        analytic = float(self.objective.gradients[info.name][index])
        h = self.config.h
        f_plus = self.objective.evaluate(info.name, index, h)
        f_minus = self.objective.evaluate(info.name, index, -h)
        numeric = (f_plus - f_minus) / (2 * h)
        code = self._code(analytic, numeric)
        if code != CODE_OK:
            # Confirm at h/10: a wrong gradient stays wrong; a switch inside the step does not.
            small = h / CONFIRM_FACTOR
            confirm = (self.objective.evaluate(info.name, index, small)
                       - self.objective.evaluate(info.name, index, -small)) / (2 * small)
            code = CODE_MISMATCH if self._code(analytic, confirm) != CODE_OK else CODE_KINK
        abs_error, rel_error, _ = errors(np.array([analytic]), np.array([numeric]))
        return ElementResult(info.name, info.layer_index, index, flat, analytic, numeric,
                             float(abs_error[0]), float(rel_error[0]), VERDICT_NAMES[code],
                             f_plus, f_minus)

    def _code(self, analytic: float, numeric: float) -> int:
        abs_error, _, scale = errors(np.array([analytic]), np.array([numeric]))
        return int(classify(abs_error, scale, np.array([False]), self.config.rtol, self.atol)[0])

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
            worst = max((s for s in members if s.worst is not None),
                        key=lambda s: float(violation(
                            np.array([s.worst.abs_error]),
                            np.array([max(abs(s.worst.analytic), abs(s.worst.numeric))]),
                            self.config.rtol, atol)[0]), default=None)
            layers.append(LayerSummary(
                index, members[0].info.layer_label, tuple(s.name for s in members),
                sum(s.info.planned for s in members), sum(s.checked for s in members),
                sum(s.ok for s in members), sum(s.kink for s in members),
                sum(s.mismatch for s in members), max(s.max_rel_error for s in members),
                None if worst is None else worst.worst))
        return layers

    def report(self) -> ModelCheckReport:
        objective = self.objective
        settings = {
            "h": self.config.h, "confirm_h": self.config.h / CONFIRM_FACTOR,
            "rtol": self.config.rtol, "atol": self.config.atol,
            "atol_scales_with_loss": self.config.atol_scales_with_loss,
            "atol_effective": self.atol, "loss_at_theta": objective.loss, "phase": self.phase,
            "mode": objective.mode, "bn_stats": "batch" if self.phase == "fit" else "running",
            "dropout": "fixed" if self.phase == "fit" else "off", "seed": int(self.config.seed),
            "include_regularization": True, "l1": None, "l2": None,
            "samples_per_tensor": self.config.samples_per_tensor, "screen_first": False,
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
                                {"elapsed_seconds": round(time.perf_counter() - self.started, 4)})


def check_model(model: Any, X: np.ndarray, y: np.ndarray, *, h: float = DEFAULT_H,
                rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, seed: int = 0,
                samples_per_tensor: int | None = None, phases: tuple[str, ...] | None = None
                ) -> ModelCheckReport:
    """Check a hand-written model's gradients; the model is left bit-identical.

    Parameters
    ----------
    model : object with ``params`` and ``loss(X, y) -> (loss, grads)`` (cs231n protocol)
    X : (N, D) array, y : (N,) labels
    h, rtol, atol : the checker's step and verdict rule (atol scales with max(1, |L|))
    seed : int     dropout seed and numpy's global seed in every evaluation; sampling
    samples_per_tensor : int, optional   check k seeded elements per tensor, not all
    phases : ("fit",), ("predict",) or ("fit", "predict"); default fit, plus predict when
        the model has ``set_mode`` and ``loss`` honours it

    Returns
    -------
    ModelCheckReport (a CheckReport): the fit phase's tensors, with ``phases`` when both ran;
    ``passed`` is True only when every checked phase passed.
    """
    config = CheckConfig(h=h, rtol=rtol, atol=atol, seed=seed, samples_per_tensor=samples_per_tensor)
    checkers = {}
    note = None
    for phase in phases or ("fit", "predict"):
        checker = ModelChecker(model, X, y, config, phase)
        if phases is None and phase == "predict":
            fit = checkers["fit"].objective if "fit" in checkers else None
            if not checker.objective.has_set_mode:
                note = ("predict phase not checked: the model has no set_mode('train' | 'test') "
                        "(cs231n's loss(X, y) always trains when y is given)")
                break
            if fit is not None and checker.objective.loss == fit.loss:
                note = ("predict phase not checked: loss(X, y) is the same after set_mode('test') "
                        "as after set_mode('train'), so it does not honour the mode or nothing "
                        "in the model depends on it")
                break
        checkers[phase] = checker
    reports = {phase: checker.run() for phase, checker in checkers.items()}
    return ModelCheckReport.combine(reports, note)


__all__ = ["ModelChecker", "check_model", "layer_groups"]
