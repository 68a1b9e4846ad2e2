"""A sortable table of the checked elements, filterable to mismatches and kinks.

The model sorts and filters itself with numpy instead of through a QSortFilterProxyModel:
a proxy sorting each inserted bundle calls back into Python for every comparison, which
stalled the window for seconds on a 26,000-element check. Here ``visible`` holds the
indices of the shown results in display order; appending in checking order is a plain
row insertion, and any other order is one argsort per bundle.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHeaderView, QLabel,
                               QSizePolicy, QTableView, QVBoxLayout, QWidget)

from nnstudio.engine.gradcheck import KINK, MISMATCH, UNVERIFIABLE, ElementResult

from .flow_layout import FlowLayout
from .status import format_error, format_index, format_value, status_background, status_text

COLUMNS = ("#", "Tensor", "Index", "Verdict", "Analytic", "Numeric", "Abs. error",
           "Rel. error", "f(θ+h)", "f(θ−h)", "Kink")
FILTERS = (("all", "All checked elements"), ("flagged", "Mismatches, unverifiable and kinks"),
           ("mismatch", "Mismatches only"), ("kink", "Kinks only"))
#: per column, a text as wide as its widest usual value (the header is measured too)
WIDTH_SAMPLES = ("26,000", "1.gamma", "[127, 127]", "✗ MISMATCH", "-0.0001234567891",
                 "-0.0001234567891", "1.23e-04", "1.23e-04", "0.1234567891", "0.1234567891")
_ACCEPTED = {"all": None, "flagged": {MISMATCH, UNVERIFIABLE, KINK}, "mismatch": {MISMATCH},
             "kink": {KINK}}
_ASCENDING = Qt.SortOrder.AscendingOrder


class ResultsModel(QAbstractTableModel):
    """All results in checking order; ``visible`` is what the view shows, in its order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[ElementResult] = []
        self.visible = np.zeros(0, dtype=np.intp)
        self.verdicts: set[str] | None = None
        self.tensor: str | None = None
        self.sort_column, self.sort_order = 0, _ASCENDING

    # -- Qt model interface ---------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.visible)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        position = int(self.visible[index.row()])
        result = self.rows[position]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(position, result, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            background = status_background(result.verdict)
            return QBrush(QColor(background)) if background else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order=_ASCENDING) -> None:
        self.sort_column, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        before = self.visible
        self.visible = self._ordered(self.visible)
        self._move_persistent(before)
        self.layoutChanged.emit()

    # -- content --------------------------------------------------------------------------
    def result_at(self, row: int) -> ElementResult:
        return self.rows[int(self.visible[row])]

    def append(self, results: list[ElementResult]) -> None:
        if not results:
            return
        first = len(self.rows)
        self.rows.extend(results)
        accepted = np.array([first + i for i, r in enumerate(results) if self._accepts(r)],
                            dtype=np.intp)
        if accepted.size == 0:
            return
        if self.sort_column == 0 and self.sort_order == _ASCENDING:
            start = len(self.visible)
            self.beginInsertRows(QModelIndex(), start, start + accepted.size - 1)
            self.visible = np.concatenate([self.visible, accepted])
            self.endInsertRows()
        else:
            self.layoutAboutToBeChanged.emit()
            before = self.visible
            self.visible = self._ordered(np.concatenate([self.visible, accepted]))
            self._move_persistent(before)
            self.layoutChanged.emit()

    def set_filter(self, verdicts: set[str] | None, tensor: str | None) -> None:
        self.beginResetModel()
        self.verdicts, self.tensor = verdicts, tensor
        chosen = np.array([i for i, r in enumerate(self.rows) if self._accepts(r)],
                          dtype=np.intp)
        self.visible = self._ordered(chosen)
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows, self.visible = [], np.zeros(0, dtype=np.intp)
        self.endResetModel()

    def _accepts(self, result: ElementResult) -> bool:
        if self.verdicts is not None and result.verdict not in self.verdicts:
            return False
        return self.tensor is None or result.tensor == self.tensor

    def _ordered(self, positions: np.ndarray) -> np.ndarray:
        """``positions`` sorted by the sort column (stable, so ties keep checking order)."""
        if self.sort_column == 0:
            ordered = np.sort(positions)
        else:
            keys = [_sort_key(int(p), self.rows[int(p)], self.sort_column) for p in positions]
            ordered = positions[np.argsort(np.array(keys), kind="stable")] if keys else positions
        return ordered[::-1].copy() if self.sort_order != _ASCENDING else ordered

    def _move_persistent(self, before: np.ndarray) -> None:
        """Keep the selection on the same results after a re-sort."""
        new_row = {int(p): row for row, p in enumerate(self.visible)}
        old, new = [], []
        for index in self.persistentIndexList():
            row = new_row.get(int(before[index.row()]), -1) if index.row() < len(before) else -1
            old.append(index)
            new.append(self.index(row, index.column()) if row >= 0 else QModelIndex())
        if old:
            self.changePersistentIndexList(old, new)


def _display(row: int, result: ElementResult, column: int) -> str:
    if column == 0:
        return str(row + 1)
    if column == 1:
        return result.tensor
    if column == 2:
        return format_index(result.index)
    if column == 3:
        return status_text(result.verdict)
    if column == 10:
        return "; ".join(f"{k.layer_label} ({k.units})" for k in result.kinks)
    value = (result.analytic, result.numeric, result.abs_error, result.rel_error,
             result.f_plus, result.f_minus)[column - 4]
    return format_error(value) if column in (6, 7) else format_value(value)


def _sort_key(row: int, result: ElementResult, column: int):
    if column == 0:
        return row
    if column == 1:
        return result.tensor
    if column == 2:
        return result.flat_index
    if column == 3:
        return status_text(result.verdict)
    if column == 10:
        return sum(k.units for k in result.kinks)
    return (result.analytic, result.numeric, result.abs_error, result.rel_error,
            result.f_plus, result.f_minus)[column - 4]


class ResultsTable(QWidget):
    """Filter controls above a sortable view; ``element_activated`` on click."""

    element_activated = Signal(object)  # ElementResult

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckTable")
        self.model = ResultsModel(self)
        self.filter = QComboBox()
        for data, text in FILTERS:
            self.filter.addItem(text, data)
        self.only_selected = QCheckBox("only the selected tensor")
        self.count = QLabel("")
        self.selected_tensor: str | None = None
        controls = QWidget()  # wraps onto a second row in a narrow view
        controls_layout = FlowLayout(controls)
        for widget in (QLabel("Show"), self.filter, self.only_selected, self.count):
            controls_layout.addWidget(widget)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        controls.setSizePolicy(policy)
        self.view = self._build_view()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(controls)
        layout.addWidget(self.view, 1)
        self.filter.currentIndexChanged.connect(self._apply_filter)
        self.only_selected.toggled.connect(self._apply_filter)
        self.model.rowsInserted.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)
        self._update_count()

    def _build_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.model)
        view.setSortingEnabled(True)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(20)
        # Widths from sample texts: measuring the contents of tens of thousands of rows
        # would stall the GUI
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics, padding = view.fontMetrics(), 16
        header_metrics = header.fontMetrics()
        for column, sample in enumerate(WIDTH_SAMPLES):
            width = max(metrics.horizontalAdvance(sample),
                        header_metrics.horizontalAdvance(COLUMNS[column]) + padding)
            view.setColumnWidth(column, width + padding)
        view.clicked.connect(self._on_clicked)
        return view

    # -- content ------------------------------------------------------------------------
    def append(self, results: list[ElementResult]) -> None:
        self.model.append(results)

    def clear(self) -> None:
        self.model.clear()

    def set_filter_mode(self, mode: str) -> None:
        self.filter.setCurrentIndex(self.filter.findData(mode))

    def set_selected_tensor(self, name: str | None) -> None:
        self.selected_tensor = name
        if self.only_selected.isChecked():
            self._apply_filter()

    def shown_results(self) -> list[ElementResult]:
        """The rows as currently filtered and sorted (for tests and the report)."""
        return [self.model.result_at(row) for row in range(self.model.rowCount())]

    def _apply_filter(self, *_args) -> None:
        tensor = self.selected_tensor if self.only_selected.isChecked() else None
        self.model.set_filter(_ACCEPTED[self.filter.currentData()], tensor)
        self._update_count()

    def _update_count(self, *_args) -> None:
        self.count.setText(f"{self.model.rowCount():,} of {len(self.model.rows):,} shown")

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.element_activated.emit(self.model.result_at(index.row()))
