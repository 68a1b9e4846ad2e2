"""Opening a project that uses custom layers: list their files, ask, then load them.

Opening never runs a file on its own. :func:`ensure_project_layers` reads the project's
records (``nnstudio.project.custom_layer_records``: relative and absolute path, SHA-256)
and, when some layer type is not loaded yet, shows :class:`ProjectLayersDialog`: every file
with its state — found, content CHANGED since the project was saved (flagged before
loading), or MISSING with *Locate…* — and the same warning as *Import Layer*. Only after
the user agrees are the files loaded (``load_custom_layers``) and their layers added to
the palette.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.project import ProjectError
from nnstudio.project.custom_layer_records import (CHANGED, MISSING, CustomLayerStatus,
                                                   read_requirements, status_of)

from .gradcheck.custom_layer_action import PYTHON_FILTER

STATE_TEXT = {"ok": "found, unchanged", CHANGED: "CONTENT CHANGED since the project was saved",
              MISSING: "NOT FOUND: use Locate…"}
WARNING = ("Loading these layers runs the Python code in each file with your permissions, as "
           "any Python program would: it can read, change or delete your files. Only load "
           "files you wrote yourself or trust.")


class ProjectLayersDialog(QDialog):
    """The custom layer files of a project, their states, Locate… and the warning."""

    def __init__(self, project: str, statuses: list[CustomLayerStatus],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Load the project's custom layers?")
        self.statuses = list(statuses)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Layers", "State"])
        self.tree.setRootIsDecorated(False)
        self.locate_button = QPushButton("Locate…")
        self.locate_button.clicked.connect(self.locate_selected)
        self.buttons = QDialogButtonBox()
        self.load_button = self.buttons.addButton("Run These Files and Open",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(f"{Path(project).name} uses layers from these Python files, which are not "
                       f"loaded:")
        warning = QLabel(WARNING)
        for label in (intro, warning):
            label.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.tree)
        layout.addWidget(self.locate_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(warning)
        layout.addWidget(self.buttons)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self._fill()
        self.resize(760, 320)

    def _fill(self) -> None:
        current = max(self.tree.indexOfTopLevelItem(self.tree.currentItem()), 0)
        self.tree.clear()
        for status in self.statuses:
            item = QTreeWidgetItem([str(status.found or status.record.absolute),
                                    ", ".join(status.record.types), STATE_TEXT[status.state]])
            if status.state != "ok":
                item.setForeground(2, QBrush(QColor("#b71c1c")))
                font = item.font(2)
                font.setBold(True)
                item.setFont(2, font)
            self.tree.addTopLevelItem(item)
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        if self.statuses:
            self.tree.setCurrentItem(self.tree.topLevelItem(min(current, len(self.statuses) - 1)))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.tree.indexOfTopLevelItem(self.tree.currentItem())
        self.locate_button.setEnabled(row >= 0)
        self.load_button.setEnabled(all(s.found is not None for s in self.statuses))

    def locate_selected(self) -> None:
        """Choose the file of the selected row; its content is compared with the record."""
        row = self.tree.indexOfTopLevelItem(self.tree.currentItem())
        if row < 0:
            return
        status = self.statuses[row]
        start = str(Path(status.record.absolute).parent)
        path, _ = QFileDialog.getOpenFileName(self, f"Locate {Path(status.record.absolute).name}",
                                              start, PYTHON_FILTER)
        if path:
            self.statuses[row] = status_of(status.record, Path(path).resolve())
            self._fill()

    def files(self) -> list[Path]:
        return [status.found for status in self.statuses if status.found is not None]


def ensure_project_layers(window, project: str) -> bool:
    """Make sure the custom layers ``project`` needs are loaded, asking first.

    True when opening may go on (nothing needed, or loaded); False when the user cancelled
    or a file could not be loaded (the error is shown, naming file and line).
    """
    try:
        statuses = read_requirements(project)
    except (ProjectError, OSError):
        return True  # opening will report what is wrong with the file itself
    needed = [status for status in statuses if not status.loaded]
    if not needed:
        return True
    dialog = ProjectLayersDialog(project, needed, window)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        window.show_status("Open cancelled: the project's custom layer files were not run.")
        return False
    for path in dialog.files():
        try:
            classes = load_custom_layers(path)
        except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; show it
            window.show_error("Cannot load the project's layers", f"{path.name}:\n{exc}")
            return False
        for cls in classes:
            try:
                window.palette.add_layer_type(cls)
            except ValueError as exc:
                window.show_error("Cannot add the layer to the palette", f"{cls.__name__}: {exc}")
    return True
