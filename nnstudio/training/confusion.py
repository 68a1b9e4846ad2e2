"""Which class a classifier confuses with which: a confusion matrix with per-class recall,
and the rows behind every cell (so a student can look at the misclassified rows)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.context import Context
from ..engine.network import Network
from .metrics import batch_bounds, evaluation_batches


@dataclass(frozen=True)
class Confusion:
    """Counts of (true class, predicted class) over one split.

    Attributes
    ----------
    matrix : ndarray, int64, shape (K, K)
        ``matrix[i, j]`` rows of true class i predicted as class j.
    predicted : ndarray, int64, shape (N,)
        Predicted class per row of the split, in the split's row order.
    labels : ndarray, int64, shape (N,)
    """

    matrix: np.ndarray
    predicted: np.ndarray
    labels: np.ndarray

    @property
    def recall(self) -> np.ndarray:
        """Per true class: share of its rows predicted right, (K,) float64 (NaN: no rows)."""
        totals = self.matrix.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, np.diag(self.matrix) / np.maximum(totals, 1), np.nan)

    @property
    def accuracy(self) -> float:
        total = int(self.matrix.sum())
        return float(np.trace(self.matrix) / total) if total else float("nan")

    def rows(self, true_class: int, predicted_class: int) -> np.ndarray:
        """Positions within the split of the rows counted in cell (true, predicted)."""
        return np.flatnonzero((self.labels == true_class) & (self.predicted == predicted_class))


def predicted_classes(network: Network, x: np.ndarray, bn_stats: str = "running",
                      batch_size: int = 32) -> np.ndarray:
    """Class per row (N,), with BatchNorm statistics as the validation numbers take them:
    running statistics in large chunks, batch statistics over seeded batches of
    ``batch_size`` (so the matrix agrees with the reported accuracy)."""
    n = len(x)
    order, chunk = evaluation_batches(network, n, bn_stats, batch_size)
    order = np.arange(n) if order is None else order
    ctx = Context.inference(bn_stats=bn_stats)
    predicted = np.empty(n, dtype=np.int64)
    for start, stop in batch_bounds(n, chunk):
        rows = order[start:stop]
        predicted[rows] = network.forward(x[rows], ctx).argmax(axis=-1)
    for layer in network.layers:
        layer.cache.clear()
    network.loss.cache.clear()
    return predicted


def confusion_matrix(network: Network, x: np.ndarray, y: np.ndarray, n_classes: int,
                     bn_stats: str = "running", batch_size: int = 32) -> Confusion:
    """The :class:`Confusion` of ``network`` on (x (N, D), y (N,) class indices)."""
    labels = np.asarray(y, dtype=np.int64).reshape(-1)
    predicted = predicted_classes(network, x, bn_stats, batch_size) if len(x) else labels[:0]
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return Confusion(matrix, predicted, labels)
