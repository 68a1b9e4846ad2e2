"""File ▸ Import Layer from Python File…: load a user's ``Layer`` subclass into the palette.

Importing runs the file's code with the user's permissions, so the action asks first and
says so plainly; project files never do this on their own. Loading and error reporting
(with the file's own line numbers) are the engine's ``load_custom_layers``.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.resources import RESOURCES_DIR

PYTHON_FILTER = "Python files (*.py);;All files (*)"
WARNING_TITLE = "Run this file's code?"


def warning_text(path: str) -> str:
    return (f"Importing a layer runs the Python code in\n\n{path}\n\nwith your permissions, "
            "as any Python program would: it can read, change or delete your files. Only "
            "import files you wrote yourself or trust.\n\nRun it and import its layers?")


def import_custom_layer(window, path: str | None = None) -> list[type]:
    """Ask for a file (unless ``path``), warn, load it, add its layers to the palette.

    Returns the classes added; errors are shown in a dialog naming the file and line.
    """
    if path is None:
        start = str(RESOURCES_DIR / "examples")
        path, _ = QFileDialog.getOpenFileName(window, "Import layer from Python file", start,
                                              PYTHON_FILTER)
        if not path:
            return []
    answer = QMessageBox.question(window, WARNING_TITLE, warning_text(path),
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        window.show_status("Import cancelled: the file was not run.")
        return []
    classes = _load(window, path)
    if classes is None:
        return []
    added = []
    for cls in classes:
        try:
            window.palette.add_layer_type(cls)
        except ValueError as exc:
            window.show_error("Cannot add the layer to the palette", f"{cls.__name__}: {exc}")
            continue
        added.append(cls)
    if added:
        names = ", ".join(cls.type_name for cls in added)
        window.show_status(f"Imported {names} from {Path(path).name}: find it in the palette.")
    elif not classes:
        window.show_error("Cannot import the layer",
                          f"{Path(path).name} defines no Layer subclass with a type_name.")
    return added


def _load(window, path: str) -> list[type] | None:
    """The engine's loader; None (after showing the error) when the file cannot be used."""
    try:
        return list(load_custom_layers(path))
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; show it
        window.show_error("Cannot import the layer", f"{Path(path).name}:\n{exc}")
        return None
