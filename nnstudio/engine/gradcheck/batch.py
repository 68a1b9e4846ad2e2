"""Which rows a gradient check runs on: the same choice for the command line and the window."""
from __future__ import annotations

import numpy as np


def check_batch(x: np.ndarray, y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` seeded random rows of (x, y), in their original order (all rows if fewer).

    Random rather than the first rows: a CSV sorted by class would otherwise give a batch
    of one class, where a BatchNorm or cross-entropy mistake can hide.

    x: (N, D), y: (N,) or (N, K) -> x: (size, D), y: (size,) or (size, K)
    """
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise ValueError(f"the check batch must have at least 1 row, got {size!r}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("the training split is empty: nothing to check on")
    if len(x) > size:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), size=int(size), replace=False))
        x, y = x[rows], y[rows]
    return x, y
