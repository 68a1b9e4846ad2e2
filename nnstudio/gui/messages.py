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


def ask_embed_outside(parent: QWidget | None, data_path: str, project_folder: str) -> bool:
    """True if the user agrees to copy a data file from outside the project's folder into
    the project (whoever gets the project can read it); False to record only its path."""
    answer = QMessageBox.question(
        parent, "Embed the data file?",
        f"The data file {data_path} is not in the project's folder ({project_folder}).\n\n"
        "Embed a copy of it in the project, so that the project opens anywhere? Anyone you "
        "give the project to can read the copy. Choose No to record only its path.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
