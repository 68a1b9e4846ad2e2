"""The checked function of a whole hand-written model (cs231n's ``FullyConnectedNet``
protocol), honest by construction.

The protocol: ``model.params`` (dict name -> ndarray) and ``model.loss(X, y) -> (loss,
grads)`` with ``grads`` keyed like ``params``; optionally ``bn_params`` (a list of dicts
with ``"mode"``), ``dropout_param`` (a dict with ``"mode"`` and maybe ``"seed"``) and
``set_mode("train" | "test")``.

Every evaluation — the analytic one, f(θ+h), f(θ−h) — runs ``loss`` on a fresh deep copy
of one float64 copy of the model as it was given, so nothing the model mutates (running
statistics, a step counter, a cache) can drift between evaluations, and the model passed
in is never touched. Before each, the phase's modes are set, ``dropout_param["seed"]``
too when the model has dropout, and numpy's global generator is seeded the same way (its
state is put back afterwards), so any random draw repeats exactly.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from ..user_code import UserCodeError, call_user

PHASES = ("fit", "predict")
PHASE_MODES = {"fit": "train", "predict": "test"}
#: fit-mode passes that give a fresh model's BatchNorm running statistics those of the
#: check batch before a predict check (momentum 0.9: 0.9**60 < 0.2 %)
WARM_UP_PASSES = 60


def model_location(model: Any) -> tuple[str | None, int | None]:
    """(file, line) of the model's ``loss`` method, where contract violations are reported."""
    loss = getattr(type(model), "loss", None) or getattr(model, "loss", None)
    if loss is None:
        return None, None
    try:
        function = inspect.unwrap(loss)
        return inspect.getsourcefile(function), function.__code__.co_firstlineno
    except (TypeError, AttributeError, OSError):
        return None, None


def validate_protocol(model: Any) -> None:
    """Raise ValueError naming what the model lacks of the protocol."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params:
        raise ValueError(f"the model ({type(model).__name__}) has no non-empty 'params' dict; the "
                         "protocol is cs231n's: model.params (name -> array) and "
                         "model.loss(X, y) -> (loss, grads)")
    for name, value in params.items():
        if not isinstance(name, str):
            raise ValueError(f"model.params has a key {name!r} that is not a string")
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise ValueError(f"model.params[{name!r}] is {kind}; expected a float numpy array")
    if not callable(getattr(model, "loss", None)):
        raise ValueError(f"the model ({type(model).__name__}) has no loss(X, y) method")


def float64_copy(model: Any) -> Any:
    """A deep copy with parameters, ``dtype`` and float arrays of ``bn_params`` in float64."""
    clone = call_user(copy.deepcopy, model, context="copying the model (copy.deepcopy)")
    for name, value in clone.params.items():
        if value.dtype != np.float64:
            clone.params[name] = value.astype(np.float64)
    if isinstance(getattr(clone, "dtype", None), (type, np.dtype)):
        try:
            clone.dtype = np.float64  # cs231n casts X to model.dtype inside loss
        except AttributeError:
            pass
    for bn_param in _bn_params(clone):
        for key, value in bn_param.items():
            if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
                bn_param[key] = value.astype(np.float64)
    return clone


def _bn_params(model: Any) -> list[dict]:
    found = getattr(model, "bn_params", None)
    return [p for p in found if isinstance(p, dict)] if isinstance(found, (list, tuple)) else []


def has_dropout(model: Any) -> bool:
    param = getattr(model, "dropout_param", None)
    return isinstance(param, dict) and bool(param)


class ModelObjective:
    """L(θ) of a model in one phase: ``evaluate`` runs ``loss`` on a fresh copy.

    Parameters
    ----------
    model : object
        Left untouched (checked against the protocol, then deep-copied once).
    x : (N, D) array, y : (N,) labels (or targets)
    phase : {"fit", "predict"}
        Mode "train" or "test" for ``set_mode``, ``bn_params`` and ``dropout_param``.
    seed : int
        ``dropout_param["seed"]`` and numpy's global seed in every evaluation.

    Attributes
    ----------
    loss : float                    L(θ)
    gradients : dict name -> array  the model's own grads at θ (float64 copies)
    """

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray, phase: str, seed: int) -> None:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        validate_protocol(model)
        self.path, self.line = model_location(model)
        self.model_name = type(model).__name__
        self.phase, self.mode, self.seed = phase, PHASE_MODES[phase], int(seed)
        self.x = np.asarray(x, dtype=np.float64)
        if self.x.ndim != 2 or self.x.shape[0] < 1 or not np.all(np.isfinite(self.x)):
            raise ValueError(f"the check batch must be a finite 2-D array (N, D), got shape {self.x.shape}")
        self.y = np.asarray(y)
        self.template = float64_copy(model)
        self.shapes = {name: value.shape for name, value in self.template.params.items()}
        self.has_set_mode = callable(getattr(self.template, "set_mode", None))
        self.has_dropout = has_dropout(self.template)
        #: how the running statistics of a predict check came about (None: as given)
        self.warmed_up: str | None = None
        self._analytic: tuple[float, dict[str, np.ndarray]] | None = None

    # The model's code runs on first use, not here: a window builds this in its GUI thread
    # and evaluates in a worker.
    @property
    def ready(self) -> bool:
        """True once the analytic evaluation has run (reading ``loss`` runs no code then)."""
        return self._analytic is not None

    @property
    def loss(self) -> float:
        return self._ensure_analytic()[0]

    @property
    def gradients(self) -> dict[str, np.ndarray]:
        return self._ensure_analytic()[1]

    def _ensure_analytic(self) -> tuple[float, dict[str, np.ndarray]]:
        if self._analytic is None:
            if self.phase == "predict":
                self.warmed_up = self._warm_up()
            self._analytic = self.evaluate(with_gradients=True)
        return self._analytic

    def _warm_up(self) -> str | None:
        """A fresh model (bn_params without running statistics) would be checked at mean 0
        and variance 0 or 1, where x̂ ≈ x hides bugs that real statistics expose: run the
        model's own fit-mode loss on the batch until its running statistics are the
        batch's. Only the float64 copy changes."""
        bn_params = _bn_params(self.template)
        if not bn_params or all("running_mean" in p for p in bn_params):
            return None
        mode, self.mode = self.mode, "train"
        try:
            for _ in range(WARM_UP_PASSES):
                self._set_phase(self.template)
                state = np.random.get_state()
                np.random.seed(self.seed)
                try:
                    call_user(self.template.loss, self.x, self.y,
                              context=f"in {self.model_name}.loss(X, y)")
                finally:
                    np.random.set_state(state)
        finally:
            self.mode = mode
        return (f"the model had no running statistics: they were set by {WARM_UP_PASSES} "
                "fit-mode passes of its own loss on the check batch")

    @property
    def names(self) -> list[str]:
        return list(self.shapes)

    def evaluate(self, name: str | None = None, index: tuple[int, ...] = (), delta: float = 0.0,
                 with_gradients: bool = False):
        """The loss with ``params[name][index] += delta`` on a fresh copy (and the grads)."""
        model = call_user(copy.deepcopy, self.template, context="copying the model (copy.deepcopy)")
        self._set_phase(model)
        if name is not None:
            model.params[name][index] += delta
        state = np.random.get_state()
        np.random.seed(self.seed)
        try:
            result = call_user(model.loss, self.x, self.y, context=f"in {self.model_name}.loss(X, y)")
        finally:
            np.random.set_state(state)
        loss, grads = self._check_result(result, with_gradients)
        return (loss, grads) if with_gradients else loss

    def _set_phase(self, model: Any) -> None:
        if self.has_set_mode:
            call_user(model.set_mode, self.mode, context=f"in {self.model_name}.set_mode")
        for bn_param in _bn_params(model):
            bn_param["mode"] = self.mode
        if self.has_dropout:
            model.dropout_param["mode"] = self.mode
            model.dropout_param["seed"] = self.seed

    def _fail(self, message: str) -> None:
        raise UserCodeError(self.path, self.line, "ValueError", message,
                            f"in {self.model_name}.loss(X, y)")

    def _check_result(self, result: Any, with_gradients: bool):
        if not (isinstance(result, tuple) and len(result) == 2):
            self._fail(f"loss(X, y) returned {type(result).__name__}; expected (loss, grads)")
        loss, grads = result
        try:
            value = float(loss)
        except (TypeError, ValueError):
            self._fail(f"loss(X, y) returned a loss of type {type(loss).__name__}; expected a number")
        if not np.isfinite(value):
            self._fail(f"the loss is {value} at the model's parameters: it cannot be checked")
        if not with_gradients:
            return value, None
        if not isinstance(grads, dict):
            self._fail(f"loss(X, y) returned grads as {type(grads).__name__}; expected a dict "
                       "keyed like params")
        missing = [name for name in self.shapes if name not in grads]
        extra = [name for name in grads if name not in self.shapes]
        if missing:
            self._fail(f"grads has no entry for {', '.join(map(repr, missing))}")
        if extra:
            self._fail(f"grads has entries that are not in params: {', '.join(map(repr, extra))}")
        checked = {}
        for name, shape in self.shapes.items():
            grad = np.asarray(grads[name])
            if grad.shape != shape:
                self._fail(f"grads[{name!r}] has shape {grad.shape}, params[{name!r}] has {shape}")
            if not np.issubdtype(grad.dtype, np.number):
                self._fail(f"grads[{name!r}] has dtype {grad.dtype}; expected floats")
            checked[name] = np.array(grad, dtype=np.float64)
        return value, checked


__all__ = ["PHASES", "ModelObjective", "float64_copy", "has_dropout", "model_location",
           "validate_protocol"]
