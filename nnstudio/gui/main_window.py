"""The studio's main window: builder on the left, views in the middle, training and data on
the right, menus for files, editing, data and training.

Extension points (for the gradient-check view and custom layers)
-----------------------------------------------------------------
``MainWindow.add_view(title, widget) -> int``
    Add a tab to the central view area (next to Curves, BatchNorm, Decision boundary);
    returns its tab index. ``MainWindow.views`` is the QTabWidget itself.
``MainWindow.session_snapshot() -> SessionSnapshot``
    ``.network`` (an independent deep copy: weights, running statistics), ``.dataset``,
    ``.bn_stats`` ("batch" or "running", the global BatchNorm switch) and ``.train_config``.
``MainWindow.session``
    The live :class:`~nnstudio.gui.session.Session`; its signals (``network_changed``,
    ``weights_changed``, ``dataset_changed``, ``bn_mode_changed``, ``busy_changed``) tell a view
    when its results are stale. ``session.busy`` is True while training runs.
``MainWindow.layer_stack.set_layer_status(index, status, detail)``
    Badge network layer ``index`` with "ok", "kink" or "mismatch" (None clears);
    ``layer_status(index)``, ``clear_layer_statuses()``.
``MainWindow.palette.add_layer_type(cls)``
    Offer a loaded custom ``Layer`` subclass in the palette (registers it with the engine).
``MainWindow.add_menu_action(menu_title, action)``
    Put an action (e.g. "Import layer from Python file…") in a menu, creating it if needed.
"""
from __future__ import annotations

import time

import shiboken6
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMenu,
                               QScrollArea, QTabWidget, QWidget)

from . import menus, messages
from .batchnorm_panel import BatchNormPanel
from .boundary_view import BoundaryView
from .builder import BuilderPanel
from .builder.editor import ArchitectureEditor
from .confusion_view import ConfusionView
from .curves import CurvesWidget
from .data_panel import DataPanel
from .files import ProjectFiles
from .gradcheck import install_gradcheck
from .layers_view import install_layers_view
from .own_model import install_own_model
from .redraw_pacer import RedrawPacer
from .run_status import RunStatus
from .session import Session, SessionSnapshot
from .training_controller import TrainingController
from .training_panel import TrainingPanel

APP_NAME = "NN Studio"
#: while training, curves and progress are redrawn as bundles arrive (``BUNDLE_RATE``, 2 a
#: second) and at most every 250 ms: painting holds the GIL most of the time, and every
#: millisecond of it is taken from the training thread (10 redraws a second cost a fast run
#: ~15 % of its speed, 2 about 3 %) ...
REDRAW_INTERVAL_MS = 250
#: ... and less often when drawing is slow: redraws take at most this share of the time
REDRAW_BUDGET = 0.03
#: a bundle arriving this share of the interval before a redraw is due is drawn at once
REDRAW_SLACK = 0.2
#: views narrower than this at their smallest are added as they are, wider ones scroll
MAX_VIEW_MIN_WIDTH = 640


class MainWindow(QMainWindow):
    """The studio window. ``settings`` holds recent files (tests pass an isolated one)."""

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else QSettings()
        self.session = Session(self)
        self.editor = ArchitectureEditor(self.session, self)
        self.controller = TrainingController(self.session, self)
        self._build_panels()
        self._build_docks()
        self.files = ProjectFiles(self)
        menus.build_menus(self)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.flush_training_view)
        self._pacer = RedrawPacer(REDRAW_INTERVAL_MS / 1000, REDRAW_BUDGET)
        self._flushing = self._flush_again = False
        self._pending_progress: tuple | None = None
        self._connect()
        self.run_status = RunStatus(self)
        install_gradcheck(self)
        install_layers_view(self)
        install_own_model(self)
        self.resize(1440, 900)
        self._update_title()

    # -- construction -------------------------------------------------------------------
    def _build_panels(self) -> None:
        session = self.session
        self.builder = BuilderPanel(session, self.editor)
        self.training_panel = TrainingPanel(session)
        self.data_panel = DataPanel(session)
        self.curves = CurvesWidget()
        self.batchnorm_panel = BatchNormPanel(session, self.editor, self.controller.evaluate_modes)
        self.boundary_view = BoundaryView(session)
        self.confusion_view = ConfusionView(session)
        self.controller.add_probe("boundary", self.boundary_view.make_probe)
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        for title, view in (("Curves", self.curves), ("BatchNorm", self.batchnorm_panel),
                            ("Decision boundary", self.boundary_view),
                            ("Confusion", self.confusion_view)):
            self.views.addTab(view, title)
        self.setCentralWidget(self.views)
        self.status_state = QLabel("")
        self.statusBar().addPermanentWidget(self.status_state)

    def _build_docks(self) -> None:
        self.docks = {}
        for title, widget, area in (
                ("Network", self.builder, Qt.DockWidgetArea.LeftDockWidgetArea),
                ("Training", self.training_panel, Qt.DockWidgetArea.RightDockWidgetArea),
                ("Data", self.data_panel, Qt.DockWidgetArea.RightDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}Dock")
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(area, dock)
            self.docks[title] = dock
        self.resizeDocks([self.docks["Network"]], [460], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Training"]], [400], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.docks["Training"], self.docks["Data"])
        self.docks["Training"].raise_()

    def _connect(self) -> None:
        session, controller, panel = self.session, self.controller, self.training_panel
        panel.start_requested.connect(controller.start)
        panel.pause_requested.connect(controller.toggle_pause)
        panel.step_requested.connect(controller.step)
        panel.stop_requested.connect(controller.stop)
        panel.reset_requested.connect(controller.reset_weights)
        controller.state_changed.connect(self._on_training_state)
        controller.batches.connect(self._on_batches)
        controller.epochs.connect(self._on_epochs)
        controller.probes.connect(self._on_probes)
        controller.progress.connect(self._on_progress)
        controller.bundle_handled.connect(self._schedule_redraw)
        controller.history_cleared.connect(self.curves.clear)
        controller.message.connect(self.show_status)
        controller.failed.connect(self.show_error)
        controller.finished.connect(self._on_training_finished)
        self.editor.refused.connect(self.show_status)
        self.data_panel.failed.connect(self.show_error)
        self.data_panel.confirm_replace = self.files.confirm_replace
        controller.confirm_reset = lambda: messages.confirm(
            self, "Reset weights", "Throw away the trained weights and the curves, and "
            "initialise the weights again from the seed?")
        self.data_panel.file_chosen.connect(self.show_data_panel)
        self.data_panel.message.connect(self.show_status)
        self.batchnorm_panel.message.connect(self.show_status)
        session.problem.connect(self.show_status)
        session.modified_changed.connect(self._update_title)
        session.path_changed.connect(self._update_title)
        self.curves.export_button.clicked.connect(self.files.export_curves)

    # -- extension points ---------------------------------------------------------------
    def add_view(self, title: str, widget: QWidget) -> int:
        """Add a tab to the central view area; returns its index.

        A view wider than ``MAX_VIEW_MIN_WIDTH`` at its smallest is put in a scroll area, so
        that one wide view does not force the whole window wider than a laptop screen.
        """
        if widget.minimumSizeHint().width() > MAX_VIEW_MIN_WIDTH:
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setWidget(widget)
            widget = area
        return self.views.addTab(widget, title)

    def session_snapshot(self) -> SessionSnapshot:
        """A copy of the network with the dataset, BatchNorm mode and training settings."""
        return self.session.snapshot()

    @property
    def layer_stack(self):
        return self.builder.stack

    @property
    def palette(self):
        return self.builder.palette

    def add_menu_action(self, menu_title: str, action: QAction) -> None:
        """Add ``action`` to the menu titled ``menu_title`` (created if missing)."""
        for menu_action in self.menuBar().actions():
            existing = menu_action.menu()
            if existing is not None and (existing.title().replace("&", "")
                                         == menu_title.replace("&", "")):
                quit_action = self.actions_by_name.get("quit")
                if quit_action in existing.actions():  # Quit stays last, after its separator
                    actions = existing.actions()
                    before = actions[actions.index(quit_action) - 1]
                    existing.insertAction(before if before.isSeparator() else quit_action, action)
                else:
                    existing.addAction(action)
                return
        menu = QMenu(menu_title, self.menuBar())
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)  # Help stays last
        menu.addAction(action)

    def update_undo_actions(self, *_args) -> None:
        """Name the next undo/redo in the Edit menu ("Undo Add Dense(16)")."""
        stack = self.session.undo_stack
        if not shiboken6.isValid(stack):  # the window is being destroyed
            return
        undo, redo = self.actions_by_name["undo"], self.actions_by_name["redo"]
        undo.setText(f"&Undo {stack.undoText()}".rstrip())
        redo.setText(f"&Redo {stack.redoText()}".rstrip())
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())

    # -- feedback -----------------------------------------------------------------------
    def show_data_panel(self) -> None:
        """Bring the Data dock forward (after Open CSV…: the preview is there)."""
        dock = self.docks["Data"]
        dock.show()
        dock.raise_()

    def show_restored_progress(self) -> None:
        """A project opened: its trainer's position ("Epoch 80 of 100, paused") and numbers."""
        self.run_status.restore()

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def show_error(self, title: str, text: str) -> None:
        self.show_status(f"{title}: {text}")
        messages.show_error(self, title, text)

    def _update_title(self, *_args) -> None:
        name = self.files.display_name() if hasattr(self, "files") else "untitled"
        star = "*" if self.session.modified else ""
        self.setWindowTitle(f"{name}{star} — {APP_NAME}")

    # -- training updates -----------------------------------------------------------------
    def _schedule_redraw(self) -> None:
        """After a bundle: draw now if a redraw is due (one wake-up of the GUI thread for
        both), else once it is due."""
        delay = self._pacer.delay(time.perf_counter())
        if delay <= REDRAW_SLACK * self._pacer.interval:  # not worth another wake-up
            self.flush_training_view()
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start(max(1, round(1000 * delay)))

    def flush_training_view(self) -> None:
        """Draw what arrived since the last redraw: curves, progress, BatchNorm numbers.

        While training runs, the drawing (including the paint events it causes) happens in
        one go with the worker held between batches: see ``GeneratorWorker.gui_turn``.
        """
        if self._flushing:  # called from an event handled while painting: draw after it
            self._flush_again = True
            return
        self._redraw_timer.stop()
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
        self.curves.redraw()
        if self._pending_progress is not None:
            # paused: a bundle still on its way must not overwrite where the trainer is
            if self.controller.state != "paused" or not self.run_status.show_position("paused"):
                self.training_panel.show_progress(*self._pending_progress)
            self._pending_progress = None
        self.batchnorm_panel.flush()
        self.layers_view.flush()

    def _on_progress(self, *progress) -> None:
        self._pending_progress = progress

    def _on_training_state(self, state: str) -> None:
        if state != "running":
            self.flush_training_view()
        self.training_panel.set_state(state)
        self.status_state.setText({"idle": "", "running": "Training…",
                                   "paused": "Paused"}.get(state, state))

    def _on_batches(self, batches: list) -> None:
        offset = self.controller.step_offset
        self.curves.add_batches([offset + b.step for b in batches], [b.loss for b in batches])

    def _on_epochs(self, epochs: list) -> None:
        self.curves.set_metric_name(epochs[-1].metric_name)
        offset = self.controller.epoch_offset
        self.curves.add_epochs([offset + e.epoch for e in epochs], [e.train_loss for e in epochs],
                               [e.val_loss for e in epochs], [e.train_metric for e in epochs],
                               [e.val_metric for e in epochs])
        self.batchnorm_panel.show_epoch(epochs[-1])

    def _on_probes(self, results: dict) -> None:
        if results.get("boundary") is not None:
            self.boundary_view.show_plane(results["boundary"])

    def _on_training_finished(self, reason: str) -> None:
        self.flush_training_view()
        self.training_panel.show_finished(
            {"done": "Finished", "stopped": "Stopped", "diverged": "Diverged",
             "error": "Failed"}.get(reason, reason))
        self.session.weights_changed.emit()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        was_running = self.controller.state == "running"
        if self.session.modified and was_running:
            self.controller.hold()  # so that "Save" in the prompt can save
        if not self.files.maybe_save():
            if was_running:
                self.controller.resume()
            event.ignore()
            return
        self.controller.shutdown()
        self.data_panel.shutdown()
        event.accept()
