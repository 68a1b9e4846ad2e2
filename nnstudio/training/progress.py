"""The part of an epoch already done: its shuffled order, position and running sums.

Kept as plain numbers plus one index array so that a project saved in the middle of an
epoch continues exactly where it stopped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class EpochProgress:
    """Running state of one epoch.

    order : (N,) int64, the permutation of training rows for this epoch
    offset : rows already trained on; batch : batches done
    sums : the epoch's accumulators (losses weighted by rows, correct predictions or
        per-output squared residuals, per-layer gradient-norm sums)
    """

    order: np.ndarray
    n_outputs: int
    n_grad_layers: int
    offset: int = 0
    batch: int = 0
    loss_sum: float = 0.0
    data_loss_sum: float = 0.0
    correct: int = 0
    ss_res: np.ndarray = field(default=None)  # type: ignore[arg-type]  # __post_init__ fills it
    grad_norm_sums: list[float] = field(default=None)  # type: ignore[arg-type]  # likewise
    # transient: the epoch's rows gathered in order, and BatchNorm statistics of the last batch
    x_ordered: np.ndarray | None = field(default=None, repr=False)
    y_ordered: np.ndarray | None = field(default=None, repr=False)
    bn_stats: dict = field(default_factory=dict, repr=False)
    #: rows of the batch whose statistics ``bn_stats`` holds
    bn_rows: int = 0
    batches: int | None = field(default=None, repr=False)  # cached batches_per_epoch

    def __post_init__(self) -> None:
        if self.ss_res is None:
            self.ss_res = np.zeros(self.n_outputs, dtype=np.float64)
        if self.grad_norm_sums is None:
            self.grad_norm_sums = [0.0] * self.n_grad_layers

    def gather(self, x: np.ndarray, y: np.ndarray) -> None:
        """Reorder the training rows once per epoch, so each batch is a cheap slice."""
        self.x_ordered = x[self.order]
        self.y_ordered = y[self.order]

    def to_json(self) -> dict[str, Any]:
        """Everything but the order array (saved as an array) and the transient parts."""
        return {
            "offset": self.offset, "batch": self.batch, "loss_sum": self.loss_sum,
            "data_loss_sum": self.data_loss_sum, "correct": self.correct,
            "ss_res": [float(v) for v in self.ss_res], "grad_norm_sums": list(self.grad_norm_sums),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], order: np.ndarray, n_rows: int, n_outputs: int,
                  n_grad_layers: int) -> "EpochProgress":
        """Rebuild and validate against the data (``n_rows`` training rows) and network."""
        order = np.asarray(order)
        if order.shape != (n_rows,) or not np.issubdtype(order.dtype, np.integer):
            raise ValueError(f"trainer state: epoch order must be {n_rows} integers (one per "
                             f"training row), got shape {order.shape} of {order.dtype}")
        if not np.array_equal(np.sort(order), np.arange(n_rows)):
            raise ValueError("trainer state: epoch order is not a permutation of the training rows")
        try:
            progress = cls(order.astype(np.int64), n_outputs, n_grad_layers,
                           offset=_count(data, "offset", n_rows), batch=_count(data, "batch", None),
                           loss_sum=_real(data, "loss_sum"), data_loss_sum=_real(data, "data_loss_sum"),
                           correct=_count(data, "correct", n_rows),
                           ss_res=np.array([float(v) for v in data["ss_res"]], dtype=np.float64),
                           grad_norm_sums=[float(v) for v in data["grad_norm_sums"]])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"trainer state: epoch progress is missing or has a bad {exc}") from None
        if progress.ss_res.shape != (n_outputs,) or len(progress.grad_norm_sums) != n_grad_layers:
            raise ValueError("trainer state: epoch sums do not fit the network")
        return progress


def _count(data: dict, key: str, maximum: int | None) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (
            maximum is not None and value > maximum):
        raise ValueError(f"trainer state: epoch progress {key} must be an integer in "
                         f"[0, {maximum if maximum is not None else '∞'}], got {value!r}")
    return value


def _real(data: dict, key: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"trainer state: epoch progress {key} must be a finite number, got {value!r}")
    return float(value)
