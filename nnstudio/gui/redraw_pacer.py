"""When to redraw the live training views.

Every millisecond the GUI thread spends drawing holds the GIL away from the training thread,
so redraws are spaced by a fixed interval, stretched when drawing is slow so that it takes
at most a budgeted share of the time. The stretch follows the median of the last few draws:
one slow draw (the first, which lays out the plots, or one after a resize) must not push
the next redraw seconds away, and a cap keeps the curves moving even on a slow machine.
"""
from __future__ import annotations

import statistics
from collections import deque


class RedrawPacer:
    """Seconds until the next redraw is due; times in seconds from any monotonic clock."""

    def __init__(self, interval: float, budget: float, longest: float = 1.0,
                 memory: int = 5) -> None:
        self.interval = interval
        self.budget = budget
        self.longest = longest
        self._durations: deque[float] = deque(maxlen=memory)
        self._last_start: float | None = None

    def current_interval(self) -> float:
        """The spacing now in force: ``interval``, stretched by slow draws, at most ``longest``."""
        if not self._durations:
            return self.interval
        typical = statistics.median(self._durations)
        return min(max(self.interval, typical / self.budget), self.longest)

    def delay(self, now: float) -> float:
        """0 when a redraw is due at ``now``, else how long to wait for it."""
        if self._last_start is None:
            return 0.0
        return max(0.0, self._last_start + self.current_interval() - now)

    def record(self, started: float, duration: float) -> None:
        """A redraw began at ``started`` and took ``duration``."""
        self._last_start = started
        self._durations.append(duration)
