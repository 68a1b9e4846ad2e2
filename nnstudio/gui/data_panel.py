"""The data panel: open a CSV (dialog or drag-and-drop), preview it, choose how it becomes a
dataset, load it off the GUI thread with progress and Cancel; or pick a built-in dataset.

Reading, inference, preprocessing and splitting are all ``nnstudio.data``; this panel only
collects ``LoadOptions``. A failed load leaves the previous dataset in place.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from nnstudio.data import Cancelled, LoadOptions, builtin_names, load_csv, make_builtin

from .data_preview import PreviewTable, read_preview
from .session import Session
from .worker_run import prepared
from .workers import FunctionWorker

TASK_CHOICES = (("infer from the target", None), ("classification", "classification"),
                ("regression", "regression"))
MISSING_CHOICES = (("drop the row", "drop"), ("fill with the mean", "mean"),
                   ("fill with the most frequent", "most_frequent"))


class DataPanel(QWidget):
    """See the module docstring; ``failed(title, text)`` asks the window for a dialog."""

    failed = Signal(str, str)
    message = Signal(str)
    loaded = Signal()
    file_chosen = Signal()  # a file is previewed: the window brings the panel forward

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dataPanel")
        self.setAcceptDrops(True)
        self.session = session
        self.path: str | None = None
        self.worker: FunctionWorker | None = None
        #: asked before a load replaces the dataset (and with it weights and curves);
        #: the window offers to save unsaved changes here
        self.confirm_replace = lambda what: True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._build_source_row())
        self.preview = PreviewTable()
        layout.addWidget(self.preview, 2)
        layout.addWidget(self._build_options())
        layout.addLayout(self._build_load_row())
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("summaryLabel")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        summary_area = QScrollArea()
        summary_area.setWidgetResizable(True)
        summary_area.setFrameShape(QScrollArea.Shape.NoFrame)
        summary_area.setWidget(self.summary_label)
        layout.addWidget(summary_area, 1)
        session.dataset_changed.connect(self._show_summary)
        self._set_loading(False)

    def _build_source_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.open_button = QPushButton("Open CSV…")
        self.open_button.clicked.connect(self.open_dialog)
        self.builtin_combo = QComboBox()
        self.builtin_combo.addItems(builtin_names())
        self.builtin_combo.setToolTip("Built-in datasets")
        self.builtin_button = QPushButton("Use built-in")
        self.builtin_button.clicked.connect(
            lambda: self.load_builtin(self.builtin_combo.currentText()))
        self.file_label = QLabel("Drop a CSV file here, or open one")
        self.file_label.setWordWrap(True)
        row.addWidget(self.open_button)
        row.addWidget(self.builtin_combo)
        row.addWidget(self.builtin_button)
        column = QVBoxLayout()
        column.addLayout(row)
        column.addWidget(self.file_label)
        wrapper = QHBoxLayout()
        wrapper.addLayout(column)
        return wrapper

    def _build_options(self) -> QGroupBox:
        box = QGroupBox("How the CSV becomes a dataset")
        form = QFormLayout(box)
        self.target_combo = QComboBox()
        self.target_combo.currentTextChanged.connect(self._on_target_changed)
        self.task_combo = _choice_combo(TASK_CHOICES)
        self.missing_combo = _choice_combo(MISSING_CHOICES)
        self.val_spin = _fraction_spin(0.15)
        self.test_spin = _fraction_spin(0.15)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.standardize_check = QCheckBox("standardise numeric features")
        self.standardize_check.setChecked(True)
        self.standardize_check.setToolTip("Zero mean, unit variance, with statistics of the "
                                          "training split only")
        self.standardize_target_check = QCheckBox("standardise a regression target")
        self.standardize_target_check.setChecked(True)
        self.standardize_target_check.setToolTip(
            "Train on (target − mean) / std of the training split, so the loss starts near 1; "
            "predictions and RMSE are given back in the target's units")
        self.dates_check = QCheckBox("use date columns as numbers")
        splits = QHBoxLayout()
        splits.addWidget(QLabel("validation"))
        splits.addWidget(self.val_spin)
        splits.addWidget(QLabel("test"))
        splits.addWidget(self.test_spin)
        form.addRow("Target column", self.target_combo)
        form.addRow("Task", self.task_combo)
        form.addRow("Missing values", self.missing_combo)
        form.addRow("Split fractions", splits)
        form.addRow("Split seed", self.seed_spin)
        form.addRow("", self.standardize_check)
        form.addRow("", self.standardize_target_check)
        form.addRow("", self.dates_check)
        return box

    def _build_load_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.load_button = QPushButton("Load")
        self.load_button.setObjectName("loadButton")
        self.load_button.clicked.connect(self.load)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        row.addWidget(self.load_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        return row

    # -- choosing a file -----------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.path).parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open CSV", start,
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.set_file(path)

    def set_file(self, path: str) -> bool:
        """Preview ``path`` and offer its columns as targets; False (and a dialog) on error."""
        try:
            preview = read_preview(path, self.options(target=None))
        except (ValueError, OSError) as exc:
            self.failed.emit("Cannot read the CSV file", _naming_file(path, exc))
            return False
        self.path = str(path)
        self._show_file_label(preview)
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItems(preview.columns)
        self.target_combo.setCurrentText(preview.default_target)
        self.target_combo.blockSignals(False)
        self.preview.show_preview(preview)
        self._set_loading(False)
        self.file_chosen.emit()
        return True

    def _show_file_label(self, preview) -> None:
        self.file_label.setText(f"{Path(self.path).name}: {preview.describe()}")

    def _on_target_changed(self, target: str) -> None:
        if self.path and target:
            try:
                preview = read_preview(self.path, self.options())
            except (ValueError, OSError) as exc:
                self.file_label.setText(f"{Path(self.path).name}: target {target!r}: "
                                        f"{_naming_file(self.path, exc)}")
                self.message.emit(_naming_file(self.path, exc))
                return
            self.preview.show_preview(preview)
            self._show_file_label(preview)

    def options(self, **overrides) -> LoadOptions:
        """The LoadOptions the form describes (raises ValueError if they are inconsistent)."""
        values = dict(target=self.target_combo.currentText() or None,
                      task=self.task_combo.currentData(), missing=self.missing_combo.currentData(),
                      val_fraction=self.val_spin.value(), test_fraction=self.test_spin.value(),
                      seed=self.seed_spin.value(), standardize=self.standardize_check.isChecked(),
                      keep_dates=self.dates_check.isChecked(),
                      standardize_target=self.standardize_target_check.isChecked())
        values.update(overrides)
        return LoadOptions(**values)

    # -- loading -------------------------------------------------------------------------
    def load(self) -> bool:
        """Load the chosen file in a worker thread; the session adopts it when done."""
        refusal = self.session.edit_refusal("load a dataset")
        if refusal:
            self.message.emit(refusal)
            return False
        if self.path is None or self.worker is not None:
            return False
        if not self.confirm_replace("load a dataset"):
            return False
        options = prepared(self.options, self.failed, {ValueError: "Check the loading options"})
        if options is None:
            return False
        worker = FunctionWorker(load_csv, self.path, options)
        worker.progress.connect(self.progress.setValue)
        worker.returned.connect(self._on_loaded)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_done)
        self.worker = worker
        self._set_loading(True)
        self.message.emit(f"Loading {Path(self.path).name}…")
        worker.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _on_loaded(self, dataset) -> None:
        refusal = self.session.edit_refusal("load a dataset")
        if refusal:
            self.message.emit(refusal)
            return
        self.session.set_dataset(dataset)
        left_out = [c.name for c in dataset.report.columns if not c.used and c.kind != "target"]
        dropped = (f" {len(left_out)} column(s) left out, reasons in the summary: "
                   + ", ".join(left_out[:5]) + ("…" if len(left_out) > 5 else "") + "."
                   if left_out else "")
        self.message.emit(f"Loaded {Path(self.path).name}: {dataset.n_features} features, "
                          f"{len(dataset.x_train)} training rows.{dropped}")
        self.loaded.emit()

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.message.emit("Loading cancelled; the previous dataset stays loaded.")
            return
        text = (_naming_file(self.path, exc) if isinstance(exc, (ValueError, OSError))
                else f"{type(exc).__name__}: {exc}")
        self.failed.emit("Cannot load the CSV file",
                         f"{text}\n\nThe previous dataset stays loaded.")

    def _on_done(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait(2000)
        self._set_loading(False)

    def shutdown(self) -> None:
        """Cancel a load in progress and wait briefly for its thread (window closing)."""
        if self.worker is not None:
            self.worker.cancel()
            if not self.worker.wait(1000):
                self.worker.abandon()  # finishes in the background, unheard

    def load_builtin(self, name: str) -> bool:
        refusal = self.session.edit_refusal("load a dataset")
        if refusal:
            self.message.emit(refusal)
            return False
        try:
            dataset = make_builtin(name)
        except ValueError as exc:
            self.failed.emit("Cannot make the built-in dataset", str(exc))
            return False
        if self.session.dataset is not None and not self.confirm_replace("load a dataset"):
            return False
        self.session.set_dataset(dataset)
        self.message.emit(f"Built-in dataset {name}: {dataset.n_features} features.")
        self.loaded.emit()
        return True

    def _set_loading(self, loading: bool) -> None:
        self.load_button.setEnabled(not loading and self.path is not None)
        self.cancel_button.setEnabled(loading)
        self.progress.setVisible(loading)
        if loading:
            self.progress.setValue(0)

    def _show_summary(self) -> None:
        dataset = self.session.dataset
        self.summary_label.setText("" if dataset is None else dataset.summary())

    # -- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if _dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = _dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.set_file(path)


def _naming_file(path: str, exc: BaseException) -> str:
    """The error with the file named once: our messages already start with its name."""
    text = str(exc)
    if str(path) in text or Path(path).name in text:
        return text
    return f"{path}: {text}"


def _dropped_path(event) -> str | None:
    urls = event.mimeData().urls()
    if len(urls) == 1 and urls[0].isLocalFile():
        return urls[0].toLocalFile()
    return None


def _choice_combo(choices) -> QComboBox:
    combo = QComboBox()
    for label, value in choices:
        combo.addItem(label, value)
    return combo


def _fraction_spin(value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 0.9)
    spin.setSingleStep(0.05)
    spin.setDecimals(2)
    spin.setValue(value)
    return spin
