"""A layout that places widgets left to right and wraps onto a new row when the width runs
out (Qt's "Flow Layout" example): a row of buttons that fits a narrow view."""
from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget

#: pixels between items when the style does not say
DEFAULT_GAP = 6


class FlowLayout(QLayout):
    """Rows of items in insertion order; ``heightForWidth`` tells the parent how many rows
    a width needs. The narrowest width is that of the widest item."""

    def __init__(self, parent: QWidget | None = None, spacing: int = -1) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout interface ------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """All items on one row."""
        width, height = 0, 0
        for item in self._items:
            hint = item.sizeHint()
            width += hint.width() + (self._gap(item, Qt.Orientation.Horizontal) if width else 0)
            height = max(height, hint.height())
        return QSize(width, height) + _margin_size(self.contentsMargins())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size + _margin_size(self.contentsMargins())

    # -- placement --------------------------------------------------------------------------
    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items (if ``move``) and return the height they take at this width."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            gap_x = self._gap(item, Qt.Orientation.Horizontal)
            if x > area.x() and x + hint.width() > area.right() + 1:
                x = area.x()
                y += row_height + self._gap(item, Qt.Orientation.Vertical)
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + gap_x
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + margins.bottom()

    def _gap(self, item: QLayoutItem, orientation: Qt.Orientation) -> int:
        if self._spacing >= 0:
            return self._spacing
        widget = item.widget()
        gap = -1 if widget is None else widget.style().layoutSpacing(
            QSizePolicy.ControlType.PushButton, QSizePolicy.ControlType.PushButton, orientation)
        return gap if gap >= 0 else DEFAULT_GAP

def _margin_size(margins: QMargins) -> QSize:
    return QSize(margins.left() + margins.right(), margins.top() + margins.bottom())
