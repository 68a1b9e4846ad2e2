"""Accuracy, R² and whole-split evaluation, shared by the trainer and the command line."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.context import BATCH, BN_STATS_MODES, RUNNING, Context, require_bn_stats
from ..engine.network import Network
from ..engine.regularization import NO_REGULARIZATION, Regularization

#: rows per forward pass when BatchNorm uses running statistics (only memory matters)
EVAL_CHUNK = 4096


def metric_name_for(task: str) -> str:
    """"accuracy" for classification, "r2" for regression."""
    if task == "classification":
        return "accuracy"
    if task == "regression":
        return "r2"
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


EVAL_SHUFFLE_SEED = 0


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive batches over ``n`` rows.

    A trailing batch of a single row is merged into the one before it: BatchNorm cannot
    take batch statistics of one sample, and one odd sample per epoch is not worth a step.
    """
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        start, _ = bounds.pop(-2)
        bounds[-1] = (start, n)
    return bounds


def sum_squares_about_mean(y: np.ndarray) -> np.ndarray:
    """Per-output total sum of squares of regression targets y: (N, D) -> (D,) float64."""
    y64 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    centered = y64 - y64.mean(axis=0)
    return np.einsum("ij,ij->j", centered, centered)


def squared_residuals(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-output sum of squared residuals: outputs (N, D), y (N, D) or (N,) -> (D,) float64."""
    diff = outputs - y.reshape(outputs.shape).astype(outputs.dtype, copy=False)
    return np.einsum("ij,ij->j", diff, diff).astype(np.float64)


def r2_from_sums(ss_res: np.ndarray, ss_tot: np.ndarray) -> float:
    """Coefficient of determination averaged over outputs, as scikit-learn's ``r2_score``.

    An output with constant targets scores 1 if predicted exactly and 0 otherwise.
    """
    ss_res, ss_tot = np.asarray(ss_res, dtype=np.float64), np.asarray(ss_tot, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                          np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


def count_correct(outputs: np.ndarray, y: np.ndarray) -> int:
    """How many rows of logits (N, C) pick the label y: (N,)."""
    return int(np.count_nonzero(outputs.argmax(axis=-1) == y))


def evaluation_batches(network: Network, n: int, bn_stats: str,
                       batch_size: int) -> tuple[np.ndarray | None, int]:
    """How ``n`` rows are evaluated: (their order (n,), or None to keep it; rows per pass).

    A layer that takes batch statistics (by ``bn_stats``, or overridden to) takes them over
    seeded batches of the training size in both modes, so that its numbers do not depend on
    the mode of the others; everything else goes in large chunks.
    """
    batched = bn_stats == BATCH or any(layer.stats == BATCH for _, layer in network.batchnorm_layers())
    if not (batched and network.batchnorm_layers()):
        return None, batch_size if batched else EVAL_CHUNK
    # a generator of its own: evaluating must not advance the trainer's random state
    return np.random.default_rng(EVAL_SHUFFLE_SEED).permutation(n), batch_size


def evaluate_arrays(network: Network, x: np.ndarray, y: np.ndarray, task: str,
                    bn_stats: str = RUNNING, batch_size: int = 32,
                    regularization: Regularization = NO_REGULARIZATION) -> dict:
    """Loss and metric of ``network`` on (x, y) with dropout off; nothing in it moves.

    Parameters
    ----------
    x : (N, D) array
    y : (N,) integer labels or (N, K) regression targets
    bn_stats : {"running", "batch"}
        BatchNorm statistics. With "batch" the rows are taken in batches of ``batch_size``
        in a fixed shuffled order, as training would see them (never in file order: a
        split sorted by class would give one-class batches); "running" uses large chunks.
    regularization
        Its penalty at the current weights is added to ``loss`` (not to ``data_loss``).

    Returns
    -------
    dict with ``loss``, ``data_loss``, ``metric``, ``metric_name``, ``n``; the numbers are
    None when the split is empty.
    """
    name = metric_name_for(task)
    n = len(x)
    if n == 0:
        return {"loss": None, "data_loss": None, "metric": None, "metric_name": name, "n": 0}
    require_bn_stats(bn_stats, "bn_stats for evaluation", BN_STATS_MODES)
    if bn_stats == BATCH and n < 2 and network.batchnorm_layers():
        # batch statistics of a single row do not exist: report nothing rather than fail
        return {"loss": None, "data_loss": None, "metric": None, "metric_name": name, "n": n}
    order, chunk = evaluation_batches(network, n, bn_stats, batch_size)
    if order is not None:
        x, y = x[order], y[order]
    loss_sum, hits = _accumulate(network, x, y, Context.inference(bn_stats=bn_stats), chunk, name)
    data_loss = loss_sum / n
    penalty = regularization.penalty(network.regularized_weights()) if regularization.active else 0.0
    metric = hits / n if name == "accuracy" else r2_from_sums(hits, sum_squares_about_mean(y))
    return {"loss": data_loss + penalty, "data_loss": data_loss, "metric": metric,
            "metric_name": name, "n": n}


def _accumulate(network: Network, x: np.ndarray, y: np.ndarray, ctx: Context, chunk: int,
                metric_name: str) -> tuple[float, Any]:
    """Row-weighted loss sum and, per metric, correct count or per-output squared residuals."""
    # hits: a count (accuracy) or, from the first chunk on, residual sums per output
    hits: Any = 0 if metric_name == "accuracy" else 0.0
    loss_sum = 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite loss is reported, not warned
        for start, stop in batch_bounds(len(x), chunk):
            outputs = network.forward(x[start:stop], ctx)
            loss_sum += float(network.loss.forward(outputs, y[start:stop])) * (stop - start)
            if metric_name == "accuracy":
                hits += count_correct(outputs, y[start:stop])
            else:
                hits = hits + squared_residuals(outputs, y[start:stop])
    for layer in network.layers:  # an evaluation must not leave activations pinned in memory
        layer.cache.clear()
    network.loss.cache.clear()
    return loss_sum, hits
