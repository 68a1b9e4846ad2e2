"""Runs the engine's ``GradientChecker`` in a worker and hands its results to the view.

The checker is built from a snapshot of the session (a copy of the network, the first
``batch_size`` training rows) the first time the user steps, and kept across commands, so
"Step element" after "Run to next mismatch" continues where the check stopped. Each command
(``"element"``, ``"tensor"``, ``"layer"``, ``"mismatch"``, ``"end"``) drives
``checker.advance(until)`` in a :class:`~nnstudio.gui.workers.GeneratorWorker`, which
bundles the yielded results (at most 15 GUI updates a second). A probe takes the checker's
own summaries in the worker thread at bundle time, so the GUI never reads the live checker
while the worker writes to it.

Anything that changes the checked function (the network, its weights or faults, the data,
a setting) makes the results stale: the check is dropped and starts over on the next step.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEventLoop, QObject, Signal
from PySide6.QtWidgets import QApplication

from nnstudio.engine.gradcheck import CheckConfig, GradientChecker, check_batch

from ..session import Session
from ..workers import Bundle, GeneratorWorker, Probe
from .store import CheckProgress, ResultStore

BUSY_REASON = "a gradient check runs"
#: GUI updates per second while a check runs: smooth to watch, and most of the time left
#: to the worker (each update also paints the tree, heatmap, table and histogram)
BUNDLES_PER_SECOND = 15
STOP_WAIT_MS = 2000


@dataclass(frozen=True)
class CheckSettings:
    """The checker's configuration plus what the GUI decides: how many rows to check on."""

    config: CheckConfig
    batch_size: int


class CheckController(QObject):
    """Step / run / stop / reset of a gradient check of the session's network."""

    state_changed = Signal(str)       # "idle" | "running"
    started = Signal(object)          # the new ResultStore (a fresh check was built)
    results = Signal(object)          # list of the ElementResults of one bundle, in the store
    progress = Signal(object)         # CheckProgress
    finished = Signal(str)            # "done" | "stopped" | "mismatch" | "step" | "error"
    cleared = Signal(str)             # the results were dropped; why (for the status line)
    failed = Signal(str, str)         # title, text

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings: CheckSettings | None = None
        self.checker: GradientChecker | None = None
        self.store: ResultStore | None = None
        self.last_progress: CheckProgress | None = None
        self.worker: GeneratorWorker | None = None
        self.state = "idle"
        self._retiring: list[GeneratorWorker] = []
        self._stop_requested = False
        self._until = "end"
        session.network_changed.connect(lambda _fresh: self.invalidate("The network changed"))
        session.weights_changed.connect(lambda: self.invalidate("The weights changed"))
        session.dataset_changed.connect(lambda: self.invalidate("The data changed"))

    # -- settings and lifetime ------------------------------------------------------------
    def set_settings(self, settings: CheckSettings) -> None:
        """New settings apply from the next step; results under the old ones are dropped."""
        if settings != self.settings:
            had_check = self.checker is not None
            self.settings = settings
            if had_check:
                self.invalidate("The check settings changed")

    def invalidate(self, why: str) -> None:
        """Drop the check (stopping a running one); the next step starts over."""
        if self.checker is None and self.worker is None:
            return
        self._retire_worker()
        self.checker, self.store, self.last_progress = None, None, None
        self.cleared.emit(f"{why}: the gradient check starts over at the next step.")

    def reset(self) -> None:
        self._retire_worker()
        had = self.checker is not None
        self.checker, self.store, self.last_progress = None, None, None
        self.cleared.emit("The gradient check was reset." if had else "")

    def shutdown(self) -> None:
        """Stop any check and wait for its thread (closing the window)."""
        self._retire_worker()
        for worker in list(self._retiring):
            worker.wait(STOP_WAIT_MS)

    # -- commands -------------------------------------------------------------------------
    def command(self, until: str) -> bool:
        """Run the check up to ``until`` in a worker; False if it cannot start."""
        if self.state == "running":
            return False
        try:
            checker = self._ensure_checker()
        except ValueError as exc:
            self.failed.emit("Cannot run the gradient check", str(exc))
            return False
        if checker.finished:
            self.finished.emit("done")
            return False
        worker = GeneratorWorker(lambda: checker.advance(until), max_rate=BUNDLES_PER_SECOND,
                                 probes=[Probe("progress", lambda: CheckProgress.of(checker), 0.0)])
        # Bound methods of this QObject (not lambdas), so the calls are queued to the GUI
        # thread; sender() tells which worker a late signal came from.
        worker.bundle.connect(self._on_bundle)
        worker.errored.connect(self._on_errored)
        worker.done.connect(self._on_done)
        self.worker, self._until, self._stop_requested = worker, until, False
        if not self.session.busy:
            self.session.set_busy(BUSY_REASON)
        self._set_state("running")
        worker.start()
        return True

    def tolerance(self) -> tuple[float, float] | None:
        """(rtol, atol) of the current check; atol is the floor in use, which the engine
        may scale with the loss (``CheckConfig.atol_scales_with_loss``)."""
        if self.checker is None:
            return None
        return self.checker.config.rtol, self.checker.atol

    def stop(self) -> None:
        if self.worker is not None:
            self._stop_requested = True
            self.worker.stop()

    # -- the checker ----------------------------------------------------------------------
    def _ensure_checker(self) -> GradientChecker:
        if self.checker is not None:
            return self.checker
        refusal = self.session.edit_refusal("run a gradient check")
        if refusal:
            raise ValueError(refusal)
        if self.settings is None:
            raise ValueError("the check settings are not set")
        snapshot = self.session.snapshot()
        if snapshot.dataset is None:
            raise ValueError("load a dataset first (Data panel or File ▸ Open CSV…)")
        if snapshot.network is None:
            raise ValueError(self.session.network_error or "the network is not built")
        x, y = check_batch(snapshot.dataset.x_train, snapshot.dataset.y_train,
                           self.settings.batch_size, self.settings.config.seed)
        self.checker = GradientChecker(snapshot.network, x, y, self.settings.config)
        self.store = ResultStore(list(self.checker.tensors), self.checker.atol)
        self.last_progress = CheckProgress.of(self.checker)
        self.started.emit(self.store)
        self.progress.emit(self.last_progress)
        return self.checker

    # -- worker events --------------------------------------------------------------------
    def _on_bundle(self, bundle: Bundle) -> None:
        worker = self.sender()
        try:
            if worker is not self.worker or self.store is None:
                return  # a bundle from a check that was dropped meanwhile
            # The worker waits (without the GIL) while the views update and paint, else
            # the two threads trade the GIL and a few ms of drawing stretch to 100+ ms.
            with worker.gui_turn():
                self._deliver(bundle)
                QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        finally:
            worker.acknowledge()

    def _deliver(self, bundle: Bundle) -> None:
        self.store.add(bundle.items)
        progress = bundle.probes.get("progress")
        if progress is not None:
            self.last_progress = progress
        self.results.emit(bundle.items)
        if progress is not None:
            self.progress.emit(progress)

    def _on_errored(self, exc: Exception) -> None:
        if self.sender() is self.worker:
            self.failed.emit("The gradient check failed", f"{type(exc).__name__}: {exc}")
            self._stop_requested = True

    def _on_done(self) -> None:
        worker = self.sender()
        # The thread quits right after "done"; wait for it so that it is never destroyed
        # while still running.
        if worker in self._retiring:
            self._retiring.remove(worker)
            worker.wait(STOP_WAIT_MS)
            return
        if worker is not self.worker:
            return
        worker.wait(STOP_WAIT_MS)
        self.worker = None
        self._release_busy()
        self._set_state("idle")
        self.finished.emit(self._end_reason())

    def _end_reason(self) -> str:
        if self._stop_requested:
            return "stopped"
        checker = self.checker
        if checker is None or checker.finished:
            return "done"
        if self._until == "mismatch":
            return "mismatch"
        return "step"

    def _retire_worker(self) -> None:
        """Stop the running worker; keep it referenced until its thread has ended."""
        worker = self.worker
        if worker is None:
            return
        self.worker = None
        worker.stop()
        self._retiring.append(worker)
        self._release_busy()
        self._set_state("idle")

    def _release_busy(self) -> None:
        if self.session.busy_reason == BUSY_REASON:
            self.session.set_busy(None)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
