"""The tree of layers and their tensors, each row with its check status and worst error.

Rows are built once per check from the checker's ``TensorInfo`` list and then only their
texts and colours change, so a refresh costs a few dozen item updates however many
elements arrived.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from nnstudio.engine.gradcheck import INPUT_PARAM, KINK, MISMATCH, OK, UNCHECKED

from .status import (ROLE_LOOK, format_error, format_index, status_background, status_colour,
                     status_text)
from .store import CheckProgress

COLUMNS = ("Layer / tensor", "Status", "Max rel. error", "Checked", "Screen", "Worst element")
CHECKED, MAX_ERROR, SCREEN = 3, 2, 4
NAME_ROLE = Qt.ItemDataRole.UserRole


class StatusTree(QTreeWidget):
    """Layers as parents, tensors as children. ``tensor_selected`` carries a tensor name."""

    tensor_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckTree")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # The names take the room the numbers leave (cut short with "…" when narrow, the
        # whole name in the tooltip); the numbers are sized to their text, cheap for the
        # few dozen rows a tree has. "Screen" shows only when the check screened.
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setColumnHidden(SCREEN, True)
        self._layer_items: dict[int, QTreeWidgetItem] = {}
        self._tensor_items: dict[str, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._on_current_changed)

    def show_plan(self, progress: CheckProgress, layer_notes: dict[int, str]) -> None:
        """Build the rows for a new check; ``layer_notes`` e.g. {2: "fault: no_mean_path"}."""
        self.blockSignals(True)
        try:
            self.clear()
            self._layer_items.clear()
            self._tensor_items.clear()
            for info in progress.tensors:
                parent = self._layer_items.get(info.layer_index)
                if parent is None:
                    parent = self._add_layer_row(info, layer_notes.get(info.layer_index))
                shape = "×".join(str(n) for n in info.shape)
                what = info.param
                if info.param == INPUT_PARAM:
                    what = ("dout: gradient for the network output" if info.layer_label.endswith("loss")
                            else "dx: gradient it returns for its input")
                child = QTreeWidgetItem([f"{what}  ({shape})"])
                child.setData(0, NAME_ROLE, info.name)
                child.setToolTip(0, info.name)
                parent.addChild(child)
                self._tensor_items[info.name] = child
            self.expandAll()
        finally:
            self.blockSignals(False)
        self.show_progress(progress)

    def _add_layer_row(self, info, note: str | None) -> QTreeWidgetItem:
        """A bold layer row; an injected fault gets a row of its own under it, across the
        whole width, so it is read in full however narrow the columns are."""
        title = f"{info.layer_index}  {info.layer_label}"
        parent = QTreeWidgetItem([title])
        font = QFont(parent.font(0))
        font.setBold(True)
        parent.setFont(0, font)
        parent.setData(0, NAME_ROLE + 1, title)
        self.addTopLevelItem(parent)
        self._layer_items[info.layer_index] = parent
        if note:
            parent.setToolTip(0, f"{title}: injected {note}")
            note_row = QTreeWidgetItem([f"⚠ injected {note}"])
            note_row.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable: no tensor
            note_row.setForeground(0, QBrush(QColor(status_colour(KINK))))
            note_row.setToolTip(0, f"Injected in layer {title}: the check should find it")
            parent.addChild(note_row)
            note_row.setFirstColumnSpanned(True)
        return parent

    def clear_check(self) -> None:
        self.clear()
        self.setColumnHidden(SCREEN, True)
        self._layer_items.clear()
        self._tensor_items.clear()

    def show_progress(self, progress: CheckProgress) -> None:
        screens = {s.tensor: s for s in progress.screen or ()}
        self.setColumnHidden(SCREEN, not screens)
        for summary in progress.tensor_summaries:
            item = self._tensor_items.get(summary.name)
            if item is None:
                continue
            planned = summary.info.planned
            skipped = planned == 0 and summary.name in screens
            item.setText(CHECKED, "skipped" if skipped else f"{summary.checked:,} / {planned:,}")
            item.setText(MAX_ERROR, format_error(summary.max_rel_error) if summary.checked else "")
            screen = screens.get(summary.name)
            item.setText(SCREEN, "" if screen is None else status_text(screen.verdict))
            worst = summary.worst
            item.setText(5, "" if worst is None or worst.verdict == OK
                         else f"{format_index(worst.index)} rel {format_error(worst.rel_error)}")
            _paint(item, summary.status)
            if screen is not None:
                item.setForeground(SCREEN, QBrush(QColor(status_colour(screen.verdict))))
        for layer in progress.layer_summaries:
            item = self._layer_items.get(layer.index)
            if item is not None:
                item.setText(CHECKED, f"{layer.checked:,} / {layer.planned:,}")
                item.setText(MAX_ERROR, format_error(layer.max_rel_error) if layer.checked else "")
                _paint(item, layer.status)
                self._show_role(item, progress.role(layer.index))

    def _show_role(self, item: QTreeWidgetItem, role) -> None:
        """Where the error enters (culprit) or only lands (affected), after the layer's name."""
        title = item.data(0, NAME_ROLE + 1)
        look = ROLE_LOOK.get(role.role) if role is not None else None
        item.setText(0, title if look is None else f"{title}   {look[0]}")
        item.setForeground(0, QBrush(QColor(look[1])) if look else QBrush())
        item.setToolTip(0, title if look is None else f"{title}: {look[0]}")

    def role_text(self, layer_index: int) -> str:
        """The layer row's text (with its role), for tests."""
        return self._layer_items[layer_index].text(0)

    # -- selection ----------------------------------------------------------------------
    def select_tensor(self, name: str) -> None:
        item = self._tensor_items.get(name)
        if item is not None and item is not self.currentItem():
            self.scrollToItem(item.parent())  # the layer's row too, when scrolling up to it
            self.setCurrentItem(item)

    def selected_tensor(self) -> str | None:
        item = self.currentItem()
        return None if item is None else item.data(0, NAME_ROLE)

    def status_of(self, name: str) -> str:
        """The status word shown for a tensor (for tests and the report)."""
        item = self._tensor_items[name]
        return item.text(1)

    def tensor_names(self) -> list[str]:
        return list(self._tensor_items)

    def _on_current_changed(self, current, _previous) -> None:
        if current is None:
            return
        name = current.data(0, NAME_ROLE)
        if name is None:  # a layer row shows its first tensor (a fault note row has none)
            names = (current.child(i).data(0, NAME_ROLE) for i in range(current.childCount()))
            name = next(filter(None, names), None)
        if name:
            self.tensor_selected.emit(name)


def _paint(item: QTreeWidgetItem, status: str) -> None:
    """Status column: symbol + word + colour; a mismatch row gets a red background too."""
    item.setText(1, status_text(status))
    item.setForeground(1, QBrush(QColor(status_colour(status))))
    font = QFont(item.font(1))
    font.setBold(status == MISMATCH)
    item.setFont(1, font)
    background = status_background(status)
    brush = QBrush(QColor(background)) if background else QBrush()
    for column in range(len(COLUMNS)):
        item.setBackground(column, brush)
    if status == UNCHECKED:
        item.setText(MAX_ERROR, "")
