"""The CSV preview: the first rows of a file, each column's inferred kind, and what loading
will do with it (feature, one-hot, target, left out and why).

The reading and the decisions are ``nnstudio.data``'s (``read_table``, ``infer_schema``);
this module only lays them out in a table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from nnstudio.data import LoadOptions, infer_schema, read_table

PREVIEW_ROWS = 20
#: rows the preview's column decisions are based on (loading decides on the whole file)
SCHEMA_ROWS = 2000
LEFT_OUT_COLOUR = "#8a8f98"
TARGET_COLOUR = "#fff2d6"
#: a missing cell, as a visible token (a blank cell looks like a rendering fault)
MISSING_TEXT = "NA"
#: widest a column starts (its header holds the kind and the action on three lines)
MAX_COLUMN_WIDTH = 120


@dataclass
class ColumnPreview:
    name: str
    kind: str
    action: str
    used: bool
    is_target: bool = False


@dataclass
class Preview:
    """What the table shows: column decisions and the first rows as text."""

    columns: list[str]
    rows: list[list[str]]
    decisions: list[ColumnPreview]
    default_target: str
    task: str | None = None
    notices: list[str] = field(default_factory=list)

    #: why this target (the default's rule, or "chosen")
    target_reason: str = "chosen"

    def describe(self) -> str:
        task = f", {self.task}" if self.task else ""
        why = "" if self.target_reason == "chosen" else f" ({self.target_reason})"
        return f"{len(self.columns)} columns, target {self.default_target!r}{task}{why}"


def read_preview(path: str, options: LoadOptions) -> Preview:
    """Read the head of ``path`` and the column decisions ``options`` lead to."""
    frame = read_table(path, SCHEMA_ROWS, options)
    schema = infer_schema(frame, options)
    decisions = []
    for info in schema.columns:
        is_target = info.name == schema.target
        decisions.append(ColumnPreview(info.name, info.kind, _action(info, is_target, schema.task),
                                       used=info.used or is_target, is_target=is_target))
    columns = [str(c) for c in frame.columns]
    rows = [[MISSING_TEXT if _blank(v) else str(v) for v in record]
            for record in frame.head(PREVIEW_ROWS).itertuples(index=False)]
    return Preview(columns, rows, decisions, schema.target, schema.task, list(schema.notices),
                   schema.target_reason)


def _action(info, is_target: bool, task: str) -> str:
    if is_target:
        return f"target ({task})"
    if not info.used:
        return f"left out: {info.note}" if info.note else "left out"
    if info.kind == "categorical":
        count = len(info.categories or []) + (1 if info.other else 0)
        return f"one-hot, {count} columns"
    return info.note or "feature"


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class PreviewTable(QTableWidget):
    """First rows of the file; the header says kind and action of each column."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("previewTable")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        self.preview: Preview | None = None

    def show_preview(self, preview: Preview) -> None:
        self.preview = preview
        decisions = {d.name: d for d in preview.decisions}
        self.clear()
        self.setColumnCount(len(preview.columns))
        self.setRowCount(len(preview.rows))
        for column, name in enumerate(preview.columns):
            decision = decisions.get(name)
            header = QTableWidgetItem(name if decision is None else
                                      f"{name}\n{decision.kind}\n{decision.action}")
            if decision is not None:
                header.setToolTip(f"{name}: {decision.kind}; {decision.action}")
            self.setHorizontalHeaderItem(column, header)
            for row, record in enumerate(preview.rows):
                item = QTableWidgetItem(record[column] if column < len(record) else "")
                if item.text() == MISSING_TEXT:
                    item.setForeground(QBrush(QColor(LEFT_OUT_COLOUR)))
                    item.setToolTip("missing value")
                if decision is not None and decision.is_target:
                    item.setBackground(QBrush(QColor(TARGET_COLOUR)))
                elif decision is not None and not decision.used:
                    item.setForeground(QBrush(QColor(LEFT_OUT_COLOUR)))
                self.setItem(row, column, item)
        self.resizeColumnsToContents()
        for column in range(self.columnCount()):  # every column in reach of the scroll bar
            self.setColumnWidth(column, min(self.columnWidth(column), MAX_COLUMN_WIDTH))
