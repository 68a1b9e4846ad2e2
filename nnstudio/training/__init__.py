"""Headless training: a generator of snapshots that the GUI, the CLI and tests all drive.

>>> trainer = Trainer(network, dataset, TrainConfig(epochs=50))
>>> for snapshot in trainer.run():
...     if isinstance(snapshot, EpochSnapshot):
...         print(snapshot.epoch, snapshot.val_metric)
"""
from .config import TrainConfig
from .confusion import Confusion, confusion_matrix
from .metrics import batch_bounds, evaluate_arrays, metric_name_for, r2_from_sums
from .snapshots import BatchSnapshot, DivergedSnapshot, EpochSnapshot
from .trainer import Snapshot, Trainer

__all__ = [
    "BatchSnapshot", "Confusion", "DivergedSnapshot", "EpochSnapshot", "Snapshot", "TrainConfig", "Trainer",
    "batch_bounds", "confusion_matrix", "evaluate_arrays", "metric_name_for", "r2_from_sums",
]
