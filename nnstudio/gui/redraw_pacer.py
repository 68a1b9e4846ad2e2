"""When to redraw the live training views.

Every millisecond the GUI thread spends drawing holds the GIL away from the training thread,
so redraws are spaced by a fixed interval, stretched when drawing is slow so that it takes
at most a budgeted share of the time. The stretch follows the fastest of the last few draws,
what a redraw costs on this machine and window: the occasional slow one (the first ones of a
run lay out every plot, a range change repaints an axis) must not push the next redraw a
second away. Nothing is stretched until a few draws have been timed, and a cap keeps the
curves moving even on a slow machine.
"""
from __future__ import annotations

from collections import deque


#: timed draws needed before slow drawing stretches the interval
MIN_SAMPLES = 3


class RedrawPacer:
    """Seconds until the next redraw is due; times in seconds from any monotonic clock."""

    def __init__(self, interval: float, budget: float, longest: float = 1.0,
                 memory: int = 5, slack: float = 0.0) -> None:
        self.interval = interval
        self.budget = budget
        self.longest = longest
        self.slack = slack
        self._durations: deque[float] = deque(maxlen=memory)
        self._last_start: float | None = None

    def current_interval(self) -> float:
        """The spacing now in force: ``interval``, stretched by slow draws, at most ``longest``.

        No stretch before a few draws were timed: the first ones lay out every plot and
        would leave a new run's curves empty for a second.
        """
        if len(self._durations) < MIN_SAMPLES:
            return self.interval
        return min(max(self.interval, min(self._durations) / self.budget), self.longest)

    def delay(self, now: float) -> float:
        """0 when a redraw is due at ``now``, else how long to wait for it."""
        if self._last_start is None:
            return 0.0
        return max(0.0, self._last_start + self.current_interval() - now)

    def wait(self, now: float) -> float:
        """Like :meth:`delay`, but 0 also when the redraw is due within ``slack`` (a share
        of ``interval``): drawing a little early costs less than one more wake-up."""
        delay = self.delay(now)
        return 0.0 if delay <= self.slack * self.interval else delay

    def record(self, started: float, duration: float) -> None:
        """A redraw began at ``started`` and took ``duration``."""
        self._last_start = started
        self._durations.append(duration)
