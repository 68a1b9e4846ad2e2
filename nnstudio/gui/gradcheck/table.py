"""A sortable table of the checked elements, filterable to mismatches and kinks.

The model appends whole bundles (one ``beginInsertRows`` per bundle) and sorts on the raw
numbers (``SORT_ROLE``), so sorting by error is numeric, not by the formatted text.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout,
                               QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget)

from nnstudio.engine.gradcheck import KINK, MISMATCH, ElementResult

from .status import format_error, format_index, format_value, status_background, status_text

COLUMNS = ("#", "Tensor", "Index", "Verdict", "Analytic", "Numeric", "Abs. error",
           "Rel. error", "f(θ+h)", "f(θ−h)", "Kink")
SORT_ROLE = Qt.ItemDataRole.UserRole
FILTERS = (("all", "All checked elements"), ("flagged", "Mismatches and kinks"),
           ("mismatch", "Mismatches only"), ("kink", "Kinks only"))
_ACCEPTED = {"all": None, "flagged": {MISMATCH, KINK}, "mismatch": {MISMATCH}, "kink": {KINK}}


class ResultsModel(QAbstractTableModel):
    """Rows are ``ElementResult``s in the order they were checked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[ElementResult] = []

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        result = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(index.row(), result, column)
        if role == SORT_ROLE:
            return _sort_key(index.row(), result, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            background = status_background(result.verdict)
            return QBrush(QColor(background)) if background else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def append(self, results: list[ElementResult]) -> None:
        if not results:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(results) - 1)
        self.rows.extend(results)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()


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


class ResultsFilter(QSortFilterProxyModel):
    """Keeps rows by verdict and, optionally, by tensor."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.verdicts: set[str] | None = None
        self.tensor: str | None = None

    def set_filter(self, verdicts: set[str] | None, tensor: str | None) -> None:
        self.verdicts, self.tensor = verdicts, tensor
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, _parent) -> bool:  # noqa: N802 - Qt override
        result = self.sourceModel().rows[source_row]
        if self.verdicts is not None and result.verdict not in self.verdicts:
            return False
        return self.tensor is None or result.tensor == self.tensor


class ResultsTable(QWidget):
    """Filter controls above a sortable view; ``element_activated`` on click."""

    element_activated = Signal(object)  # ElementResult

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckTable")
        self.model = ResultsModel(self)
        self.proxy = ResultsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QComboBox()
        for data, text in FILTERS:
            self.filter.addItem(text, data)
        self.only_selected = QCheckBox("only the selected tensor")
        self.count = QLabel("")
        self.selected_tensor: str | None = None
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show"))
        controls.addWidget(self.filter)
        controls.addWidget(self.only_selected)
        controls.addStretch(1)
        controls.addWidget(self.count)
        self.view = self._build_view()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.view, 1)
        self.filter.currentIndexChanged.connect(self._apply_filter)
        self.only_selected.toggled.connect(self._apply_filter)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._update_count()

    def _build_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(20)
        # Fixed widths: measuring contents of tens of thousands of rows would stall the GUI
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((50, 60, 70, 100, 120, 120, 80, 80, 120, 120)):
            view.setColumnWidth(column, width)
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
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(row, 0)).row()]
                for row in range(self.proxy.rowCount())]

    def _apply_filter(self, *_args) -> None:
        tensor = self.selected_tensor if self.only_selected.isChecked() else None
        self.proxy.set_filter(_ACCEPTED[self.filter.currentData()], tensor)
        self._update_count()

    def _update_count(self, *_args) -> None:
        self.count.setText(f"{self.proxy.rowCount():,} of {self.model.rowCount():,} shown")

    def _on_clicked(self, index: QModelIndex) -> None:
        source = self.proxy.mapToSource(index)
        if source.isValid():
            self.element_activated.emit(self.model.rows[source.row()])
