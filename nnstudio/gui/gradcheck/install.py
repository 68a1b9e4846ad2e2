"""``install_gradcheck(window) -> GradCheckParts``: the gradient-check view, its menus and
connections.

Everything is attached through the main window's public extension points (``add_view``,
``add_menu_action``, ``session``, ``layer_stack``, ``palette``); the only line in the main
window is the call to this function, which keeps what it returns as ``window.gradcheck``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from nnstudio.engine.gradcheck import UNCHECKED

from .controller import CheckController
from .controls import COMMANDS
from .custom_layer_action import import_custom_layer
from .example import EXAMPLE_PROJECT, load_guide, open_guided_example
from .faults_menu import FaultInjector
from .report_export import ask_and_export
from .store import CheckProgress
from .view import GradCheckView

VIEW_TITLE = "Gradient check"
CHECK_MENU = "&Check"


@dataclass
class GradCheckParts:
    """What the install created; the window keeps it as ``window.gradcheck`` (tests drive
    these)."""

    controller: CheckController
    view: GradCheckView
    injector: FaultInjector
    tab_index: int
    fault_menu: QMenu


class CloseWatcher(QObject):
    """Stops a running check when the window closes, so no thread outlives it."""

    def __init__(self, controller: CheckController, parent: QObject) -> None:
        super().__init__(parent)
        self._controller = controller

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close:
            self._controller.shutdown()
        return False


def install_gradcheck(window) -> GradCheckParts:
    session = window.session
    controller = CheckController(session, window)
    view = GradCheckView(controller)
    injector = FaultInjector(session, window)
    tab_index = window.add_view(VIEW_TITLE, view)
    fault_menu = QMenu("Inject &Fault", window)
    fault_menu.aboutToShow.connect(lambda: injector.fill_menu(fault_menu))
    view.controls.fault_button.setMenu(fault_menu)
    view.set_guide(load_guide())
    parts = GradCheckParts(controller, view, injector, tab_index, fault_menu)
    _add_menus(window, parts)
    _attach_stack_menu(window, injector)
    _connect(window, parts)
    window.installEventFilter(CloseWatcher(controller, window))
    return parts


def _connect(window, parts: GradCheckParts) -> None:
    session, controller, view = window.session, parts.controller, parts.view
    view.message.connect(window.show_status)
    controller.failed.connect(window.show_error)
    controller.progress.connect(lambda progress: show_badges(window.layer_stack, progress))
    controller.cleared.connect(lambda _why: window.layer_stack.clear_layer_statuses())
    parts.injector.message.connect(window.show_status)
    parts.injector.applied.connect(lambda: controller.invalidate("The injected faults changed"))
    view.controls.export_button.clicked.connect(lambda: ask_and_export(view, window))
    session.bn_mode_changed.connect(view.settings.set_bn_stats)
    session.config_changed.connect(
        lambda: view.settings.set_regularization(session.train_config.regularization()))
    view.settings.set_bn_stats(session.bn_mode)
    view.settings.set_regularization(session.train_config.regularization())


def show_badges(stack, progress: CheckProgress) -> None:
    """One badge per layer: where the error enters or only lands, else its worst verdict
    so far, with a tooltip."""
    count = stack.topLevelItemCount()
    for layer in progress.layer_summaries:
        if layer.index >= count:
            continue  # the loss has no row in the stack
        role = progress.role(layer.index)
        status = None if layer.status == UNCHECKED else layer.status
        detail = (f"Gradient check: {layer.checked:,} of {layer.planned:,} elements checked, "
                  f"{layer.mismatch:,} mismatches, {layer.kink:,} kinks")
        if role is not None and role.role in ("culprit", "affected"):
            status = role.role
            culprit = next((c for c in progress.culprits if c.layer_index == layer.index), None)
            detail = (culprit.message if culprit is not None
                      else "A wrong gradient reaches this layer from a later one") + ". " + detail
        stack.set_layer_status(layer.index, status, detail)


def _add_menus(window, parts: GradCheckParts) -> None:
    view, controller = parts.view, parts.controller

    def action(text: str, slot, tip: str = "") -> QAction:
        made = QAction(text, window)
        made.setStatusTip(tip)
        made.triggered.connect(slot)
        return made

    def show_view() -> None:
        window.views.setCurrentIndex(parts.tab_index)

    for until, text, tip in COMMANDS:
        window.add_menu_action(CHECK_MENU, action(
            text, lambda _c=False, u=until: (show_view(), view.run_command(u)), tip))
    window.add_menu_action(CHECK_MENU, action("Stop", controller.stop))
    window.add_menu_action(CHECK_MENU, action("Reset", controller.reset))
    window.add_menu_action(CHECK_MENU, parts.fault_menu.menuAction())
    window.add_menu_action(CHECK_MENU, action("Export Report…",
                                              lambda: ask_and_export(view, window)))
    if EXAMPLE_PROJECT.exists():
        window.add_menu_action(CHECK_MENU, action(
            "Guided Example: BatchNorm and Dropout", lambda: open_guided_example(window),
            "Can I gradient-check a network with BatchNorm and Dropout?"))
    window.add_menu_action("&File", action(
        "Import Layer from Python File…", lambda: import_custom_layer(window),
        "Runs the file's code: only for files you trust"))


def _attach_stack_menu(window, injector: FaultInjector) -> None:
    """Right-click a layer in the stack: its faults. Only if nobody else owns that menu."""
    stack = window.layer_stack
    if stack.contextMenuPolicy() != Qt.ContextMenuPolicy.DefaultContextMenu:
        return
    stack.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show_menu(position) -> None:
        item = stack.itemAt(position)
        if item is None:
            return
        index = stack.indexOfTopLevelItem(item)
        menu = QMenu(stack)
        injector.fill_menu(menu.addMenu("Inject fault"), only_layer=index)
        menu.exec(stack.viewport().mapToGlobal(position))

    stack.customContextMenuRequested.connect(show_menu)
