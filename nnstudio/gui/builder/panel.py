"""The builder panel: palette | stack with its buttons | property editor, and the totals.

Rows, output sizes and parameter counts are read from the session's built engine network.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from ..session import Session
from .editor import ArchitectureEditor
from .palette import LayerPalette
from .properties import PropertyEditor
from .stack import LayerRow, LayerStack


class BuilderPanel(QWidget):
    """Assemble the hidden layers; every edit goes through ``editor`` (undoable, guarded)."""

    def __init__(self, session: Session, editor: ArchitectureEditor, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("builderPanel")
        self.session, self.editor = session, editor
        self.palette = LayerPalette()
        self.stack = LayerStack()
        self.properties = PropertyEditor(session.architecture, editor)
        self.input_label = QLabel()
        self.total_label = QLabel()
        self.total_label.setObjectName("totalLabel")
        self.notice = QLabel("")
        self.notice.setObjectName("noticeLabel")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self._build_layout()
        self.palette.layer_requested.connect(self._on_layer_requested)
        self.stack.insert_requested.connect(lambda name, row: self.editor.add(name, row))
        self.stack.move_requested.connect(self.editor.move)
        self.stack.current_layer_changed.connect(self._on_current_changed)
        self.editor.refused.connect(self.show_notice)
        session.network_changed.connect(self._on_network_changed)
        session.architecture.changed.connect(self.refresh)
        session.undo_stack.indexChanged.connect(self._hide_notice)
        self.refresh()

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        for button, slot in ((self.duplicate_button, self.duplicate_selected),
                             (self.delete_button, self.delete_selected),
                             (self.up_button, lambda: self.move_selected(-1)),
                             (self.down_button, lambda: self.move_selected(+1))):
            button.clicked.connect(slot)
            buttons.addWidget(button)
        self.duplicate_button.setToolTip("Insert a copy of the selected layer after it")
        self.delete_button.setToolTip("Remove the selected layer (Delete)")
        stack_box = QWidget()
        stack_layout = QVBoxLayout(stack_box)
        stack_layout.setContentsMargins(0, 0, 0, 0)
        stack_layout.addWidget(self.input_label)
        stack_layout.addWidget(self.stack, 1)
        stack_layout.addLayout(buttons)
        stack_layout.addWidget(self.total_label)
        palette_box = _group("Layers", self.palette)
        properties_box = _group("Properties", self.properties)
        splitter = QSplitter(Qt.Orientation.Vertical)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(palette_box)
        top.addWidget(_group("Network", stack_box))
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 3)
        top.setSizes([110, 340])
        splitter.addWidget(top)
        splitter.addWidget(properties_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([500, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)

    # -- actions --------------------------------------------------------------------
    def selected_hidden_index(self) -> int:
        index = self.stack.current_layer()
        return index if 0 <= index < len(self.session.architecture) else -1

    def duplicate_selected(self) -> None:
        index = self.selected_hidden_index()
        if index >= 0 and self.editor.duplicate(index):
            self.stack.select_layer(index + 1)

    def delete_selected(self) -> None:
        index = self.selected_hidden_index()
        if index >= 0 and self.editor.remove(index):
            self.stack.select_layer(min(index, len(self.session.architecture) - 1))

    def move_selected(self, step: int) -> None:
        index = self.selected_hidden_index()
        target = index + step
        if index >= 0 and 0 <= target < len(self.session.architecture):
            if self.editor.move(index, target):
                self.stack.select_layer(target)

    def _on_layer_requested(self, type_name: str) -> None:
        if self.editor.add(type_name):
            self.stack.select_layer(len(self.session.architecture) - 1)

    def _hide_notice(self, _index: int = 0) -> None:
        self.notice.hide()

    def show_notice(self, text: str) -> None:
        """Show why an edit was refused, above the builder."""
        self.notice.setText(text)
        self.notice.show()

    # -- view -------------------------------------------------------------------------
    def _on_network_changed(self, fresh: bool) -> None:
        self.stack.clear_layer_statuses()
        self.refresh()

    def refresh(self) -> None:
        """Redraw rows and totals from the architecture and the built network."""
        rows, total = self._rows()
        self.stack.show_layers(rows)
        self.total_label.setText("Total parameters: ?" if total is None
                                 else f"Total parameters: {total:,}")
        dataset = self.session.dataset
        if dataset is None:
            self.input_label.setText("Input: no dataset loaded")
        else:
            self.input_label.setText(f"Input: {dataset.n_features} features → "
                                     f"{dataset.task}, {dataset.n_outputs} output(s)")
        self._on_current_changed(self.stack.current_layer())

    def _rows(self) -> tuple[list[LayerRow], int | None]:
        network = self.session.network
        entries = self.session.architecture.entries()
        if network is None or len(network.layers) != len(entries) + 1:
            rows = [LayerRow(entry.label(), None, None) for entry in entries]
            return rows, None
        rows = [LayerRow(layer.describe(), layer.output_dim, layer.num_parameters(),
                         is_output=index == len(entries))
                for index, layer in enumerate(network.layers)]
        return rows, network.num_parameters()

    def _on_current_changed(self, index: int) -> None:
        hidden = 0 <= index < len(self.session.architecture)
        for button in (self.duplicate_button, self.delete_button, self.up_button,
                       self.down_button):
            button.setEnabled(hidden)
        if hidden:
            if self.properties.index != index:
                self.properties.show_layer(index)
        elif index >= 0:
            self.properties.show_layer(-1, "The output layer fits the dataset's targets; "
                                           "it is not edited here.")
        else:
            self.properties.show_layer(-1)


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box
