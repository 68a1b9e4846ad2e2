"""Row-by-row evaluation for input-gradient checks.

Perturbing element (n, d) of a layer's input changes only row n of every later output as
long as no later layer mixes rows: Dense, the activations, BatchNorm on running
statistics and inactive dropout work row by row. Then only row n needs to run, and the
change of the loss is the change of row n's term — computed as a difference of row terms,
which also keeps the rounding error of the rest of the batch out of it.
"""
from __future__ import annotations

import numpy as np

from ..context import Context
from ..layers import BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from ..losses import MeanSquaredError, SoftmaxCrossEntropy

_ROW_TYPES: tuple[type[Layer], ...] = (Dense, ReLU, LeakyReLU, Tanh, Sigmoid)


def is_row_layer(layer: Layer, ctx: Context) -> bool:
    """Whether ``layer`` (exact built-in types only) keeps the rows of a batch apart."""
    kind = type(layer)
    if kind in _ROW_TYPES:
        return True
    # type(layer) rather than kind: the type checker narrows layer on it
    if type(layer) is BatchNorm:
        return not layer.uses_batch_stats(ctx)
    if type(layer) is Dropout:
        return not ctx.training or layer.p == 0.0
    return False


def row_loss_change(loss, rows_out: np.ndarray, base_out: np.ndarray, y: np.ndarray,
                    rows: np.ndarray) -> np.ndarray:
    """L(perturbed) − L(θ) when only row ``rows[p]`` of the output became ``rows_out[p]``.

    rows_out : (R, C) perturbed output rows; base_out : (N, C) the output at θ;
    y : the batch's labels (N,) or targets (N, C); rows : (R,) row indices -> (R,)
    """
    n = base_out.shape[0]
    before = base_out[rows]
    if type(loss) is SoftmaxCrossEntropy:
        labels = np.asarray(y).astype(np.intp)[rows]
        return (_row_cross_entropy(rows_out, labels) - _row_cross_entropy(before, labels)) / n
    if type(loss) is MeanSquaredError:
        target = np.asarray(y, dtype=np.float64).reshape(n, -1)[rows]
        new, old = rows_out - target, before - target
        # (a² − b²) = (a − b)(a + b): the difference first, no cancellation of large squares
        change = ((new - old) * (new + old)).sum(axis=1)
        return change / (n * base_out.shape[1])
    raise ValueError(f"no row-wise form for the loss {loss.type_name!r}")


def _row_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    shift = logits.max(axis=1, keepdims=True)
    total = np.exp(logits - shift).sum(axis=1)
    return np.log(total) + shift[:, 0] - logits[np.arange(labels.size), labels]
