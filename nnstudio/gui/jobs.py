"""The lifetime of a worker thread: a job owns a QThread and outlives its owner if it must.

Qt aborts the process when a QThread object is destroyed while its thread runs, and a job
stops only between items, so one long item (a 4.5 s training batch) can outlast a closing
window. Every started job is therefore kept alive by this module until its thread has
ended, whatever happens to its owner; :meth:`Job.abandon` cuts its signals off from an
owner that goes away; :func:`wait_for_jobs` (run at exit) lets the last items finish, so
the process ends normally.
"""
from __future__ import annotations

import atexit
import threading
import warnings
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

#: started jobs whose thread may still run (see the module docstring)
_RUNNING: set["Job"] = set()


def running_jobs() -> list["Job"]:
    """Jobs whose thread has not been seen to end yet."""
    return [job for job in list(_RUNNING) if not job.is_finished()]


def wait_for_jobs() -> None:
    """Ask every job still running to stop and wait until its thread ends (process exit:
    a worker inside a long item finishes it, then the process ends normally)."""
    for job in list(_RUNNING):
        job.request_stop()
    for job in list(_RUNNING):
        job._thread.wait()
        _RUNNING.discard(job)


atexit.register(wait_for_jobs)


class _Runner(QObject):
    """Lives in the worker thread; runs the job and posts its messages to the GUI thread."""

    message = Signal(str, object)

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    @Slot()
    def run(self) -> None:
        try:
            self._work()
        finally:
            self.message.emit("done", None)
            self.thread().quit()


class Job(QObject):
    """Common lifetime: a QThread of its own, ``done`` when the work is over.

    The job object stays in the GUI thread and re-emits what the runner posts, so every
    public signal is emitted in the GUI thread: any receiver (a widget slot, a plain
    function, a test's waitSignal) runs there, never in the worker thread.
    """

    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._thread = QThread()
        self._thread.setObjectName(type(self).__name__)
        self._runner = _Runner(self._run)
        self._runner.moveToThread(self._thread)
        self._runner.message.connect(self._relay)
        self._thread.started.connect(self._runner.run)
        self._stop = threading.Event()
        self.running = False

    def start(self) -> None:
        for job in [job for job in _RUNNING if job.is_finished()]:
            _RUNNING.discard(job)
        _RUNNING.add(self)
        self.running = True
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the work to end at its next chance (any thread)."""
        self._stop.set()

    def abandon(self) -> None:
        """The owner goes away (window closing) while the work may still run: stop it,
        and disconnect every public signal so nothing reaches the owner's deleted objects.
        The job stays alive until its thread ends (see :func:`wait_for_jobs`)."""
        self.request_stop()
        for name in ("done", "bundle", "returned", "errored", "paused_changed", "progress"):
            signal = getattr(self, name, None)
            if signal is None:
                continue
            with warnings.catch_warnings():  # PySide warns when nothing was connected
                warnings.simplefilter("ignore", RuntimeWarning)
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass

    def _run(self) -> None:
        """The work, in the worker thread; report through :meth:`_post`."""
        raise NotImplementedError

    def _post(self, signal_name: str, payload: Any = None) -> None:
        """From the worker thread: emit ``signal_name`` with ``payload`` in the GUI thread."""
        self._runner.message.emit(signal_name, payload)

    def _relay(self, signal_name: str, payload: Any) -> None:
        if signal_name == "done":
            self.running = False
            # the runner quits its thread right after posting "done": a moment
            if self._thread.wait(2000):
                _RUNNING.discard(self)
            self.done.emit()
        else:
            getattr(self, signal_name).emit(payload)

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Block until the thread has ended (True) or the timeout passed (False)."""
        return self._thread.wait(timeout_ms)

    def is_finished(self) -> bool:
        return self._thread.isFinished() or not self._thread.isRunning()
