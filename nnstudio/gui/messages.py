"""How the window tells the user about problems: a dialog that names the problem, and the
status line. Kept in one place so tests can replace the dialog (never block on a modal)."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A modal error dialog; the application keeps running afterwards."""
    QMessageBox.critical(parent, title, text)


def ask_save_changes(parent: QWidget | None, what: str) -> str:
    """"save", "discard" or "cancel" for unsaved changes to ``what``."""
    buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
               | QMessageBox.StandardButton.Cancel)
    answer = QMessageBox.question(parent, "Unsaved changes",
                                  f"{what} has unsaved changes. Save them first?", buttons,
                                  QMessageBox.StandardButton.Save)
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask before an action that changes something; True when the user goes ahead."""
    box = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, title, text, box.Ok | box.Cancel, box.Cancel)
    return answer in (box.Ok, box.Yes, box.Save, box.Discard)
