"""A generator run in bundles and controlled from another thread; no Qt (the GUI's worker
thread drives :meth:`BundledRun.run`, see ``nnstudio.gui.workers``).

:class:`BundledRun` pulls the items of a generator (training snapshots, gradient-check
results) and yields them in :class:`Bundle` s, at most ``max_rate`` times a second and never
more than one ahead of the consumer, which calls :meth:`~BundledRun.acknowledge` after each:
a slow consumer gets bigger bundles, never a growing queue. Pause, ``step(n)`` and stop act
between *items*. That is why they live here and not in the thread that drives the bundles:
a driver sees only the bundles, one every half second in a training run, and a step of one
batch or a pause that takes effect at once needs the items. Probes are callables run in the
run's thread at bundle time (e.g. copy the BatchNorm buffers), so the consumer never reads
arrays the run is writing.

A consumer may hold the run (:meth:`~BundledRun.hold` / :meth:`~BundledRun.release`): it
then waits after its current item, at most a given time per hold. The GUI holds it while it
handles events: both threads need the GIL, and without the hold a tab switch during a fast
run takes a fifth of a second of GIL ping-pong instead of a few milliseconds.

Waits block on ``threading`` primitives, the GIL released; a paused run looks at the stop
flag every ``PAUSE_POLL`` seconds.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

#: seconds between two looks at the stop flag while paused
PAUSE_POLL = 0.05
#: seconds a forced bundle (end, stop, completed step) waits for the consumer's
#: acknowledgement of the one before, unless the run is stopping (then it does not wait:
#: the consumer may itself be waiting for the run to end)
FORCED_SEND_WAIT = 0.5


@dataclass
class Probe:
    """``fn()`` run in the run's thread at most every ``interval`` seconds."""

    name: str
    fn: Callable[[], Any]
    interval: float = 0.25
    last_run: float = field(default=-1e9)


@dataclass
class Bundle:
    """What one update of the consumer receives: the yielded items in order, and probe
    results (probe name -> value)."""

    items: list
    probes: dict[str, Any]


def every_item_is_a_step(_item: Any) -> bool:
    return True


class BundledRun:
    """Drive ``make_generator()`` in bundles; see the module docstring.

    Parameters
    ----------
    make_generator : callable
        Returns the generator to run; called in the run's thread when :meth:`run` starts.
    max_rate : float
        Bundles per second at most.
    probes : list of Probe, optional
    is_step : callable
        ``is_step(item)``: whether an item counts for :meth:`step` (e.g. a batch, not an
        epoch summary).
    on_self_pause : callable, optional
        Called in the run's thread when a requested :meth:`step` is complete and the run
        pauses by itself (after the bundle that holds the step's item).
    """

    def __init__(self, make_generator: Callable[[], Iterator], max_rate: float = 30.0,
                 probes: list[Probe] | None = None,
                 is_step: Callable[[Any], bool] = every_item_is_a_step,
                 on_self_pause: Callable[[], None] | None = None) -> None:
        self._make_generator = make_generator
        self._interval = 1.0 / max_rate
        self._probes = probes or []
        self._is_step = is_step
        self._on_self_pause = on_self_pause or (lambda: None)
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()
        self._in_flight = threading.BoundedSemaphore(1)
        self._lock = threading.Lock()
        self._steps_left: int | None = None
        self._holding = threading.Event()
        self._consumer_free = threading.Event()
        self._consumer_free.set()
        self._holds = 0              # open holds (consumer's thread only)
        self._hold_serial = 0        # bumped when a hold begins (consumer's thread)
        self._waited_serial = -1     # the hold the run last waited for (run's thread)
        self._hold_limit = 0.0

    # -- control (any thread) -----------------------------------------------------------
    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        with self._lock:
            self._steps_left = None
        self._resume.set()

    def step(self, count: int = 1) -> None:
        """Run exactly ``count`` step items (e.g. batches), then pause."""
        with self._lock:
            self._steps_left = count
        self._resume.set()

    def stop(self) -> None:
        """End the run at its next item (the generator is closed, its finally blocks run)."""
        self._stop.set()
        self._resume.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was asked for."""
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    @property
    def held(self) -> bool:
        """True while the run is paused between items (not inside the generator)."""
        return self._holding.is_set()

    def wait_until_held(self, timeout: float = 1.0) -> bool:
        """After :meth:`pause`: block until the run sits between items (True), so that the
        caller may read or save what the generator works on."""
        return self._holding.wait(timeout)

    def acknowledge(self) -> None:
        """The consumer finished handling a bundle; the run may send the next one."""
        try:
            self._in_flight.release()
        except ValueError:
            pass

    # -- holds (the consumer's thread) --------------------------------------------------
    def hold(self, longest: float) -> None:
        """The run waits at its next item until :meth:`release`, at most ``longest`` s.
        Holds nest: the run goes on when the last one is released."""
        if self._holds == 0:
            self._hold_serial += 1
            self._hold_limit = longest
            self._consumer_free.clear()
        self._holds += 1

    def release(self) -> None:
        self._holds -= 1
        if self._holds == 0:
            self._consumer_free.set()

    @property
    def holds(self) -> int:
        """Open holds (0: the run is not held back)."""
        return self._holds

    # -- the run (its own thread) -------------------------------------------------------
    def run(self) -> Generator[Bundle, None, Any]:
        """Yield bundles of the generator's items; return its return value, or None when
        stopped."""
        generator = self._make_generator()
        pending: list = []
        last_send = 0.0
        try:
            while True:
                try:
                    item = next(generator)
                except StopIteration as end:
                    yield from self._send(pending, force=True)
                    return end.value
                pending.append(item)
                if not self._consumer_free.is_set():
                    self._wait_for_consumer()
                now = time.monotonic()
                if now - last_send >= self._interval:
                    bundle = self._bundle(pending, force=False)
                    if bundle is not None:
                        yield bundle
                        pending, last_send = [], now
                if self._count_step(item):
                    yield from self._send(pending, force=True)
                    pending = []
                    self._on_self_pause()
                if not self._wait_while_paused() or self._stop.is_set():
                    yield from self._send(pending, force=True)
                    return None
        finally:
            close = getattr(generator, "close", None)
            if close is not None:
                close()

    def _send(self, pending: list, force: bool) -> Iterator[Bundle]:
        bundle = self._bundle(pending, force)
        if bundle is not None:
            yield bundle

    def _wait_for_consumer(self) -> None:
        """While the consumer holds the run: wait, once per hold, at most its limit."""
        serial = self._hold_serial
        if serial != self._waited_serial:
            self._waited_serial = serial
            self._consumer_free.wait(self._hold_limit)

    def _count_step(self, item: Any) -> bool:
        """True when a requested step has just been completed (the run now pauses)."""
        if self._steps_left is None:  # the common case, read without the lock
            return False
        with self._lock:
            if self._steps_left is None or not self._is_step(item):
                return False
            self._steps_left -= 1
            if self._steps_left > 0:
                return False
            self._steps_left = None
            self._resume.clear()
            return True

    def _wait_while_paused(self) -> bool:
        """False when stopped while paused."""
        if self._resume.is_set():
            return True
        self._holding.set()
        try:
            while not self._resume.wait(PAUSE_POLL):
                if self._stop.is_set():
                    return False
            return True
        finally:
            self._holding.clear()

    def _bundle(self, pending: list, force: bool) -> Bundle | None:
        """A bundle of ``pending`` unless the consumer still has one to handle (None)."""
        if not pending and not force:
            return None
        if force:
            acquired = self._in_flight.acquire(
                timeout=0.0 if self._stop.is_set() else FORCED_SEND_WAIT)
        else:
            acquired = self._in_flight.acquire(blocking=False)
        if not acquired and not force:
            return None
        now = time.monotonic()
        probes = {}
        for probe in self._probes:
            if force or now - probe.last_run >= probe.interval:
                probes[probe.name] = probe.fn()
                probe.last_run = now
        return Bundle(list(pending), probes)
