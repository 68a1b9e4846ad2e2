"""Run long work off the GUI thread, on superqt's workers: a generator (training, a gradient
check) or a function (CSV loading, the tiny-batch check).

superqt carries the thread (a runnable in Qt's global pool), the ``started`` / ``yielded``
/ ``returned`` / ``errored`` / ``finished`` signals and the keeping alive of a started
worker. What is ours (each override says which superqt behaviour it replaces and why):

- :class:`GeneratorWorker` drives :meth:`nnstudio.engine.bundled_run.BundledRun.run`, so
  ``yielded`` carries a :class:`Bundle` of items, rate-limited and acknowledged, and pause,
  ``step(n)`` and stop act between the *items* (superqt's own pause and quit act between
  the bundles it sees, up to half a second apart, and its pause polls every 10 ms).
  ``paused_changed(bool)`` says when the run pauses or resumes (also when a step is done).
  Its ``work`` loop is ours (ten lines): superqt's takes a ``RuntimeError`` of the
  generator for a deleted object and reports nothing.
- The GUI goes first: from the first event the GUI thread handles after waking (a click, a
  paint, a timer) until its event loop is idle again, the worker waits after its current
  item (at most ``GUI_HOLD_LIMIT`` s each time): both threads need the GIL.
- :class:`FunctionWorker` calls ``fn(*args, progress=..., cancel=..., **kwargs)``; progress
  is emitted only when the rounded percentage changes. Cancel is a flag the function reads,
  not superqt's abort, so what a cancelled function returns is still ``returned``.
- Lifetime: :meth:`~_Lifetime.wait` for one worker, :meth:`~_Lifetime.abandon` (the owner
  goes away while an item may still run: stop, and cut the signals off), and
  :func:`wait_for_jobs` at exit, so a window closed during a 4.5 s batch never aborts the
  process. A worker starts at once, also inside an event loop (superqt's ``start`` then
  waits for a timer, and a GUI thread blocked in :meth:`~_Lifetime.wait` never gets it).

Every signal is emitted on a QObject that lives in the GUI thread, so each receiver (a
widget slot, a plain function, a test's waitSignal) runs there, never in the worker thread.
"""
from __future__ import annotations

import atexit
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import (QAbstractEventDispatcher, QCoreApplication, QObject, QThreadPool,
                            Signal)
from superqt.utils import FunctionWorker as _SuperFunctionWorker
from superqt.utils import GeneratorWorker as _SuperGeneratorWorker
from superqt.utils import WorkerBase
from superqt.utils._qthreading import GeneratorWorkerSignals, WorkerBaseSignals

from nnstudio.engine.bundled_run import Bundle, BundledRun, Probe, every_item_is_a_step

__all__ = ["GUI_HOLD_LIMIT", "Bundle", "FunctionWorker", "GeneratorWorker", "Probe",
           "running_jobs", "wait_for_jobs"]

#: seconds the worker waits at most for one busy spell of the GUI thread (after that it goes
#: on, so a long computation in the GUI thread slows the work but does not stop it)
GUI_HOLD_LIMIT = 0.1
#: signals cut off from an owner that goes away (superqt's private ``_finished``, which
#: lets go of the worker once it has ended, stays)
PUBLIC_SIGNALS = ("started", "yielded", "returned", "errored", "finished",
                  "paused_changed", "progress")


def running_jobs() -> list[WorkerBase]:
    """Our started workers whose work has not ended yet."""
    return [job for job in list(WorkerBase._worker_set)
            if isinstance(job, _Lifetime) and not job.is_finished()]


def wait_for_jobs() -> None:
    """Ask every worker still running to stop and wait until its work ends, and the pool
    until its threads are done with it (process exit: a worker inside a long item
    finishes it, then the process ends normally)."""
    jobs = running_jobs()
    for job in jobs:
        job.request_stop()
    for job in jobs:
        job.wait(None)
    QThreadPool.globalInstance().waitForDone()


atexit.register(wait_for_jobs)


class _Lifetime:
    """What superqt leaves to us: waiting for one worker, abandoning it, a thread for each."""

    def _init_lifetime(self) -> None:
        self._ended = threading.Event()
        #: True from :meth:`start` until ``finished`` reached the GUI thread
        self.running = False
        self.finished.connect(self._on_finished)

    def start(self) -> None:
        # A paused run holds its pool thread for as long as it is paused: give every job a
        # thread of its own, or a third job would queue behind two paused ones.
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), len(running_jobs()) + 1))
        if self in WorkerBase._worker_set:
            raise RuntimeError("This worker is already started!")
        self.running = True
        # superqt's start, but at once: inside an event loop superqt defers it by a timer,
        # and a GUI thread that then blocks waiting for the work (a closing window) would
        # wait for a start that only its own event loop can make
        WorkerBase._worker_set.add(self)
        self._finished.connect(WorkerBase._set_discard)
        pool.start(self)

    def run(self) -> None:
        """superqt's ``run`` (called by the pool) without its capture of warnings: that
        swaps the process-wide ``warnings.showwarning`` and filters from this thread, and
        after two overlapping workers every warning of the process went, for good, to the
        ``warned`` signal of a worker that had ended."""
        self._running = True
        self.started.emit()
        try:
            try:
                result = self.work()
            except Exception as exc:  # noqa: BLE001 - reported to the GUI, never swallowed
                self.errored.emit(exc)
            else:
                self.returned.emit(result)
        finally:  # also after a BaseException (SystemExit in user code): the owner hears
            self._running = False
            self.finished.emit()
            self._finished.emit(self)
            self._ended.set()

    def _on_finished(self) -> None:
        self.running = False

    def request_stop(self) -> None:
        """Ask the work to end at its next chance (any thread)."""
        raise NotImplementedError

    def quit(self) -> None:  # superqt's name (``WorkerBase.await_workers`` calls it)
        self.request_stop()

    def wait(self, timeout_ms: int | None = 1000) -> bool:
        """Block until the work has ended (True) or ``timeout_ms`` passed (False)."""
        return self._ended.wait(None if timeout_ms is None else timeout_ms / 1000)

    def is_finished(self) -> bool:
        return self._ended.is_set()

    def abandon(self) -> None:
        """The owner goes away (window closing) while the work may still run: stop it,
        and disconnect every public signal so nothing reaches the owner's deleted objects.
        superqt keeps the worker alive until it ends (see :func:`wait_for_jobs`)."""
        self.request_stop()
        for name in PUBLIC_SIGNALS:
            signal = getattr(self.signals, name, None)
            if signal is None:
                continue
            with warnings.catch_warnings():  # PySide warns when nothing was connected
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass


class _GuiGate(QObject):
    """Holds a run while the GUI thread handles events (see the module docstring).

    An application event filter sees the first event of every busy spell of the GUI
    thread; the event dispatcher's ``aboutToBlock`` says when the spell is over.
    """

    def __init__(self, run: BundledRun) -> None:
        super().__init__()
        self._run = run
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
            self._run.hold(GUI_HOLD_LIMIT)
        return False

    def close(self) -> None:
        if self._open:
            self._open = False
            self._run.release()


class _GeneratorSignals(GeneratorWorkerSignals):
    paused_changed = Signal(bool)


class GeneratorWorker(_Lifetime, _SuperGeneratorWorker):
    """Drive ``make_generator()`` in bundles in a thread; see the module docstring.

    ``yielded`` carries :class:`Bundle` s; the consumer calls :meth:`acknowledge` after
    handling each. ``returned`` carries the generator's return value, None when stopped.
    """

    def __init__(self, make_generator: Callable[[], Iterator], max_rate: float = 30.0,
                 probes: list[Probe] | None = None,
                 is_step: Callable[[Any], bool] = every_item_is_a_step) -> None:
        control = BundledRun(make_generator, max_rate, probes, is_step,
                             on_self_pause=lambda: self.paused_changed.emit(True))
        super().__init__(control.run, SignalsClass=_GeneratorSignals)
        #: the bundling, step counting and holds, without Qt
        self.control = control
        self._gate = _GuiGate(control)
        self._init_lifetime()
        self.finished.connect(self._gate.remove)

    # -- control (any thread) -----------------------------------------------------------
    def pause(self) -> None:
        self.control.pause()
        self.paused_changed.emit(True)

    def resume(self) -> None:
        self.control.resume()
        self.paused_changed.emit(False)

    def toggle_pause(self) -> None:
        if self.is_paused:
            self.resume()
        else:
            self.pause()

    @property
    def is_paused(self) -> bool:
        return self.control.paused

    def step(self, count: int = 1) -> None:
        """Run exactly ``count`` step items (e.g. batches), then pause."""
        self.control.step(count)

    def stop(self) -> None:
        """Ask the generator to end at its next item (it is closed, finally blocks run)."""
        self.control.stop()

    def request_stop(self) -> None:
        self.stop()

    def acknowledge(self) -> None:
        """The consumer finished handling a bundle; the worker may send the next one."""
        self.control.acknowledge()

    @property
    def held(self) -> bool:
        """True while the worker is paused between items (not inside the generator)."""
        return self.control.held

    def wait_until_held(self, timeout: float = 1.0) -> bool:
        """After :meth:`pause`: block until the worker sits between items (True), so the
        GUI thread may read or save what the generator works on."""
        return self.control.wait_until_held(timeout)

    # -- the GUI first (GUI thread) -----------------------------------------------------
    @contextmanager
    def gui_turn(self, longest: float = 0.25):
        """Hold the worker at its next item while the GUI thread draws.

        A drawing GUI thread gives the GIL up in every Qt call and then waits up to the
        interpreter's switch interval to get it back, so a paint of a few milliseconds can
        take tens while a busy worker runs. Inside this block the worker waits (without
        the GIL) after its current item, at most ``longest`` s. Holds nest.
        """
        self.control.hold(longest)
        try:
            yield
        finally:
            self.control.release()

    def start(self) -> None:
        self._gate.install()
        super().start()

    def work(self) -> Any:
        """Emit each bundle; pause, step and stop are the control's, between items.

        Not superqt's loop: it returns a ``RuntimeError`` raised by the generator (taking it
        for a deleted C++ object) and ``run`` then only warns, so a layer raising
        RuntimeError would end a check with neither ``errored`` nor ``returned``.
        """
        while True:
            try:
                bundle = next(self._gen)
            except StopIteration as end:
                return end.value
            self.yielded.emit(bundle)

    def abandon(self) -> None:
        super().abandon()
        self._gate.remove()  # the GUI no longer holds the worker back


class _FunctionSignals(WorkerBaseSignals):
    progress = Signal(int)         # percent, emitted only when it changes


class FunctionWorker(_Lifetime, _SuperFunctionWorker):
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` in a thread."""

    def __init__(self, fn: Callable[..., Any], *args, **kwargs) -> None:
        super().__init__(fn, *args, **kwargs)
        self.signals = _FunctionSignals()
        self._cancel = threading.Event()
        self._last_percent = -1
        self._init_lifetime()

    def cancel(self) -> None:
        self._cancel.set()

    def request_stop(self) -> None:
        self.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, fraction: float) -> None:
        percent = int(round(100 * min(max(float(fraction), 0.0), 1.0)))
        if percent != self._last_percent:
            self._last_percent = percent
            self.progress.emit(percent)

    def work(self) -> Any:
        return self._func(*self._args, progress=self._report, cancel=self._cancel.is_set,
                          **self._kwargs)
