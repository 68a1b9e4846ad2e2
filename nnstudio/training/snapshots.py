"""What the training loop yields: plain numbers and copied arrays, never live buffers.

A consumer on another thread (the GUI) may hold a snapshot for as long as it likes; the
trainer never touches it again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class BatchSnapshot:
    """After one optimizer step.

    ``epoch`` and ``batch`` are 1-based (the epoch in progress, the batch within it);
    ``step`` counts optimizer updates since the start; ``loss = data_loss + penalty`` on
    this batch in training mode; ``elapsed`` is seconds spent training so far (time the
    caller spends between pulls is not counted).
    """

    epoch: int
    batch: int
    batches_per_epoch: int
    step: int
    loss: float
    data_loss: float
    penalty: float
    lr: float
    elapsed: float


@dataclass(frozen=True, slots=True)
class EpochSnapshot:
    """At the end of an epoch.

    Attributes
    ----------
    epoch : int
        Number of epochs completed (1-based number of the epoch that just ended).
    step : int
        Optimizer updates so far.
    train_loss, train_data_loss : float
        Mean over the epoch's batches (weighted by batch size) of the objective and of its
        data part, in training mode, as the weights moved.
    train_metric : float
        Accuracy or R² of the training-mode outputs of the epoch's batches.
    val_loss, val_data_loss, val_metric : float or None
        On the validation split with dropout off and BatchNorm on its evaluation
        statistics (running, unless ``bn_stats="batch"``); ``val_loss`` includes the
        penalty so that it is comparable with ``train_loss``. None without a validation split.
    val_loss_other_bn, val_metric_other_bn : float or None
        The same with BatchNorm in the other statistics mode (batch statistics are taken
        over validation batches of ``batch_size``); None without BatchNorm layers.
    metric_name : {"accuracy", "r2"}
    grad_norms : dict[str, float]
        Layer label ("index:Describe") -> mean over the epoch's batches of the L2 norm of
        that layer's parameter gradients (objective including the penalty).
    lr : float
    elapsed : float
        Seconds spent training so far.
    bn_batch_stats : dict[int, tuple[ndarray, ndarray, ndarray, ndarray]]
        BatchNorm layer index -> (batch_mean, batch_var, running_mean, running_var): the
        mean and (biased) variance of the layer's input in the epoch's last full training
        batch (the remainder batch is left out: too few rows), and the running statistics
        at the end of the epoch. Copies, shape (D,) each.
    bn_batch_rows : int
        Rows of the batch those batch statistics come from.
    """

    epoch: int
    step: int
    train_loss: float
    train_data_loss: float
    train_metric: float
    val_loss: float | None
    val_data_loss: float | None
    val_metric: float | None
    val_loss_other_bn: float | None
    val_metric_other_bn: float | None
    metric_name: str
    grad_norms: dict[str, float]
    lr: float
    elapsed: float
    bn_batch_stats: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    bn_batch_rows: int = 0

    def history_entry(self) -> dict[str, Any]:
        """The JSON-safe record kept in ``Trainer.history`` (no timing, no arrays).

        Leaving wall-clock time out makes two runs with the same seed produce identical
        histories; non-finite numbers become None so the history is strict JSON.
        """
        entry = {name: getattr(self, name) for name in HISTORY_KEYS}
        entry["grad_norms"] = {label: json_float(value) for label, value in self.grad_norms.items()}
        for name in HISTORY_KEYS:
            if isinstance(entry[name], float):
                entry[name] = json_float(entry[name])
        return entry


HISTORY_KEYS = (
    "epoch", "step", "train_loss", "train_data_loss", "train_metric", "val_loss", "val_data_loss",
    "val_metric", "val_loss_other_bn", "val_metric_other_bn", "metric_name", "grad_norms", "lr",
)


@dataclass(frozen=True, slots=True)
class DivergedSnapshot:
    """Training stopped because a loss, activation or gradient became NaN or infinite.

    Attributes
    ----------
    epoch, batch, step : int
        Where it happened: 1-based epoch, batch and optimizer step that failed. After the
        restore, ``Trainer.step`` counts the updates of the weights that were kept.
    kind : {"loss", "activation", "gradient"}
    layer_index : int or None
        The first layer that produced a non-finite value (None when only the loss did).
    layer_label : str or None
        "index:Describe" of that layer.
    message : str
        A sentence for the user naming the layer, the epoch and the batch.
    elapsed : float
    """

    epoch: int
    batch: int
    step: int
    kind: str
    layer_index: int | None
    layer_label: str | None
    message: str
    elapsed: float

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def json_float(value: float | None) -> float | None:
    """A float for strict JSON: None for NaN and infinities."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
