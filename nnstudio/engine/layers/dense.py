"""Fully connected layer."""
from __future__ import annotations

import numpy as np

from ..context import Context
from .base import Layer

INITS = ("he", "xavier")


class Dense(Layer):
    """Affine map ``out = x @ W + b`` with W: (D_in, units), b: (units,)."""

    type_name = "dense"
    accepts_stacked_inputs = True
    description = "Fully connected: out = x·W + b (He or Xavier initialisation)"
    regularized = ("W",)
    FAULTS = {
        "bias_not_summed": "db averages dout over the batch instead of summing it",
        "weight_grad_averaged": "dW is divided by the batch size, which the loss already did",
        "no_input_gradient": "dx is left at zero, so no gradient reaches earlier layers",
    }
    CHOICES = {"init": INITS}

    def __init__(self, units: int, init: str = "he") -> None:
        super().__init__()
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        if init not in INITS:
            raise ValueError(f"Dense init must be one of {INITS}, got {init!r}")
        self.units = int(units)
        self.init = init

    def config(self) -> dict:
        return {"units": self.units, "init": self.init}

    def describe(self) -> str:
        return f"Dense({self.units})"

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.input_dim, self.output_dim = int(input_dim), self.units
        if self.init == "he":
            scale = np.sqrt(2.0 / input_dim)
        else:
            scale = np.sqrt(2.0 / (input_dim + self.units))
        weights = rng.standard_normal((input_dim, self.units)) * scale
        self._init_param("W", weights.astype(dtype))
        self._init_param("b", np.zeros(self.units, dtype=dtype))
        return self.output_dim

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        self._require_built()
        self._check_input(x)
        self.cache["x"] = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self._accumulate_param_grads(dout)
        if self.fault == "no_input_gradient":
            return np.zeros_like(self.cache["x"])
        return dout @ self.params["W"].T

    def backward_params_only(self, dout: np.ndarray) -> None:
        self._accumulate_param_grads(dout)

    def _accumulate_param_grads(self, dout: np.ndarray) -> None:
        x = self.cache["x"]
        if x.ndim > 2:
            x, dout = x.reshape(-1, x.shape[-1]), dout.reshape(-1, dout.shape[-1])
        if self.fault == "weight_grad_averaged":
            self.grads["W"] += x.T @ dout * (1.0 / dout.shape[0])
        else:
            self.grads["W"] += x.T @ dout
        if self.fault == "bias_not_summed":
            self.grads["b"] += np.add.reduce(dout, axis=0) * (1.0 / dout.shape[0])
        else:
            self.grads["b"] += np.add.reduce(dout, axis=0)
