"""Element-wise nonlinearities."""
from __future__ import annotations

import numpy as np

from ..context import Context
from .base import Layer


class ReLU(Layer):
    """``max(x, 0)``; its on/off pattern is what the gradient checker watches for kinks."""

    type_name = "relu"
    accepts_stacked_inputs = True
    description = "Rectified linear unit: max(x, 0)"
    FAULTS = {
        "gradient_not_masked": "dx = dout everywhere: the derivative 0 for x < 0 is forgotten",
        "inverted_mask": "dx passes dout where x < 0 and blocks it where x > 0",
    }

    def describe(self) -> str:
        return "ReLU"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        active = x > 0
        self.cache["active"] = active
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        active = self.cache["active"]
        if self.fault == "gradient_not_masked":
            return dout.copy()
        if self.fault == "inverted_mask":
            return dout * ~active
        return dout * active

    def kink_pattern(self) -> np.ndarray | None:
        return self.cache.get("active")


class LeakyReLU(Layer):
    """``x`` for x > 0, ``slope·x`` otherwise."""

    type_name = "leakyrelu"
    accepts_stacked_inputs = True
    description = "Leaky ReLU: x if x > 0 else slope·x"
    FAULTS = {
        "slope_ignored": "the derivative for x < 0 is taken as 0 instead of the slope",
        "slope_on_positive_side": "the slope is applied where x > 0 and 1 where x < 0",
    }

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        slope = float(slope)
        if not np.isfinite(slope) or slope < 0 or slope >= 1:
            raise ValueError(f"LeakyReLU slope must be in [0, 1), got {slope!r}")
        self.slope = slope

    def config(self) -> dict:
        return {"slope": self.slope}

    def describe(self) -> str:
        return f"LeakyReLU({self.slope:g})"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        active = x > 0
        self.cache["active"] = active
        return np.where(active, x, x * self.slope)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        active = self.cache["active"]
        if self.fault == "slope_ignored":
            return dout * active
        if self.fault == "slope_on_positive_side":
            return np.where(active, dout * self.slope, dout)
        return np.where(active, dout, dout * self.slope)

    def kink_pattern(self) -> np.ndarray | None:
        return self.cache.get("active")


class Tanh(Layer):
    """Hyperbolic tangent."""

    type_name = "tanh"
    accepts_stacked_inputs = True
    description = "Hyperbolic tangent: squashes to (−1, 1)"
    FAULTS = {
        "wrong_derivative": "uses 1 − tanh(x) instead of 1 − tanh²(x)",
        "derivative_of_input": "uses 1 − x² (the input) instead of 1 − tanh²(x) (the output)",
    }

    def describe(self) -> str:
        return "Tanh"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        out = np.tanh(x)
        self.cache["out"] = out
        self.cache["x"] = x
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        out = self.cache["out"]
        if self.fault == "wrong_derivative":
            return dout * (1 - out)
        if self.fault == "derivative_of_input":
            x = self.cache["x"]
            return dout * (1 - x * x)
        return dout * (1 - out * out)


class Sigmoid(Layer):
    """Logistic function, computed as ``(1 + tanh(x/2)) / 2`` so it never overflows."""

    type_name = "sigmoid"
    accepts_stacked_inputs = True
    description = "Logistic sigmoid: squashes to (0, 1)"
    FAULTS = {
        "wrong_derivative": "uses σ(x) instead of σ(x)·(1 − σ(x))",
        "missing_one_minus": "uses σ(x)² instead of σ(x)·(1 − σ(x))",
    }

    def describe(self) -> str:
        return "Sigmoid"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        out = np.tanh(x * 0.5)
        out += 1
        out *= 0.5
        self.cache["out"] = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        out = self.cache["out"]
        if self.fault == "wrong_derivative":
            return dout * out
        if self.fault == "missing_one_minus":
            return dout * out * out
        return dout * out * (1 - out)
