"""The confusion matrix view: which class the classifier confuses with which, on the
validation or test split, with per-class recall; click a cell to list its rows of the CSV.

The counts come from ``nnstudio.training.confusion_matrix`` (the same BatchNorm statistics as
the reported validation numbers); feature values are shown in the file's units
(``Standardizer.inverse_transform``). Computed when training stops, not while it runs.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from nnstudio.training import confusion_matrix

from .session import Session

SPLITS = (("validation", "val"), ("test", "test"))
RIGHT, WRONG = QColor("#2c7fb8"), QColor("#d95f0e")
#: rows listed for a cell at most (a cell of a big split can hold thousands)
MAX_LISTED_ROWS = 500


class ConfusionView(QWidget):
    """See the module docstring."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionView")
        self.session = session
        self.confusion = None
        self._stale = True
        self.split = "val"
        self.split_combo = QComboBox()
        for label, split in SPLITS:
            self.split_combo.addItem(label, split)
        self.split_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Split"))
        top.addWidget(self.split_combo)
        top.addWidget(self.summary, 1)
        self.matrix_table = QTableWidget(0, 0)
        self.matrix_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.matrix_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.matrix_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.matrix_table.cellClicked.connect(self.show_cell)
        self.rows_label = QLabel("Click a cell to list its rows.")
        self.rows_table = QTableWidget(0, 0)
        self.rows_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.rows_table.verticalHeader().setVisible(False)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.rows_label)
        lower_layout.addWidget(self.rows_table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.matrix_table)
        splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.refresh)
        for signal in (session.weights_changed, session.dataset_changed, session.bn_mode_changed):
            signal.connect(self.schedule_refresh)
        session.network_changed.connect(lambda _fresh: self.schedule_refresh())

    def schedule_refresh(self) -> None:
        """Count again soon; while the view is hidden, once it is shown."""
        if self.isVisible():
            self._timer.start()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    # -- the matrix -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Count again on the chosen split (only while no training run is open)."""
        session, dataset = self.session, self.session.dataset
        self.split = self.split_combo.currentData()
        self.confusion, self._stale = None, False
        self.rows_table.setRowCount(0)
        self.rows_label.setText("Click a cell to list its rows.")
        if dataset is None or dataset.task != "classification":
            self._show_empty("The confusion matrix is for classification targets.")
            return
        if session.network is None or session.busy:
            self._show_empty("Shown when training is stopped." if session.busy else
                             session.network_error or "No network.")
            return
        x, y = getattr(dataset, f"x_{self.split}"), getattr(dataset, f"y_{self.split}")
        if len(x) == 0:
            self._show_empty(f"The {self.split_combo.currentText()} split is empty.")
            return
        self.confusion = confusion_matrix(session.network, x, y, len(dataset.class_names),
                                          session.bn_mode, session.train_config.batch_size)
        self._fill_matrix(dataset.class_names)

    def _show_empty(self, text: str) -> None:
        self.matrix_table.setRowCount(0)
        self.matrix_table.setColumnCount(0)
        self.summary.setText(text)

    def _fill_matrix(self, class_names: list[str]) -> None:
        confusion, table = self.confusion, self.matrix_table
        k = len(class_names)
        table.setRowCount(k)
        table.setColumnCount(k + 1)
        table.setHorizontalHeaderLabels([f"→ {name}" for name in class_names] + ["recall"])
        table.setVerticalHeaderLabels(class_names)
        peak = max(int(confusion.matrix.max()), 1)
        recall = confusion.recall
        for i in range(k):
            for j in range(k):
                count = int(confusion.matrix[i, j])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                colour = QColor(RIGHT if i == j else WRONG)
                colour.setAlpha(int(30 + 200 * count / peak) if count else 0)
                item.setBackground(QBrush(colour))
                item.setToolTip(f"{count} rows of class {class_names[i]!r} predicted as "
                                f"{class_names[j]!r}: click to list them")
                table.setItem(i, j, item)
            text = "–" if np.isnan(recall[i]) else f"{recall[i]:.0%}"
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"share of the {class_names[i]!r} rows predicted as {class_names[i]!r}")
            table.setItem(i, k, item)
        worst = int(np.nanargmin(recall)) if not np.all(np.isnan(recall)) else None
        off = confusion.matrix.copy()
        np.fill_diagonal(off, 0)
        text = (f"Rows: true class · columns: predicted class. Accuracy {confusion.accuracy:.1%} "
                f"on {int(confusion.matrix.sum())} {self.split_combo.currentText()} rows "
                f"(BatchNorm: {self.session.bn_mode} statistics).")
        if worst is not None and off.any():
            i, j = np.unravel_index(int(off.argmax()), off.shape)
            text += (f" Most confused: {class_names[i]!r} taken for {class_names[j]!r} "
                     f"({int(off[i, j])} rows); lowest recall: {class_names[worst]!r}.")
        self.summary.setText(text)

    # -- the rows of a cell -----------------------------------------------------------------
    def show_cell(self, true_class: int, predicted_class: int) -> None:
        """List the rows counted in a cell: their row in the file and feature values."""
        dataset, confusion = self.session.dataset, self.confusion
        if confusion is None or predicted_class >= confusion.matrix.shape[0]:
            return
        positions = confusion.rows(true_class, predicted_class)
        names = dataset.class_names
        source_rows = getattr(dataset, f"rows_{self.split}", None)
        x = getattr(dataset, f"x_{self.split}")[positions[:MAX_LISTED_ROWS]]
        standardizer = getattr(getattr(dataset, "preprocessing", None), "standardizer", None)
        if standardizer is not None and len(x):
            x = standardizer.inverse_transform(x)
        features = list(dataset.feature_names)
        table = self.rows_table
        table.setColumnCount(len(features) + 1)
        table.setHorizontalHeaderLabels(["data row"] + features)
        table.setRowCount(len(x))
        for row, position in enumerate(positions[:MAX_LISTED_ROWS]):
            number = int(source_rows[position]) + 1 if source_rows is not None else position + 1
            table.setItem(row, 0, QTableWidgetItem(str(number)))
            for column, value in enumerate(x[row]):
                item = QTableWidgetItem(f"{value:.6g}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, column + 1, item)
        shown = "" if len(positions) <= MAX_LISTED_ROWS else f" (the first {MAX_LISTED_ROWS})"
        where = "of the CSV (1 = the first row below the header)" if str(
            getattr(dataset, "source", "")).endswith((".csv", ".tsv", ".txt")) else "of the data"
        self.rows_label.setText(
            f"{len(positions)} row{'' if len(positions) == 1 else 's'} of class "
            f"{names[true_class]!r} predicted as "
            f"{names[predicted_class]!r}{shown}: data rows {where}, features in the file's units.")
        table.resizeColumnsToContents()
