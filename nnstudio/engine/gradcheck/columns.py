"""Single-feature ("column") versions of the built-in layers, for the fast path.

Perturbing one element of a Dense or BatchNorm parameter changes exactly one output
feature j of that layer. Every built-in layer up to the next Dense works feature by feature
(activations and dropout element-wise, BatchNorm per feature over the batch), so the change
stays in column j until a Dense spreads it as a rank-1 update. The checker therefore carries
only the (N,) column through those layers. Each function here must compute what the
layer's own ``forward`` computes for that feature, with the same operations.
"""
from __future__ import annotations

import numpy as np

from ..context import Context
from ..layers import BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Tanh

# Exact types only: a subclass (e.g. a user's custom ReLU) may compute something else.
COLUMN_LAYER_TYPES: tuple[type[Layer], ...] = (ReLU, LeakyReLU, Tanh, Sigmoid, BatchNorm, Dropout)


def is_column_layer(layer: Layer, ctx: Context) -> bool:
    """Whether ``column_forward`` reproduces ``layer`` under ``ctx`` feature by feature."""
    if type(layer) not in COLUMN_LAYER_TYPES:
        return False
    if type(layer) is Dropout and ctx.training and layer.p > 0:
        return layer.fixed_mask is not None  # a drawn mask would differ per evaluation
    return True


def column_forward(layer: Layer, ctx: Context, values: np.ndarray, cols: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply ``layer`` to one feature per row of ``values``.

    Parameters
    ----------
    values : (P, N)
        Row p holds feature ``cols[p]`` of the layer's input, for the whole batch.
    cols : (P,) int

    Returns
    -------
    out : (P, N)
    pattern : bool (P, N) or None   the kink pattern of those features, if the layer has one
    """
    # type(layer) rather than a variable: the type checker narrows layer on it
    if type(layer) is ReLU:
        return np.maximum(values, 0), values > 0
    if type(layer) is LeakyReLU:
        active = values > 0
        return np.where(active, values, values * layer.slope), active
    if type(layer) is Tanh:
        return np.tanh(values), None
    if type(layer) is Sigmoid:
        out = np.tanh(values * 0.5)
        out += 1
        out *= 0.5
        return out, None
    if type(layer) is BatchNorm:
        return _batchnorm_columns(layer, ctx, values, cols), None
    if type(layer) is Dropout:
        if not ctx.training or layer.p == 0.0:
            return values, None
        assert layer.fixed_mask is not None  # is_column_layer: only a fixed mask has columns
        out = values * layer.fixed_mask[:, cols].T
        out *= 1.0 / (1.0 - layer.p)
        return out, None
    raise ValueError(f"{layer.describe()} has no single-feature version")


def _batchnorm_columns(layer: BatchNorm, ctx: Context, values: np.ndarray,
                       cols: np.ndarray) -> np.ndarray:
    gamma = layer.params["gamma"][cols][:, None]
    beta = layer.params["beta"][cols][:, None]
    if layer.uses_batch_stats(ctx):
        centered = values - values.mean(axis=-1, keepdims=True)
        var = np.mean(centered * centered, axis=-1, keepdims=True)
    else:
        centered = values - layer.buffers["running_mean"][cols][:, None]
        var = layer.buffers["running_var"][cols][:, None]
    inv_std = 1.0 / np.sqrt(var + layer.eps)
    return centered * inv_std * gamma + beta


def perturbed_column(layer: Layer, param: str, flat: np.ndarray, steps: np.ndarray,
                     layer_input: np.ndarray, layer_output: np.ndarray,
                     xhat: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The one output feature that moves when ``param.flat[flat[p]]`` moves by ``steps[p]``.

    Parameters
    ----------
    flat, steps : (P,)         element positions and signed steps (+h or −h)
    layer_input : (N, D_in)    the layer's input at θ
    layer_output : (N, D_out)  the layer's output at θ
    xhat : (N, D) or None      BatchNorm's normalised input at θ

    Returns
    -------
    (cols (P,), values (P, N)), or None when the parameter has no such structure.
    """
    kind = type(layer)
    if kind is Dense and param == "W":
        rows, cols = np.divmod(flat, layer.params["W"].shape[1])        # W: (D_in, D_out)
        return cols, layer_output[:, cols].T + steps[:, None] * layer_input[:, rows].T
    if (kind is Dense and param == "b") or (kind is BatchNorm and param == "beta"):
        return flat, layer_output[:, flat].T + steps[:, None]
    if kind is BatchNorm and param == "gamma" and xhat is not None:
        return flat, layer_output[:, flat].T + steps[:, None] * xhat[:, flat].T
    return None
