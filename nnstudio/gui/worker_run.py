"""The run helper of the two controllers (training, gradient check and through it the Own
model check): one current :class:`~nnstudio.gui.workers.GeneratorWorker`, and the stopped
ones until their work has ended.

A controller hands the helper a worker and its own handlers; the helper connects them,
acknowledges every bundle after the handler (whatever it raised), and passes on only what
the *current* worker says: a bundle, error or pause from a worker that was stopped and
replaced (a check dropped because the network changed) is ignored. The handlers receive
the worker, so a handler may hold it while it draws (``worker.gui_turn()``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import SignalInstance

from .workers import Bundle, GeneratorWorker

T = TypeVar("T")


def prepared(prepare: Callable[[], T], failed: SignalInstance,
             titles: dict[type[ValueError], str]) -> T | None:
    """``prepare()`` (what a worker is about to run on), or None once a refusal was shown.

    A ``ValueError`` it raises (no dataset, bad options, an error in the user's code) is
    emitted as ``failed(title, message)``, the title that of the first class in ``titles``
    the error is an instance of; another error is raised.
    """
    try:
        return prepare()
    except ValueError as exc:
        for kind, title in titles.items():
            if isinstance(exc, kind):
                failed.emit(title, str(exc))
                return None
        raise


class WorkerRun:
    """Start, stop and retire the workers of one controller.

    Parameters
    ----------
    on_bundle : callable
        ``on_bundle(worker, bundle)`` for each bundle of the current worker.
    on_finished : callable
        ``on_finished()`` when the current worker's work has ended (it is no longer
        :attr:`current`).
    on_errored, on_paused_changed : callable, optional
        ``on_errored(exception)``, ``on_paused_changed(paused)`` of the current worker.
    wait_ms : int
        How long to wait for a worker's work to end once it said so, and at shutdown.
    """

    def __init__(self, on_bundle: Callable[[GeneratorWorker, Bundle], None],
                 on_finished: Callable[[], None],
                 on_errored: Callable[[BaseException], None] | None = None,
                 on_paused_changed: Callable[[bool], None] | None = None,
                 wait_ms: int = 2000) -> None:
        self._on_bundle = on_bundle
        self._on_finished = on_finished
        self._on_errored = on_errored
        self._on_paused_changed = on_paused_changed
        self._wait_ms = wait_ms
        self.current: GeneratorWorker | None = None
        self._retiring: list[GeneratorWorker] = []

    def begin(self, worker: GeneratorWorker) -> GeneratorWorker:
        """Connect ``worker`` and make it the current one; the caller starts it."""
        # Plain functions, queued to the GUI thread: superqt's signals live there.
        worker.yielded.connect(lambda bundle: self._bundle(worker, bundle))
        worker.errored.connect(lambda exc: self._if_current(worker, self._on_errored, exc))
        worker.paused_changed.connect(
            lambda paused: self._if_current(worker, self._on_paused_changed, paused))
        worker.finished.connect(lambda: self._finished(worker))
        self.current = worker
        return worker

    def stop(self) -> None:
        """Ask the current worker to end at its next item; it stays current until it has."""
        if self.current is not None:
            self.current.stop()

    def retire(self) -> GeneratorWorker | None:
        """Stop the current worker and let it go; it is kept until its work has ended."""
        worker, self.current = self.current, None
        if worker is not None:
            worker.stop()
            self._retiring.append(worker)
        return worker

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Retire the current worker and wait for every retired one (the window closes);
        one still inside a long item is abandoned (it ends unheard). True if all ended."""
        self.retire()
        ended = True
        for worker in list(self._retiring):
            if not worker.wait(self._wait_ms if timeout_ms is None else timeout_ms):
                worker.abandon()
                self._retiring.remove(worker)
                ended = False
        return ended

    # -- worker signals (GUI thread) -----------------------------------------------------
    def _bundle(self, worker: GeneratorWorker, bundle: Bundle) -> None:
        try:
            if worker is self.current:
                self._on_bundle(worker, bundle)
        finally:
            worker.acknowledge()

    def _if_current(self, worker: GeneratorWorker, handler, value) -> None:
        if worker is self.current and handler is not None:
            handler(value)

    def _finished(self, worker: GeneratorWorker) -> None:
        # The work has just ended; wait for it, so that nothing reads what it still writes.
        worker.wait(self._wait_ms)
        if worker in self._retiring:
            self._retiring.remove(worker)
        elif worker is self.current:
            self.current = None
            self._on_finished()
