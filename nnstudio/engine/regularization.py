"""L1/L2 penalties on weights, part of the objective (not hidden in the optimizer)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np


@dataclass(frozen=True)
class Regularization:
    """penalty = l1·Σ|W| + (l2/2)·Σ W², over each layer's ``regularized`` params.

    With the ½, the L2 gradient is ``l2·W``: exactly ``weight_decay=l2`` of ``torch.optim.SGD``
    and ``torch.optim.Adam`` (not AdamW, whose decay bypasses the moments).
    """

    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self) -> None:
        for name in ("l1", "l2"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")

    @property
    def active(self) -> bool:
        return self.l1 > 0 or self.l2 > 0

    def penalty(self, weights: Iterable[np.ndarray]) -> float:
        total = 0.0
        for w in weights:
            if self.l1:
                total += self.l1 * float(np.abs(w).sum())
            if self.l2:
                total += 0.5 * self.l2 * float(np.vdot(w, w))
        return total

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """d(penalty)/dW for one regularized tensor."""
        grad = np.zeros_like(w)
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += self.l2 * w
        return grad


NO_REGULARIZATION = Regularization()
