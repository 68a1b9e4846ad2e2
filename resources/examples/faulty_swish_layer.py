"""A deliberately WRONG custom layer, for practising with the gradient checker.

Swish (also called SiLU) computes ``x·σ(x)``. Its derivative is
``σ(x) + x·σ(x)·(1 − σ(x))``, but the backward below returns only ``σ(x)`` — the
product rule's second term is forgotten, a classic mistake. The forward pass is right,
so the loss is right and the numeric gradient is right: the gradient checker shows the
weights *before* this layer as mismatches, while the weights after it stay ok.

    nnstudio gradcheck resources/datasets/iris.csv --target species \
        --custom-layer resources/examples/faulty_swish_layer.py --layers dense:8,swish_faulty

Fixing it is the exercise: multiply dout by the full derivative.
"""
import numpy as np

from nnstudio.engine import Context, Layer


class FaultySwish(Layer):
    """x·σ(x) with a broken backward (see the module docstring)."""

    type_name = "swish_faulty"
    description = "Swish x·sigmoid(x) — with a deliberately wrong derivative"

    def describe(self) -> str:
        return "Swish (faulty)"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        """x: (..., N, D) -> (..., N, D)."""
        sigma = 0.5 * (1.0 + np.tanh(0.5 * x))  # σ(x) without overflow
        self.cache.update(x=x, sigma=sigma)
        return x * sigma

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, D) -> dx: (N, D)."""
        sigma = self.cache["sigma"]
        return dout * sigma  # BUG: should be dout * (sigma + x * sigma * (1 - sigma))
