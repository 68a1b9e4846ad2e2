"""The palette of layer types: double-click or drag an entry onto the stack to add it.

``LayerPalette.add_layer_type(cls)`` adds a type that is not built in (a custom layer loaded
from a Python file); it registers the class with the engine if that has not happened yet.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDrag, QFont
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from nnstudio.engine import BUILTIN_LAYERS, LAYER_TYPES, Layer, register_layer

#: MIME type of a palette drag; the payload is the layer's type name
LAYER_TYPE_MIME = "application/x-nnstudio-layer-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole
CUSTOM_COLOUR = "#00796b"
#: names wider than this (pixels) are elided in the middle
MAX_NAME_WIDTH = 110

PALETTE_LABELS = {"dense": "Dense", "relu": "ReLU", "leakyrelu": "LeakyReLU", "tanh": "Tanh",
                  "sigmoid": "Sigmoid", "batchnorm": "BatchNorm", "dropout": "Dropout"}


class LayerPalette(QListWidget):
    """One row per layer type, with its description as tooltip."""

    #: a layer of this type name should be appended (double-click or Enter)
    layer_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("layerPalette")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setToolTip("Double-click a layer, or drag it onto the stack, to add it")
        for cls in BUILTIN_LAYERS:
            self.add_layer_type(cls)
        # activated = double-click or Enter (whatever the platform calls activation)
        self.itemActivated.connect(self._on_activated)

    def add_layer_type(self, cls: type[Layer], label: str | None = None) -> None:
        """Offer ``cls`` in the palette (registering it with the engine if needed)."""
        if LAYER_TYPES.get(cls.type_name) is not cls:
            register_layer(cls)
        if self.type_names().count(cls.type_name):
            return
        text = label or PALETTE_LABELS.get(cls.type_name, cls.__name__)
        item = QListWidgetItem(text)
        item.setData(TYPE_ROLE, cls.type_name)
        tip = cls.description or cls.__doc__ or cls.type_name
        if cls not in BUILTIN_LAYERS:
            # marked by style, not by a longer name: a wider palette squeezed the stack
            font = QFont(item.font())
            font.setItalic(True)
            item.setFont(font)
            item.setForeground(QBrush(QColor(CUSTOM_COLOUR)))
            item.setStatusTip(f"{text}: a custom layer loaded from a Python file")
        item.setToolTip(tip)
        self.addItem(item)
        # wide enough for every name, up to a limit (longer names are elided, the tooltip
        # has them): the palette never takes the stack's room
        width = min(self.sizeHintForColumn(0), MAX_NAME_WIDTH)
        self.setMinimumWidth(width + 2 * self.frameWidth() + 8)

    def type_names(self) -> list[str]:
        return [self.item(row).data(TYPE_ROLE) for row in range(self.count())]

    def item_for_type(self, type_name: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(TYPE_ROLE) == type_name:
                return self.item(row)
        return None

    def _on_activated(self, item: QListWidgetItem) -> None:
        self.layer_requested.emit(item.data(TYPE_ROLE))

    def mimeData(self, items) -> QMimeData:  # noqa: N802 - Qt override
        data = QMimeData()
        if items:
            data.setData(LAYER_TYPE_MIME, items[0].data(TYPE_ROLE).encode())
        return data

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt override
        return [LAYER_TYPE_MIME]

    def startDrag(self, actions) -> None:  # noqa: N802 - Qt override
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.exec(Qt.DropAction.CopyAction)
