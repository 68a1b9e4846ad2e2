"""Buffers behind the live curves.

``GrowingSeries``: x/y float64 buffers preallocated and doubled when full, so appending is
cheap and ``setData`` gets views. ``EnvelopeSeries``: the same, but it stays under a cap of
stored points: past it, runs of consecutive points are kept as their minimum and maximum
(the peaks a plot of them shows), so a long fast run does not make every redraw slower.
``MovingAverage``: a trailing mean, computed incrementally (display smoothing only).
"""
from __future__ import annotations

import numpy as np

#: stored points of an envelope series before it halves its resolution: a few times the
#: pixels of a wide plot, so zooming in shows detail, yet every redraw (pyqtgraph takes
#: minima, maxima and a downsampling pass over all of it) stays well under a millisecond
ENVELOPE_CAP = 2 ** 13


class GrowingSeries:
    """x/y float64 buffers with a fill count; capacity doubles when they are full."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.count = 0

    @property
    def capacity(self) -> int:
        return self._x.shape[0]

    def extend(self, x, y) -> None:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        needed = self.count + x.shape[0]
        if needed > self.capacity:
            capacity = self.capacity
            while capacity < needed:
                capacity *= 2
            for name in ("_x", "_y"):
                grown = np.empty(capacity)
                grown[:self.count] = getattr(self, name)[:self.count]
                setattr(self, name, grown)
        self._x[self.count:needed] = x
        self._y[self.count:needed] = y
        self.count = needed

    def clear(self) -> None:
        self.count = 0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Views (not copies) of the filled part."""
        return self._x[:self.count], self._y[:self.count]


class EnvelopeSeries:
    """A growing series of at most about ``cap`` stored points (see the module docstring).

    ``bucket`` is how many appended points one stored (min, max) pair stands for; 1 while
    every point is stored as it came.
    """

    def __init__(self, cap: int = ENVELOPE_CAP) -> None:
        self.cap = cap
        self.store = GrowingSeries()
        self.bucket = 1
        self._pending_x = np.empty(0)
        self._pending_y = np.empty(0)

    @property
    def count(self) -> int:
        return self.store.count

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.store.data()

    def clear(self) -> None:
        self.store.clear()
        self.bucket = 1
        self._pending_x = self._pending_y = np.empty(0)

    def extend(self, x, y) -> None:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if self.bucket == 1:
            self.store.extend(x, y)
        else:
            x = np.concatenate([self._pending_x, x])
            y = np.concatenate([self._pending_y, y])
            whole = len(x) // self.bucket * self.bucket
            self.store.extend(*_envelope(x[:whole], y[:whole], self.bucket))
            self._pending_x, self._pending_y = x[whole:], y[whole:]
        while self.store.count > self.cap:
            self._halve()

    def _halve(self) -> None:
        """Merge every 4 stored points into their (first x, min) and (last x, max)."""
        x, y = self.store.data()
        whole = len(x) // 4 * 4
        merged = _envelope(x[:whole], y[:whole], 4)
        rest = x[whole:].copy(), y[whole:].copy()
        self.store.clear()
        self.store.extend(*merged)
        self.store.extend(*rest)
        self.bucket = 4 if self.bucket == 1 else self.bucket * 2


def _envelope(x: np.ndarray, y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of ``size`` points -> (first x, min y), (last x, max y) per run, interleaved."""
    xs, ys = x.reshape(-1, size), y.reshape(-1, size)
    new_x = np.column_stack([xs[:, 0], xs[:, -1]]).ravel()
    new_y = np.column_stack([ys.min(axis=1), ys.max(axis=1)]).ravel()
    return new_x, new_y


class MovingAverage:
    """Trailing mean over ``window`` points; keeps only the last ``window − 1`` inputs."""

    def __init__(self) -> None:
        self.window = 1
        self._tail = np.empty(0)
        self.smoothed = EnvelopeSeries()

    def extend(self, x, y) -> None:
        joined = np.concatenate([self._tail, np.asarray(y, dtype=float)])
        sums = np.concatenate([[0.0], np.cumsum(joined)])
        index = np.arange(len(self._tail), len(joined))
        lower = np.maximum(index + 1 - self.window, 0)
        self.smoothed.extend(x, (sums[index + 1] - sums[lower]) / (index + 1 - lower))
        self._tail = joined[len(joined) - (self.window - 1):] if self.window > 1 else np.empty(0)

    def rebuild(self, x, y, window: int) -> None:
        """Start again over ``x, y`` with a new window."""
        self.window = max(1, int(window))
        self.clear()
        if len(x):
            self.extend(x, y)

    def clear(self) -> None:
        self._tail = np.empty(0)
        self.smoothed.clear()
