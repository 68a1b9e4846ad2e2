"""Runs the engine's ``GradientChecker`` in a worker and hands its results to the view.

The checker is built from a snapshot of the session (a copy of the network, the first
``batch_size`` training rows) the first time the user steps, and kept across commands, so
"Step element" after "Run to next mismatch" continues where the check stopped. Each command
(``"element"``, ``"tensor"``, ``"layer"``, ``"mismatch"``, ``"end"``) drives
``checker.advance(until)`` in a :class:`~nnstudio.gui.workers.GeneratorWorker` (started
and retired by a :class:`~nnstudio.gui.worker_run.WorkerRun`), which bundles the results
(at most 15 GUI updates a second). A probe takes the checker's own summaries in the worker
thread at bundle time, so the GUI never reads the live checker while the worker writes to it.

A network with BatchNorm, Dropout or a custom layer is checked in two phases by default,
fit then predict (``engine.gradcheck.phases``), each with its own checker and store; "Run
to end" goes on into the next phase, a step command moves to it once the phase before is
complete, and ``show_phase`` shows a finished phase again.

Anything that changes the checked function (the network, its weights or faults, the data,
a setting) makes the results stale: the check is dropped and starts over on the next step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from nnstudio.engine.gradcheck import (SELECTED, CheckConfig, GradientChecker, check_batch,
                                       choose_phases, phase_checker)
from nnstudio.engine.user_code import UserCodeError

from ..session import Session
from ..worker_run import WorkerRun, prepared
from ..workers import Bundle, GeneratorWorker, Probe
from .store import CheckProgress, DisplayResults

BUSY_REASON = "a gradient check runs"
#: GUI updates per second while a check runs: smooth to watch, and most of the time left
#: to the worker (each update also paints the tree, heatmap, table and histogram)
BUNDLES_PER_SECOND = 15
STOP_WAIT_MS = 2000


@dataclass(frozen=True)
class CheckSettings:
    """The checker's configuration plus what the GUI decides: how many rows to check on,
    and which phases ("both", "fit", "predict", or "selected": ``config``'s own BatchNorm
    and dropout choices)."""

    config: CheckConfig
    batch_size: int
    phases: str = "both"


@dataclass
class PhaseRun:
    """One phase of a check: its checker, what the view keeps, the last summaries."""

    name: str
    checker: GradientChecker
    store: DisplayResults
    progress: CheckProgress
    notes: list[str] = field(default_factory=list)

class CheckController(QObject):
    """Step / run / stop / reset of a gradient check of the session's network."""

    state_changed = Signal(str)       # "idle" | "running"
    started = Signal(object)          # the new DisplayResults (a fresh check was built)
    results = Signal(object)          # list of the ElementResults of one bundle, in the store
    progress = Signal(object)         # CheckProgress
    finished = Signal(str)            # "done" | "stopped" | "mismatch" | "step" | "error"
    cleared = Signal(str)             # the results were dropped; why (for the status line)
    failed = Signal(str, str)         # title, text
    phases_changed = Signal()         # a phase started, finished, or another one is shown

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings: CheckSettings | None = None
        self.phases: list[PhaseRun] = []
        self.current = 0   # the phase that runs (or ran last)
        self.shown = 0     # the phase the view shows
        self._runs = WorkerRun(self._on_bundle, self._on_done, self._on_errored,
                               wait_ms=STOP_WAIT_MS)
        self.state = "idle"
        self._stop_requested = False
        self._until = "end"
        session.network_changed.connect(lambda _fresh: self.invalidate("The network changed"))
        session.weights_changed.connect(lambda: self.invalidate("The weights changed"))
        session.dataset_changed.connect(lambda: self.invalidate("The data changed"))

    @property
    def worker(self) -> GeneratorWorker | None:
        """The worker of the running check, None when idle."""
        return self._runs.current

    # -- phases ---------------------------------------------------------------------------
    @property
    def checker(self) -> GradientChecker | None:
        """The checker of the phase that runs (or ran last)."""
        return self.phases[self.current].checker if self.phases else None

    @property
    def store(self) -> DisplayResults | None:
        """What the view shows: the store of the shown phase."""
        return self.phases[self.shown].store if self.phases else None

    @property
    def last_progress(self) -> CheckProgress | None:
        return self.phases[self.shown].progress if self.phases else None

    @property
    def shown_phase(self) -> PhaseRun | None:
        return self.phases[self.shown] if self.phases else None

    def show_phase(self, index: int) -> bool:
        """Show a phase's results again (not while a check runs)."""
        if self.state == "running" or not 0 <= index < len(self.phases) or index == self.shown:
            return False
        self.shown = index
        phase = self.phases[index]
        self.started.emit(phase.store)
        self.results.emit(list(phase.store.results))
        self.progress.emit(phase.progress)
        self.phases_changed.emit()
        return True

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
        self._drop_phases()
        self.cleared.emit(f"{why}: the gradient check starts over at the next step.")

    def reset(self) -> None:
        self._retire_worker()
        had = self.checker is not None
        self._drop_phases()
        self.cleared.emit("The gradient check was reset." if had else "")

    def _drop_phases(self) -> None:
        self.phases, self.current, self.shown = [], 0, 0
        self.phases_changed.emit()

    def shutdown(self) -> None:
        """Stop any check and wait for its thread (closing the window)."""
        self._retire_worker()
        self._runs.shutdown()

    # -- commands -------------------------------------------------------------------------
    def command(self, until: str) -> bool:
        """Run the check up to ``until`` in a worker; False if it cannot start."""
        if self.state == "running":
            return False
        phase = prepared(self._ensure_phase, self.failed,
                         {UserCodeError: "Error in your code",
                          ValueError: "Cannot run the gradient check"})
        if phase is None:
            return False
        checker = phase.checker
        if checker.finished:
            self.finished.emit("done")
            return False
        name = phase.name
        worker = self._runs.begin(GeneratorWorker(
            lambda: checker.advance(until), max_rate=BUNDLES_PER_SECOND,
            probes=[Probe("progress", lambda: CheckProgress.of(checker, name), 0.0)]))
        self._until, self._stop_requested = until, False
        if not self.session.busy:
            self.session.set_busy(BUSY_REASON)
        self._set_state("running")
        worker.start()
        return True

    def tolerance(self) -> tuple[float, float] | None:
        """(rtol, floor) of the shown phase; the floor is the engine's, from the rounding
        error of the evaluations unless the settings fix it."""
        phase = self.shown_phase
        if phase is None:
            return None
        return phase.checker.config.rtol, phase.checker.atol

    def stop(self) -> None:
        if self.worker is not None:
            self._stop_requested = True
            self._runs.stop()

    # -- the checker ----------------------------------------------------------------------
    def _ensure_phase(self) -> PhaseRun:
        """The phase to run next: built on the first step, the next one once a phase is
        complete."""
        if not self.phases:
            self._build_phases()
        phase = self.phases[self.current]
        if phase.checker.finished and self.current + 1 < len(self.phases):
            self.current += 1
            phase = self.phases[self.current]
        if self.shown != self.current:
            self.shown = self.current
            self.started.emit(phase.store)
            self.results.emit(list(phase.store.results))
        self.progress.emit(phase.progress)
        self.phases_changed.emit()
        return phase

    def _build_phases(self) -> None:
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
        config = self.settings.config
        x, y = check_batch(snapshot.dataset.x_train, snapshot.dataset.y_train,
                           self.settings.batch_size, config.seed)
        chosen = self.settings.phases
        names = ((SELECTED,) if chosen == SELECTED
                 else choose_phases(snapshot.network, "auto" if chosen == "both" else chosen))
        phases = []
        for name in names:
            checker, notes = phase_checker(snapshot.network, x, y, config, name)
            store = DisplayResults(list(checker.tensors), checker.atol)
            phases.append(PhaseRun(name, checker, store, CheckProgress.of(checker, name), notes))
        self.phases, self.current, self.shown = phases, 0, 0
        self.started.emit(phases[0].store)

    # -- worker events --------------------------------------------------------------------
    def _on_bundle(self, worker: GeneratorWorker, bundle: Bundle) -> None:
        if self.store is None:
            return
        # The worker waits (without the GIL) while the views update and paint, else the
        # two threads trade the GIL and a few ms of drawing stretch to 100+ ms.
        with worker.gui_turn():
            self._deliver(bundle)
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    def _deliver(self, bundle: Bundle) -> None:
        phase = self.phases[self.current]
        phase.store.add(bundle.items)
        progress = bundle.probes.get("progress")
        if progress is not None:
            phase.progress = progress
        self.results.emit(bundle.items)
        if progress is not None:
            self.progress.emit(progress)

    def _on_errored(self, exc: Exception) -> None:
        if isinstance(exc, UserCodeError):
            self.failed.emit("Error in your code", str(exc))
        else:
            self.failed.emit("The gradient check failed", f"{type(exc).__name__}: {exc}")
        self._stop_requested = True

    def _on_done(self) -> None:
        reason = self._end_reason()
        phase = self.phases[self.current] if self.phases else None
        if (phase is not None and reason == "done" and self._until in ("end", "mismatch")
                and phase.checker.finished and self.current + 1 < len(self.phases)):
            # "Run to end" (or to the next mismatch) goes on into the next phase; the
            # session stays busy in between.
            self._set_state("idle")
            self.phases_changed.emit()
            QTimer.singleShot(0, lambda until=self._until: self.command(until))
            return
        self._release_busy()
        self._set_state("idle")
        failing = [i for i, p in enumerate(self.phases) if p.checker.checked and not p.progress.passed]
        if failing and self.shown not in failing:
            self.show_phase(failing[0])  # the phase that found something, not the last one run
        self.phases_changed.emit()
        self.finished.emit(reason)

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
        if self._runs.retire() is None:
            return
        self._release_busy()
        self._set_state("idle")

    def _release_busy(self) -> None:
        if self.session.busy_reason == BUSY_REASON:
            self.session.set_busy(None)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
