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

The window is assembled here, in ``__init__``: every part (menus, the training presenter,
the gradient-check, Layers and Own model views) is built by a function or class that returns
it, and the window keeps it under one name.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea, QTabWidget, QWidget

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
from .session import Session, SessionSnapshot
from .training_controller import TrainingController
from .training_panel import TrainingPanel
from .training_presenter import TrainingPresenter, TrainingViews

APP_NAME = "NN Studio"
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
        self.menus = menus.build_menus(self)
        self.actions_by_name = self.menus.actions
        self.recent_menu = self.menus.recent
        self.training_view = TrainingPresenter(self.controller, self.session, TrainingViews(
            self.curves, self.training_panel, self.batchnorm_panel, self.boundary_view,
            self.status_state), self)
        self.run_status = self.training_view.run_status
        self._connect()
        self.gradcheck = install_gradcheck(self)
        self.layers_view = install_layers_view(self)
        self.training_view.draw_also(self.layers_view.flush)
        self.own_model = install_own_model(self)
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
        session, controller, panel, data = (self.session, self.controller, self.training_panel,
                                            self.data_panel)
        for signal, slot in ((panel.start_requested, controller.start),
                             (panel.pause_requested, controller.toggle_pause),
                             (panel.step_requested, controller.step),
                             (panel.stop_requested, controller.stop),
                             (panel.reset_requested, controller.reset_weights),
                             (controller.message, self.show_status),
                             (controller.failed, self.show_error),
                             (self.editor.refused, self.show_status),
                             (data.failed, self.show_error),
                             (data.file_chosen, self.show_data_panel),
                             (data.message, self.show_status),
                             (self.batchnorm_panel.message, self.show_status),
                             (session.problem, self.show_status),
                             (session.modified_changed, self._update_title),
                             (session.path_changed, self._update_title),
                             (self.curves.export_button.clicked, self.files.export_curves)):
            signal.connect(slot)
        data.confirm_replace = self.files.confirm_replace
        controller.confirm_reset = lambda: messages.confirm(
            self, "Reset weights", "Throw away the trained weights and the curves, and "
            "initialise the weights again from the seed?")

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
        self.menus.add_action(menu_title, action)

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
        star = "*" if self.session.modified else ""
        self.setWindowTitle(f"{self.files.display_name()}{star} — {APP_NAME}")

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
