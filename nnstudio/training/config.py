"""Training settings: one validated, immutable value that saves to and loads from JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..engine.context import AUTO, BATCH, BN_STATS_MODES, RUNNING, require_bn_stats
from ..engine.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from ..engine.regularization import Regularization


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of a training run.

    Attributes
    ----------
    optimizer : {"adam", "sgd"}
    lr : float
        Learning rate, > 0.
    momentum : float
        SGD momentum in [0, 1); ignored by Adam.
    nesterov : bool
        Nesterov momentum for SGD (needs ``momentum > 0``); ignored by Adam.
    l1, l2 : float
        Penalty weights, >= 0; ``penalty = l1·Σ|W| + (l2/2)·Σ W²`` over Dense weights.
    batch_size : int
        Samples per optimizer step, >= 1. A trailing batch of one sample is merged into the
        batch before it, because BatchNorm cannot take batch statistics of one sample.
    epochs : int
        Target number of completed epochs for :meth:`Trainer.run` without an argument.
    seed : int
        Seeds the trainer's one ``numpy.random.Generator`` (shuffling and dropout masks).
        Weight initialisation is seeded when the network is built.
    bn_stats : {"auto", "batch", "running"}
        Network-wide BatchNorm statistics during training steps; "auto" uses batch
        statistics in training and running statistics for evaluation.
    predict_bn_stats : {"running", "batch"}
        BatchNorm statistics for predictions, validation numbers and the gradient checker
        (the window's one switch); ``bn_stats="batch"`` forces batch statistics everywhere.
    """

    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    l1: float = 0.0
    l2: float = 0.0
    batch_size: int = 32
    epochs: int = 100
    seed: int = 0
    bn_stats: str = AUTO
    predict_bn_stats: str = RUNNING

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        _set(self, "lr", _number("lr", self.lr, minimum=0.0, inclusive=False))
        _set(self, "momentum", _number("momentum", self.momentum, minimum=0.0, below=1.0))
        _set(self, "l1", _number("l1", self.l1, minimum=0.0))
        _set(self, "l2", _number("l2", self.l2, minimum=0.0))
        if not isinstance(self.nesterov, bool):
            raise ValueError(f"nesterov must be true or false, got {self.nesterov!r}")
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        _set(self, "batch_size", _integer("batch_size", self.batch_size, minimum=1))
        _set(self, "epochs", _integer("epochs", self.epochs, minimum=0))
        _set(self, "seed", _integer("seed", self.seed, minimum=0))
        require_bn_stats(self.bn_stats)
        require_bn_stats(self.predict_bn_stats, "predict_bn_stats", BN_STATS_MODES)

    # -- derived objects ----------------------------------------------------------
    def make_optimizer(self) -> Optimizer:
        """A fresh optimizer with these settings (Adam ignores momentum and Nesterov)."""
        if self.optimizer == "sgd":
            return make_optimizer("sgd", lr=self.lr, momentum=self.momentum, nesterov=self.nesterov)
        return make_optimizer(self.optimizer, lr=self.lr)

    def regularization(self) -> Regularization:
        return Regularization(l1=self.l1, l2=self.l2)

    @property
    def eval_bn_stats(self) -> str:
        """BatchNorm statistics of predictions and the headline validation numbers:
        ``predict_bn_stats``, unless the network-wide setting forces batch statistics."""
        return BATCH if self.bn_stats == BATCH else self.predict_bn_stats

    def with_eval_bn_stats(self, mode: str) -> "TrainConfig":
        """These settings with predictions/validation on ``mode`` ("running" or "batch")."""
        require_bn_stats(mode, "BatchNorm statistics", BN_STATS_MODES)
        # "batch" everywhere would override the choice: training keeps batch statistics
        bn_stats = AUTO if self.bn_stats == BATCH else self.bn_stats
        return replace(self, bn_stats=bn_stats, predict_bn_stats=mode)

    # -- plain data ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Recreate from :meth:`to_dict`; unknown keys are refused, missing ones take defaults."""
        if not isinstance(data, dict):
            raise ValueError(f"training settings must be an object, got {type(data).__name__}")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def _set(config: TrainConfig, name: str, value: Any) -> None:
    # Normalising (e.g. numpy ints to int) inside a frozen dataclass's own validation.
    object.__setattr__(config, name, value)


def _number(name: str, value: Any, minimum: float, inclusive: bool = True,
            below: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    too_small = number < minimum if inclusive else number <= minimum
    if not math.isfinite(number) or too_small or (below is not None and number >= below):
        bounds = f"[{minimum:g}, {below:g})" if below is not None else (
            f">= {minimum:g}" if inclusive else f"> {minimum:g}")
        raise ValueError(f"{name} must be a finite number {bounds}, got {value!r}")
    return number


def _integer(name: str, value: Any, minimum: int) -> int:
    try:
        integral = not isinstance(value, bool) and int(value) == value
    except (TypeError, ValueError, OverflowError):
        integral = False
    if not integral or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
