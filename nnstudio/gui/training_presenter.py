"""A training run on screen: what the training controller sends, drawn at a pace the
training thread can afford.

Batches and epochs go to the curves, progress to the Training panel, epoch snapshots to the
BatchNorm panel, probe results to the decision boundary; all of it is drawn together in one
paced redraw (``RedrawPacer``), together with any view added by :meth:`draw_also` (the
Layers view). When a run pauses or ends, what arrived is drawn at once and the run's state
shown; then :class:`RunStatus` says where the trainer is.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from .batchnorm_panel import BatchNormPanel
from .boundary_view import BoundaryView
from .curves import CurvesWidget
from .redraw_pacer import RedrawPacer
from .run_status import RunStatus
from .session import Session
from .training_controller import TrainingController
from .training_panel import TrainingPanel

#: while training, curves and progress are redrawn as bundles arrive (``BUNDLE_RATE``, 2 a
#: second) and at most every 250 ms: painting holds the GIL most of the time, and every
#: millisecond of it is taken from the training thread (10 redraws a second cost a fast run
#: ~15 % of its speed, 2 about 3 %) ...
REDRAW_INTERVAL_MS = 250
#: ... and less often when drawing is slow: redraws take at most this share of the time
REDRAW_BUDGET = 0.03
#: a bundle arriving this share of the interval before a redraw is due is drawn at once
REDRAW_SLACK = 0.2
STATE_TEXT = {"idle": "", "running": "Training…", "paused": "Paused"}
FINISHED_TEXT = {"done": "Finished", "stopped": "Stopped", "diverged": "Diverged",
                 "error": "Failed"}


@dataclass(frozen=True)
class TrainingViews:
    """The window's widgets that show a training run."""

    curves: CurvesWidget
    panel: TrainingPanel
    batchnorm: BatchNormPanel
    boundary: BoundaryView
    #: the status bar's "Training…" / "Paused"
    state_label: QLabel


class TrainingPresenter(QObject):
    """Connects ``controller`` to ``views``; see the module docstring."""

    def __init__(self, controller: TrainingController, session: Session, views: TrainingViews,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.session, self.views = controller, session, views
        self._paced_views: list[Callable[[], None]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._pacer = RedrawPacer(REDRAW_INTERVAL_MS / 1000, REDRAW_BUDGET, slack=REDRAW_SLACK)
        self._flushing = self._flush_again = False
        self._pending_progress: tuple | None = None
        controller.add_probe("boundary", views.boundary.make_probe)
        slots = {"state_changed": self._on_state, "batches": self._on_batches,
                 "epochs": self._on_epochs, "probes": self._on_probes,
                 "progress": self._on_progress, "bundle_handled": self._schedule,
                 "history_cleared": views.curves.clear, "finished": self._on_finished}
        for name, slot in slots.items():
            getattr(controller, name).connect(slot)
        # after this presenter's own slots: a run that pauses or ends is drawn first, then
        # the trainer's position replaces whatever progress the last bundle carried
        self.run_status = RunStatus(controller, session, views.panel, views.curves, self)

    def draw_also(self, flush: Callable[[], None]) -> None:
        """Call ``flush`` in every paced redraw (a view that draws what it has stored)."""
        self._paced_views.append(flush)

    def _schedule(self) -> None:
        """After a bundle: draw now if a redraw is due (one wake-up of the GUI thread for
        both), else once it is due."""
        wait = self._pacer.wait(time.perf_counter())
        if wait == 0.0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(max(1, round(1000 * wait)))

    def flush(self) -> None:
        """Draw what arrived since the last redraw: curves, progress, BatchNorm numbers.

        While training runs, the drawing (including the paint events it causes) happens in
        one go with the worker held between batches: see ``GeneratorWorker.gui_turn``.
        """
        if self._flushing:  # called from an event handled while painting: draw after it
            self._flush_again = True
            return
        self._timer.stop()
        self._flushing, self._flush_again = True, False
        started = time.perf_counter()
        try:
            with self.controller.gui_turn():
                self._draw_pending()
                if self.controller.state == "running":
                    QApplication.processEvents(
                        QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
                if self._flush_again:  # e.g. the last bundle and the end of the run
                    self._draw_pending()
        finally:
            self._flushing = False
        self._pacer.record(started, time.perf_counter() - started)

    def _draw_pending(self) -> None:
        views = self.views
        views.curves.redraw()
        if self._pending_progress is not None:
            # paused: a bundle still on its way must not overwrite where the trainer is
            if (self.controller.state != "paused"
                    or not self.run_status.show_position("paused")):
                views.panel.show_progress(*self._pending_progress)
            self._pending_progress = None
        views.batchnorm.flush()
        for flush in self._paced_views:
            flush()

    def _on_progress(self, *progress) -> None:
        self._pending_progress = progress

    def _on_state(self, state: str) -> None:
        if state != "running":
            self.flush()
        self.views.panel.set_state(state)
        self.views.state_label.setText(STATE_TEXT.get(state, state))

    def _on_batches(self, batches: list) -> None:
        offset = self.controller.step_offset
        self.views.curves.add_batches([offset + b.step for b in batches],
                                      [b.loss for b in batches])

    def _on_epochs(self, epochs: list) -> None:
        curves = self.views.curves
        curves.set_metric_name(epochs[-1].metric_name)
        offset = self.controller.epoch_offset
        curves.add_epochs([offset + e.epoch for e in epochs], [e.train_loss for e in epochs],
                          [e.val_loss for e in epochs], [e.train_metric for e in epochs],
                          [e.val_metric for e in epochs])
        self.views.batchnorm.show_epoch(epochs[-1])

    def _on_probes(self, results: dict) -> None:
        if results.get("boundary") is not None:
            self.views.boundary.show_plane(results["boundary"])

    def _on_finished(self, reason: str) -> None:
        self.flush()
        self.views.panel.show_finished(FINISHED_TEXT.get(reason, reason))
        self.session.mark_weights_changed()
