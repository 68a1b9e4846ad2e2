"""Seeded train / validation / test splits, stratified by class for classification."""
from __future__ import annotations

import math

import numpy as np

from .options import check_fractions

TRAIN, VAL, TEST = 0, 1, 2
_FEW_CLASSES = 16  # up to this many classes, one pass per class beats a sort


def split_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Rows for validation and test out of ``n`` (rounded half up), leaving at least one
    row for training when there is any."""
    n_val = math.floor(val_fraction * n + 0.5)
    n_test = math.floor(test_fraction * n + 0.5)
    while n > 0 and n - n_val - n_test < 1:
        if n_test >= n_val and n_test > 0:
            n_test -= 1
        else:
            n_val -= 1
    return n_val, n_test


def split_assignment(n: int, val_fraction: float, test_fraction: float,
                     rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
    """Assign each of ``n`` rows to train (0), validation (1) or test (2).

    Parameters
    ----------
    n : int
        Number of rows.
    val_fraction, test_fraction : float
        Shares of rows for validation and test.
    rng : numpy.random.Generator
        Source of every random choice, so the split follows the caller's seed.
    labels : ndarray of int, shape (n,), optional
        Class index per row (0..K-1). When given, each class is split on its own
        with the same fractions (stratified), so every split keeps the class mix.

    Returns
    -------
    ndarray of int8, shape (n,)
    """
    check_fractions(val_fraction, test_fraction)
    assignment = np.zeros(n, np.int8)
    groups = [np.arange(n)] if labels is None else _class_groups(np.asarray(labels))
    sizes = np.array([len(g) for g in groups])
    n_val, n_test = split_sizes(n, val_fraction, test_fraction)
    vals = _apportion(sizes, val_fraction, n_val)
    tests = _apportion(sizes, test_fraction, n_test)
    for group, n_val_c, n_test_c in zip(groups, vals, tests):
        # Every class keeps at least one training row.
        while len(group) and len(group) - n_val_c - n_test_c < 1:
            n_test_c, n_val_c = (n_test_c - 1, n_val_c) if n_test_c >= n_val_c and n_test_c else (
                n_test_c, n_val_c - 1)
        if n_val_c + n_test_c == 0:
            continue
        chosen = group[rng.choice(len(group), size=n_val_c + n_test_c, replace=False)]
        assignment[chosen[:n_val_c]] = VAL
        assignment[chosen[n_val_c:]] = TEST
    return assignment


def _class_groups(labels: np.ndarray) -> list[np.ndarray]:
    """Row indices of each class 0..K-1, in row order."""
    n_classes = int(labels.max(initial=-1)) + 1
    if n_classes <= _FEW_CLASSES:
        return [np.flatnonzero(labels == k) for k in range(n_classes)]
    # A stable sort of small integers is a radix sort: O(n) for many rows.
    order = np.argsort(labels.astype(np.int16 if n_classes < 2**15 else np.int64), kind="stable")
    return np.split(order, np.cumsum(np.bincount(labels, minlength=n_classes))[:-1])


def _apportion(sizes: np.ndarray, fraction: float, total: int) -> list[int]:
    """Split ``total`` held-out rows over groups in proportion to their sizes.

    Largest remainders get the rounding, so per-group counts add up to the
    same total as an unstratified split.
    """
    exact = sizes * fraction
    counts = np.floor(exact).astype(np.int64)
    extra = int(total - counts.sum())
    if extra > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:extra]] += 1
    return [int(c) for c in counts]
