"""Inverted dropout with masks drawn only from the context's generator."""
from __future__ import annotations

import numpy as np

from ..context import Context
from .base import Layer


class Dropout(Layer):
    """Zero each input with probability ``p`` and scale the survivors by 1/(1−p).

    Active only when ``ctx.training``. The keep-mask has shape (N, D) and is shared by
    any leading axes, so perturbed copies of a batch see the same mask. Setting
    ``fixed_mask`` (boolean (N, D)) replays one mask instead of drawing: the gradient
    checker does this so that f(θ+h), f(θ−h) and the analytic pass agree.
    """

    type_name = "dropout"
    accepts_stacked_inputs = True
    description = "Inverted dropout: zero inputs with probability p, scale the rest by 1/(1−p)"
    FAULTS = {
        "mask_not_applied": "backward scales dout by 1/(1−p) but forgets to zero the dropped units",
        "no_rescale": "backward applies the mask but forgets the 1/(1−p) scale",
    }

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        p = float(p)
        if not (0.0 <= p < 1.0):
            raise ValueError(f"Dropout p must be in [0, 1), got {p!r}")
        self.p = p
        self.fixed_mask: np.ndarray | None = None

    def config(self) -> dict:
        return {"p": self.p}

    def describe(self) -> str:
        return f"Dropout({self.p:g})"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        if not ctx.training or self.p == 0.0:
            self.cache["keep"] = None
            return x
        keep = self._mask(x.shape[-2:], ctx)
        self.cache["keep"] = keep
        out = x * keep
        out *= 1.0 / (1.0 - self.p)  # in place: a bool mask times a Python float would be float64
        return out

    def _mask(self, shape: tuple[int, ...], ctx: Context) -> np.ndarray:
        if self.fixed_mask is not None:
            if self.fixed_mask.shape != shape:
                raise ValueError(
                    f"Dropout fixed mask has shape {self.fixed_mask.shape}, input needs {shape}"
                )
            return self.fixed_mask
        if ctx.rng is None:
            raise ValueError("Dropout in training mode needs a random generator in the context")
        return ctx.rng.random(shape) >= self.p

    def backward(self, dout: np.ndarray) -> np.ndarray:
        keep = self.cache["keep"]
        if keep is None:
            return dout
        scale = 1.0 / (1.0 - self.p)
        if self.fault == "mask_not_applied":
            return dout * scale
        dx = dout * keep
        if self.fault != "no_rescale":
            dx *= scale
        return dx
