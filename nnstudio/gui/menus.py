"""The menu bar and its shortcuts. Actions are kept in ``window.actions_by_name``."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from nnstudio.data import builtin_names

from .torch_export import export_to_pytorch


def _action(window, name: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.actions_by_name[name] = action
    return action


def build_menus(window) -> None:
    window.actions_by_name = {}
    _file_menu(window)
    _edit_menu(window)
    _data_menu(window)
    _train_menu(window)
    view = window.menuBar().addMenu("&View")
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    help_menu = window.help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(_action(window, "about", "About NN Studio", window.files.show_about))


def _file_menu(window) -> None:
    files = window.files
    menu = window.menuBar().addMenu("&File")
    menu.addAction(_action(window, "new", "&New", files.new_project, QKeySequence.StandardKey.New))
    menu.addAction(_action(window, "open", "&Open Project…", files.open_dialog,
                           QKeySequence.StandardKey.Open))
    menu.addAction(_action(window, "open_csv", "Open &CSV…", window.data_panel.open_dialog,
                           "Ctrl+Shift+O"))
    window.recent_menu = menu.addMenu("Open &Recent")
    files.attach_recent_menu(window.recent_menu)
    menu.addSeparator()
    menu.addAction(_action(window, "save", "&Save", files.save, QKeySequence.StandardKey.Save))
    menu.addAction(_action(window, "save_as", "Save &As…", files.save_as, "Ctrl+Shift+S"))
    menu.addSeparator()
    menu.addAction(_action(window, "export_png", "&Export Curves as PNG…", files.export_curves))
    menu.addAction(_action(window, "export_pytorch", "Export to &PyTorch…",
                           lambda _checked=False: export_to_pytorch(window)))
    menu.addSeparator()
    menu.addAction(_action(window, "quit", "&Quit", window.close, QKeySequence.StandardKey.Quit))


def _edit_menu(window) -> None:
    editor, stack = window.editor, window.session.undo_stack
    menu = window.menuBar().addMenu("&Edit")
    undo = _action(window, "undo", "&Undo", editor.undo, QKeySequence.StandardKey.Undo)
    redo = _action(window, "redo", "&Redo", editor.redo, "Ctrl+Shift+Z")

    stack.indexChanged.connect(window.update_undo_actions)
    stack.cleanChanged.connect(window.update_undo_actions)
    window.update_undo_actions()
    menu.addAction(undo)
    menu.addAction(redo)
    menu.addSeparator()
    builder = window.builder
    menu.addAction(_action(window, "duplicate_layer", "D&uplicate Layer",
                           builder.duplicate_selected, "Ctrl+D"))
    delete = _action(window, "delete_layer", "&Delete Layer", builder.delete_selected,
                     QKeySequence.StandardKey.Delete)
    # Delete acts on the layer stack only, never on text being typed elsewhere
    delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    builder.stack.addAction(delete)
    menu.addAction(delete)


def _data_menu(window) -> None:
    menu = window.menuBar().addMenu("&Data")
    menu.addAction(window.actions_by_name["open_csv"])
    builtin = menu.addMenu("&Built-in Dataset")
    for name in builtin_names():
        builtin.addAction(_action(window, f"builtin_{name}", name,
                                  lambda _checked=False, n=name: window.data_panel.load_builtin(n)))


def _train_menu(window) -> None:
    controller = window.controller
    menu = window.menuBar().addMenu("&Train")
    menu.addAction(_action(window, "train_start", "&Start", controller.start, "F5"))
    menu.addAction(_action(window, "train_pause", "&Pause / Resume", controller.toggle_pause, "F6"))
    menu.addAction(_action(window, "train_step", "S&tep One Batch", controller.step, "F10"))
    menu.addAction(_action(window, "train_stop", "St&op", controller.stop, "Shift+F5"))
    menu.addSeparator()
    menu.addAction(_action(window, "train_reset", "&Reset Weights", controller.reset_weights))
