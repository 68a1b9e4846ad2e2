"""The menu bar and its shortcuts: :func:`build_menus` returns the :class:`Menus` it made."""
from __future__ import annotations

from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMenu, QMenuBar

from nnstudio.data import builtin_names

from .torch_export import export_to_pytorch


@dataclass
class Menus:
    """The window's menus: every action by name (tests trigger them), the recent-files
    menu, and where actions added later go (:meth:`add_action`)."""

    bar: QMenuBar
    actions: dict[str, QAction]
    recent: QMenu
    help: QMenu

    def add_action(self, menu_title: str, action: QAction) -> None:
        """Add ``action`` to the menu titled ``menu_title`` (created if missing); Quit stays
        last in its menu and Help last in the bar."""
        for menu_action in self.bar.actions():
            existing = menu_action.menu()
            if existing is not None and (existing.title().replace("&", "")
                                         == menu_title.replace("&", "")):
                quit_action = self.actions.get("quit")
                if quit_action in existing.actions():  # after Quit's separator, not below it
                    actions = existing.actions()
                    before = actions[actions.index(quit_action) - 1]
                    existing.insertAction(before if before.isSeparator() else quit_action, action)
                else:
                    existing.addAction(action)
                return
        menu = QMenu(menu_title, self.bar)
        self.bar.insertMenu(self.help.menuAction(), menu)
        menu.addAction(action)


def build_menus(window) -> Menus:
    """File, Edit, Data, Train, View and Help in ``window``'s menu bar, acting on its
    ``files``, ``editor``, ``builder``, ``data_panel``, ``controller`` and ``docks``."""
    made = _MenuBuilder(window)
    recent = made.file_menu()
    made.edit_menu()
    made.data_menu()
    made.train_menu()
    made.view_menu()
    return Menus(made.bar, made.actions, recent, made.help_menu())


class _MenuBuilder:
    """Makes the actions of one window's menus and keeps them by name."""

    def __init__(self, window) -> None:
        self.window = window
        self.bar = window.menuBar()
        self.actions: dict[str, QAction] = {}

    def action(self, name: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.actions[name] = action
        return action

    def file_menu(self) -> QMenu:
        """The File menu; returns its Open Recent submenu."""
        window, files, action = self.window, self.window.files, self.action
        keys = QKeySequence.StandardKey
        menu = self.bar.addMenu("&File")
        menu.addAction(action("new", "&New", files.new_project, keys.New))
        menu.addAction(action("open", "&Open Project…", files.open_dialog, keys.Open))
        menu.addAction(action("open_csv", "Open &CSV…", window.data_panel.open_dialog,
                              "Ctrl+Shift+O"))
        recent = menu.addMenu("Open &Recent")
        files.attach_recent_menu(recent)
        menu.addSeparator()
        menu.addAction(action("save", "&Save", files.save, keys.Save))
        menu.addAction(action("save_as", "Save &As…", files.save_as, "Ctrl+Shift+S"))
        menu.addSeparator()
        menu.addAction(action("export_png", "&Export Curves as PNG…", files.export_curves))
        menu.addAction(action("export_pytorch", "Export to &PyTorch…",
                              lambda _checked=False: export_to_pytorch(window)))
        menu.addSeparator()
        menu.addAction(action("quit", "&Quit", window.close, keys.Quit))
        return recent

    def edit_menu(self) -> None:
        editor, builder = self.window.editor, self.window.builder
        menu = self.bar.addMenu("&Edit")
        undo = self.action("undo", "&Undo", editor.undo, QKeySequence.StandardKey.Undo)
        redo = self.action("redo", "&Redo", editor.redo, "Ctrl+Shift+Z")
        _name_undo_actions(self.window.session.undo_stack, undo, redo)
        menu.addAction(undo)
        menu.addAction(redo)
        menu.addSeparator()
        menu.addAction(self.action("duplicate_layer", "D&uplicate Layer",
                                   builder.duplicate_selected, "Ctrl+D"))
        delete = self.action("delete_layer", "&Delete Layer", builder.delete_selected,
                             QKeySequence.StandardKey.Delete)
        # Delete acts on the layer stack only, never on text being typed elsewhere
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        builder.stack.addAction(delete)
        menu.addAction(delete)

    def data_menu(self) -> None:
        data_panel = self.window.data_panel
        menu = self.bar.addMenu("&Data")
        menu.addAction(self.actions["open_csv"])
        builtin = menu.addMenu("&Built-in Dataset")
        for name in builtin_names():
            builtin.addAction(self.action(
                f"builtin_{name}", name,
                lambda _checked=False, n=name: data_panel.load_builtin(n)))

    def train_menu(self) -> None:
        controller, action = self.window.controller, self.action
        menu = self.bar.addMenu("&Train")
        menu.addAction(action("train_start", "&Start", controller.start, "F5"))
        menu.addAction(action("train_pause", "&Pause / Resume", controller.toggle_pause, "F6"))
        menu.addAction(action("train_step", "S&tep One Batch", controller.step, "F10"))
        menu.addAction(action("train_stop", "St&op", controller.stop, "Shift+F5"))
        menu.addSeparator()
        menu.addAction(action("train_reset", "&Reset Weights", controller.reset_weights))

    def view_menu(self) -> None:
        menu = self.bar.addMenu("&View")
        for dock in self.window.docks.values():
            menu.addAction(dock.toggleViewAction())

    def help_menu(self) -> QMenu:
        menu = self.bar.addMenu("&Help")
        menu.addAction(self.action("about", "About NN Studio", self.window.files.show_about))
        return menu


def _name_undo_actions(stack: QUndoStack, undo: QAction, redo: QAction) -> None:
    """Name the next undo/redo ("Undo Add Dense(16)") now and whenever ``stack`` moves."""
    def update(*_args) -> None:
        if not (shiboken6.isValid(stack) and shiboken6.isValid(undo)
                and shiboken6.isValid(redo)):  # the window is being destroyed
            return
        undo.setText(f"&Undo {stack.undoText()}".rstrip())
        redo.setText(f"&Redo {stack.redoText()}".rstrip())
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())

    stack.indexChanged.connect(update)
    stack.cleanChanged.connect(update)
    update()
