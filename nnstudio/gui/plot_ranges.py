"""Steady view ranges for live plots.

Auto-ranging moves the axes on every update as data grows, and every move makes pyqtgraph
re-lay out and repaint the axes (ticks, labels) in Python. ``SteadyRange`` changes a plot's
range only when the data leaves it or fills too little of it, and then with headroom, so
most updates repaint the curves alone. A user's own zoom or pan is respected until
:meth:`SteadyRange.reset`.
"""
from __future__ import annotations

import math

import numpy as np

X_HEADROOM = 1.25     # room to the right for the data still to come
X_EXACT_PADDING = 1.02  # after a run: the data fill the axis
Y_PADDING = 0.08      # share of the data span above and below
Y_SHRINK = 3.0        # re-fit when the range is this many times the data span


def nice_ceiling(value: float) -> float:
    """The smallest 1, 1.5, 2, 3, 4, 5, 6 or 8 × 10^k at or above ``value`` (round ticks;
    at most a third of the axis is empty)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        candidate = mantissa * 10 ** exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


class SteadyRange:
    """Range keeper of one pyqtgraph PlotItem."""

    def __init__(self, plot) -> None:
        self.plot = plot
        plot.disableAutoRange()
        plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_change)
        self.x_range: tuple[float, float] | None = None
        self.y_range: tuple[float, float] | None = None
        self.follow = True
        #: the x the run in progress will reach (the axis ends there while it fits)
        self.extent: float | None = None
        #: no run in progress: the axis ends at the data
        self.exact = False
        #: lowest y the view shows (None: the data's own minimum)
        self.y_floor: float | None = None

    def _on_manual_change(self, *_args) -> None:
        self.follow = False

    def reset(self) -> None:
        """Follow the data again (after a clear, or when the user asks)."""
        self.follow = True
        self.x_range = self.y_range = None
        self.extent, self.exact = None, False

    def set_extent(self, extent: float | None) -> None:
        """A run towards ``extent`` starts (None and ``exact``: the run ended)."""
        self.extent, self.exact = extent, extent is None
        self.follow = True

    def fit(self, series: list[tuple[np.ndarray, np.ndarray]], log_y: bool = False) -> None:
        """Adjust to ``series`` [(x, y), ...] if needed; y in log10 units when ``log_y``."""
        if not self.follow:
            return
        xs = [x for x, _ in series if len(x)]
        if not xs:
            return
        x_high = max(float(x[-1]) for x in xs)
        if self.extent is not None and x_high <= self.extent:
            wanted = (0.0, float(self.extent))
        elif self.exact:
            wanted = (0.0, max(x_high, 1.0) * X_EXACT_PADDING)
        elif self.x_range is None or x_high > self.x_range[1] or x_high < self.x_range[1] / 4:
            wanted = (0.0, nice_ceiling(max(x_high, 1.0) * X_HEADROOM))
        else:
            wanted = self.x_range
        if wanted != self.x_range:
            self.x_range = wanted
            self.plot.setXRange(*self.x_range, padding=0)
        bounds = _y_bounds([y for _, y in series], log_y)
        if bounds is None:
            return
        low, high = bounds
        if self.y_floor is not None and not log_y:
            low = max(low, min(self.y_floor, high - 1e-9))
        span = max(high - low, abs(high) * 0.05, 1e-9)
        current = self.y_range
        if (current is None or low < current[0] or high > current[1]
                or current[1] - current[0] > Y_SHRINK * span):
            self.y_range = (low - Y_PADDING * span, high + Y_PADDING * span)
            self.plot.setYRange(*self.y_range, padding=0)


def _y_bounds(arrays: list[np.ndarray], log_y: bool) -> tuple[float, float] | None:
    lows, highs = [], []
    for values in arrays:
        if log_y:
            values = values[values > 0]
        values = values[np.isfinite(values)]
        if values.size:
            lows.append(values.min())
            highs.append(values.max())
    if not lows:
        return None
    low, high = float(min(lows)), float(max(highs))
    return (math.log10(low), math.log10(high)) if log_y else (low, high)
