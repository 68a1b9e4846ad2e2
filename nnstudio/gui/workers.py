"""Run long work off the GUI thread: a generator (training) or a function (CSV loading).

``GeneratorWorker`` drives a generator in a QThread. It collects what the generator yields
and hands it to the GUI in bundles, at most ``max_rate`` times a second, and never more than
one bundle ahead of the GUI (the consumer calls :meth:`acknowledge` after each): a slow GUI
gets bigger bundles, never a growing queue. Pause, step and stop act between yields. Probes
are callables run in the worker thread at bundle time (e.g. copy the BatchNorm buffers), so
the GUI never reads arrays the worker is writing.

The GUI goes first: from the first event the GUI thread handles after waking (a click, a
paint, a timer) until its event loop is idle again, the worker waits after its current item
(at most ``GUI_HOLD_LIMIT`` seconds each time). Both threads need the GIL; without this, a
tab switch during a fast run takes a fifth of a second of GIL ping-pong instead of a few
milliseconds.

``FunctionWorker`` runs ``fn(progress=..., cancel=...)`` in a QThread; progress is emitted
only when the rounded percentage changes.

Both are jobs of :mod:`nnstudio.gui.jobs`: kept alive until their thread ends, so closing the
window during a long item never aborts the process.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from PySide6.QtCore import QAbstractEventDispatcher, QCoreApplication, QObject, Signal

from .jobs import Job as _Job
from .jobs import running_jobs, wait_for_jobs  # noqa: F401 - part of this module's interface

#: seconds the worker waits at most for one busy spell of the GUI thread (after that it goes
#: on, so a long computation in the GUI thread slows the work but does not stop it)
GUI_HOLD_LIMIT = 0.1


@dataclass
class Probe:
    """``fn()`` run in the worker thread at most every ``interval`` seconds."""

    name: str
    fn: Callable[[], Any]
    interval: float = 0.25
    last_run: float = field(default=-1e9)


@dataclass
class Bundle:
    """What one GUI update receives: the yielded items in order, and probe results."""

    items: list
    probes: dict[str, Any]


class _GuiGate(QObject):
    """Holds a worker while the GUI thread handles events (see the module docstring).

    An application event filter sees the first event of every busy spell of the GUI
    thread; the event dispatcher's ``aboutToBlock`` says when the spell is over.
    """

    def __init__(self, worker: "GeneratorWorker") -> None:
        super().__init__()
        self._worker = worker
        self._open = False
        self._dispatcher = None

    def install(self) -> None:
        app = QCoreApplication.instance()
        dispatcher = QAbstractEventDispatcher.instance(self.thread())
        if app is None or dispatcher is None:
            return
        app.installEventFilter(self)
        dispatcher.aboutToBlock.connect(self.close)
        self._dispatcher = dispatcher

    def remove(self) -> None:
        if self._dispatcher is not None:
            QCoreApplication.instance().removeEventFilter(self)
            self._dispatcher.aboutToBlock.disconnect(self.close)
            self._dispatcher = None
        self.close()

    def eventFilter(self, _watched, _event) -> bool:  # noqa: N802 - Qt override
        if not self._open:
            self._open = True
            self._worker._hold_gui(GUI_HOLD_LIMIT)
        return False

    def close(self) -> None:
        if self._open:
            self._open = False
            self._worker._release_gui()


class GeneratorWorker(_Job):
    """Drive ``make_generator()`` in a thread; see the module docstring."""

    bundle = Signal(object)        # Bundle
    returned = Signal(object)      # the generator's return value; None when stopped
    errored = Signal(object)       # the exception raised by the generator
    paused_changed = Signal(bool)

    def __init__(self, make_generator: Callable[[], Iterator], max_rate: float = 30.0,
                 probes: list[Probe] | None = None,
                 is_step: Callable[[Any], bool] = lambda item: True) -> None:
        super().__init__()
        self._make_generator = make_generator
        self._interval = 1.0 / max_rate
        self._probes = probes or []
        self._is_step = is_step
        self._resume = threading.Event()
        self._resume.set()
        self._in_flight = threading.BoundedSemaphore(1)
        self._lock = threading.Lock()
        self._steps_left: int | None = None
        self._gui_free = threading.Event()
        self._gui_free.set()
        self._gui_holds = 0         # open holds (GUI thread only)
        self._hold_serial = 0       # bumped when a hold begins (GUI thread)
        self._waited_serial = -1    # the hold the worker last waited for (worker thread)
        self._hold_limit = GUI_HOLD_LIMIT
        self._gate = _GuiGate(self)
        self._holding = threading.Event()

    # -- control (any thread) -----------------------------------------------------------
    def pause(self) -> None:
        self._resume.clear()
        self.paused_changed.emit(True)

    def resume(self) -> None:
        with self._lock:
            self._steps_left = None
        self._resume.set()
        self.paused_changed.emit(False)

    def step(self, count: int = 1) -> None:
        """Run exactly ``count`` step items (e.g. batches), then pause."""
        with self._lock:
            self._steps_left = count
        self._resume.set()

    def stop(self) -> None:
        """Ask the generator to end at its next yield (it is closed, finally blocks run)."""
        self._stop.set()
        self._resume.set()

    def request_stop(self) -> None:
        self.stop()

    def abandon(self) -> None:
        super().abandon()
        self._gate.remove()  # the GUI no longer holds the worker back
    @contextmanager
    def gui_turn(self, longest: float = 0.25):
        """Hold the worker at its next yield while the GUI thread draws.

        Both threads need the GIL; a drawing GUI thread gives it up in every Qt call and
        then waits up to the interpreter's switch interval to get it back, so a paint of a
        few milliseconds can take tens while a busy worker runs. Inside this block the
        worker waits (without the GIL) after its current item, at most ``longest`` s.
        Holds nest: the worker goes on when the last one ends.
        """
        self._hold_gui(longest)
        try:
            yield
        finally:
            self._release_gui()

    def _hold_gui(self, longest: float) -> None:
        """GUI thread: the worker waits at its next yield until :meth:`_release_gui`."""
        if self._gui_holds == 0:
            self._hold_serial += 1
            self._hold_limit = longest
            self._gui_free.clear()
        self._gui_holds += 1

    def _release_gui(self) -> None:
        self._gui_holds -= 1
        if self._gui_holds == 0:
            self._gui_free.set()

    def start(self) -> None:
        self._gate.install()
        super().start()

    def _relay(self, signal_name: str, payload: Any) -> None:
        if signal_name == "done":
            self._gate.remove()
        super()._relay(signal_name, payload)

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def acknowledge(self) -> None:
        """The consumer finished handling a bundle; the worker may send the next one."""
        try:
            self._in_flight.release()
        except ValueError:
            pass

    # -- the loop (worker thread) --------------------------------------------------------
    def _run(self) -> None:
        try:
            generator = self._make_generator()
            result = self._drive(generator)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never swallowed
            self._post("errored", exc)
        else:
            self._post("returned", result)

    def _drive(self, generator: Iterator) -> Any:
        pending: list = []
        last_emit = 0.0
        try:
            while True:
                try:
                    item = next(generator)
                except StopIteration as stop:
                    self._emit(pending, force=True)
                    return stop.value
                pending.append(item)
                if not self._gui_free.is_set():
                    self._wait_for_gui()
                now = time.monotonic()
                if now - last_emit >= self._interval and self._emit(pending):
                    pending, last_emit = [], now
                if self._count_step(item):
                    self._emit(pending, force=True)
                    pending = []
                    self._post("paused_changed", True)
                if not self._wait_while_paused() or self._stop.is_set():
                    self._emit(pending, force=True)
                    return None
        finally:
            close = getattr(generator, "close", None)
            if close is not None:
                close()

    def _wait_for_gui(self) -> None:
        """While the GUI thread holds the worker: wait, once per hold, at most its limit."""
        serial = self._hold_serial
        if serial != self._waited_serial:
            self._waited_serial = serial
            self._gui_free.wait(self._hold_limit)

    def _count_step(self, item: Any) -> bool:
        """True when a requested step has just been completed (the worker now pauses)."""
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
        if self._resume.is_set():
            return True
        self._holding.set()
        try:
            while not self._resume.wait(0.05):
                if self._stop.is_set():
                    return False
            return True
        finally:
            self._holding.clear()

    def wait_until_held(self, timeout: float = 1.0) -> bool:
        """After :meth:`pause`: block until the worker sits between items (True), so the
        GUI thread may read or save what the generator works on."""
        return self._holding.wait(timeout)

    @property
    def held(self) -> bool:
        """True while the worker is paused between items (not inside the generator)."""
        return self._holding.is_set()

    def _emit(self, pending: list, force: bool = False) -> bool:
        """Send ``pending`` unless the GUI still has a bundle to handle (then keep it)."""
        if not pending and not force:
            return False
        if force:
            # a stop must not wait for a GUI that may itself be waiting for this thread
            acquired = self._in_flight.acquire(timeout=0.0 if self._stop.is_set() else 0.5)
        else:
            acquired = self._in_flight.acquire(blocking=False)
        if not acquired and not force:
            return False
        now = time.monotonic()
        probes = {}
        for probe in self._probes:
            if force or now - probe.last_run >= probe.interval:
                probes[probe.name] = probe.fn()
                probe.last_run = now
        self._post("bundle", Bundle(list(pending), probes))
        return True


class FunctionWorker(_Job):
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` in a thread."""

    progress = Signal(int)         # percent, emitted only when it changes
    returned = Signal(object)
    errored = Signal(object)

    def __init__(self, fn: Callable[..., Any], *args, **kwargs) -> None:
        super().__init__()
        self._call = (fn, args, kwargs)
        self._last_percent = -1

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _report(self, fraction: float) -> None:
        percent = int(round(100 * min(max(float(fraction), 0.0), 1.0)))
        if percent != self._last_percent:
            self._last_percent = percent
            self._post("progress", percent)

    def _run(self) -> None:
        fn, args, kwargs = self._call
        try:
            result = fn(*args, progress=self._report, cancel=self._stop.is_set, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI
            self._post("errored", exc)
        else:
            self._post("returned", result)
