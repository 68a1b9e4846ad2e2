"""The ordered layer stack: one row per network layer with output size, parameter count and
a check badge.

Rows are the network's layers in order, the output layer (added by the engine to fit the
dataset) last and not editable. Drag a row to reorder, drop a palette entry to insert.

Extension point for the gradient checker: ``set_layer_status(index, status, detail)`` puts a
badge ("ok", "kink" or "mismatch") on the row of network layer ``index``;
``layer_status(index)`` reads it back and ``clear_layer_statuses()`` removes all badges.
Badges are cleared whenever the architecture changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from .palette import LAYER_TYPE_MIME

COLUMNS = ("#", "Layer", "Output", "Params", "Check")
CHECK_COLUMN = 4
#: badge text and colour per status of the gradient checker
STATUS_BADGES = {
    "ok": ("✓ ok", "#1b7f3b"),
    "kink": ("≈ kink", "#b26a00"),
    "mismatch": ("✗ mismatch", "#c62828"),
    "unverifiable": ("? unverifiable", "#6a1b9a"),
    "culprit": ("⚠ error enters", "#c62828"),
    "affected": ("↳ affected", "#b26a00"),
}


@dataclass(frozen=True)
class LayerRow:
    """What one row shows; numbers come from the built engine network."""

    label: str
    output_dim: int | None
    num_parameters: int | None
    is_output: bool = False


class LayerStack(QTreeWidget):
    """The layer list view; it never edits the architecture itself, it asks by signals."""

    #: network layer index of the selection, -1 when nothing is selected
    current_layer_changed = Signal(int)
    #: move hidden layer ``source`` so that it ends at ``destination``
    move_requested = Signal(int, int)
    #: insert a new layer of a type name at a hidden-layer index
    insert_requested = Signal(str, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("layerStack")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.setAcceptDrops(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._statuses: dict[int, tuple[str, str]] = {}
        self._rows: list[LayerRow] = []
        self.currentItemChanged.connect(self._on_current_changed)

    # -- content --------------------------------------------------------------------
    @property
    def hidden_count(self) -> int:
        return sum(1 for row in self._rows if not row.is_output)

    def rows(self) -> list[LayerRow]:
        return list(self._rows)

    def show_layers(self, rows: list[LayerRow], select: int | None = None) -> None:
        """Replace the rows; keep (or set) the selected index when it still exists."""
        previous = self.current_layer() if select is None else select
        self.blockSignals(True)
        try:
            self.clear()
            self._rows = list(rows)
            for index, row in enumerate(rows):
                self.addTopLevelItem(self._make_item(index, row))
            for index in list(self._statuses):
                self._paint_status(index)
            if 0 <= previous < len(rows):
                self.setCurrentItem(self.topLevelItem(previous))
        finally:
            self.blockSignals(False)
        self._fit_minimum_width()
        self.current_layer_changed.emit(self.current_layer())

    def _fit_minimum_width(self) -> None:
        """Never narrower than its widest row: a squeezed stack cut "Dense(16)" to "Dense(…"."""
        width = sum(max(self.sizeHintForColumn(column), self.header().sectionSizeHint(column))
                    for column in range(self.columnCount()))
        self.setMinimumWidth(width + 2 * self.frameWidth() + 4)

    def _make_item(self, index: int, row: LayerRow) -> QTreeWidgetItem:
        output = "?" if row.output_dim is None else str(row.output_dim)
        params = "?" if row.num_parameters is None else f"{row.num_parameters:,}"
        label = f"{row.label}  (output)" if row.is_output else row.label
        item = QTreeWidgetItem([str(index), label, output, params, ""])
        for column in (0, 2, 3):
            item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if row.is_output:
            font = QFont(item.font(1))
            font.setItalic(True)
            item.setFont(1, font)
            item.setToolTip(1, "Output layer, added to fit the dataset's targets")
        else:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        item.setFlags(flags)
        return item

    def current_layer(self) -> int:
        item = self.currentItem()
        return -1 if item is None else self.indexOfTopLevelItem(item)

    def select_layer(self, index: int) -> None:
        item = self.topLevelItem(index)
        if item is not None:
            self.setCurrentItem(item)

    def _on_current_changed(self, *_args) -> None:
        self.current_layer_changed.emit(self.current_layer())

    # -- check badges (gradient checker extension point) ------------------------------
    def set_layer_status(self, index: int, status: str | None, detail: str = "") -> None:
        """Badge network layer ``index`` with "ok", "kink", "mismatch" (None removes it)."""
        if status is not None and status not in STATUS_BADGES:
            raise ValueError(f"status must be one of {sorted(STATUS_BADGES)} or None, got {status!r}")
        if status is None:
            self._statuses.pop(index, None)
        else:
            self._statuses[index] = (status, detail)
        self._paint_status(index)

    def layer_status(self, index: int) -> str | None:
        entry = self._statuses.get(index)
        return entry[0] if entry else None

    def clear_layer_statuses(self) -> None:
        indices = list(self._statuses)
        self._statuses.clear()
        for index in indices:
            self._paint_status(index)

    def _paint_status(self, index: int) -> None:
        item = self.topLevelItem(index)
        if item is None:
            return
        status, detail = self._statuses.get(index, (None, ""))
        text, colour = STATUS_BADGES.get(status, ("", None))
        item.setText(CHECK_COLUMN, text)
        item.setToolTip(CHECK_COLUMN, detail)
        item.setForeground(CHECK_COLUMN, QBrush(QColor(colour)) if colour else QBrush())

    # -- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasFormat(LAYER_TYPE_MIME) or event.source() is self:
            event.setDropAction(Qt.DropAction.CopyAction if event.source() is not self
                                else Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().dragMoveEvent(event)  # paints the drop indicator
        if event.mimeData().hasFormat(LAYER_TYPE_MIME) or event.source() is self:
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Translate the drop into a request; the model's change redraws the rows."""
        target = self.drop_row(event.position().toPoint())
        mime = event.mimeData()
        if mime.hasFormat(LAYER_TYPE_MIME):
            type_name = bytes(mime.data(LAYER_TYPE_MIME)).decode()
            self.insert_requested.emit(type_name, target)
        elif event.source() is self:
            source = self.current_layer()
            if 0 <= source < self.hidden_count:
                destination = target - 1 if target > source else target
                self.move_requested.emit(source, destination)
        # Copy, never Move: a Move would make the view delete the dragged row itself.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def drop_row(self, pos) -> int:
        """The hidden-layer insert position for a drop at viewport point ``pos``."""
        index = self.indexAt(pos)
        if not index.isValid():
            return self.hidden_count
        row = index.row()
        rect = self.visualRect(index)
        if pos.y() > rect.center().y():
            row += 1
        return min(row, self.hidden_count)
