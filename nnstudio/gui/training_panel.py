"""The training panel: hyperparameters, Start/Pause/Step/Stop/Reset, progress with ETA.

The form edits the session's ``TrainConfig`` (which validates every value); the buttons call
the training controller. Settings are locked while a run is in progress.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox,
                               QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSizePolicy, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from .number_text import format_number
from .session import Session
from .style import icon

FLOAT_FIELDS = ("lr", "momentum", "l1", "l2")
METRIC_TITLES = {"accuracy": "accuracy", "r2": "R²"}
EXTRA_TITLES = {"rmse": "RMSE"}
FIELD_LABELS = {"optimizer": "Optimizer", "lr": "Learning rate", "momentum": "Momentum",
                "nesterov": "Nesterov", "l1": "L1 penalty", "l2": "L2 penalty",
                "batch_size": "Batch size", "epochs": "Epochs", "seed": "Seed"}


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingPanel(QWidget):
    """Settings form + run controls; emits the user's requests, shows the run's state."""

    start_requested = Signal()
    pause_requested = Signal()      # toggles pause/resume
    step_requested = Signal()
    stop_requested = Signal()
    reset_requested = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingPanel")
        self.session = session
        self.fields: dict[str, QWidget] = {}
        self._editable = True
        self.error_label = QLabel("")
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._build_form())
        layout.addWidget(self.error_label)
        layout.addWidget(self._build_controls())
        layout.addWidget(self._build_results())
        layout.addStretch(1)
        session.config_changed.connect(self.show_config)
        self.show_config()
        self.set_state("idle")

    def _build_form(self) -> QGroupBox:
        box = QGroupBox("Settings")
        form = QFormLayout(box)
        optimizer = QComboBox()
        optimizer.addItem("Adam", "adam")
        optimizer.addItem("SGD", "sgd")
        optimizer.currentIndexChanged.connect(
            lambda _i: self._apply("optimizer", optimizer.currentData()))
        self.fields["optimizer"] = optimizer
        for name in FLOAT_FIELDS:
            line = QLineEdit()
            line.textEdited.connect(lambda text, n=name: self._on_float_edited(n, text))
            line.editingFinished.connect(self.show_config)
            self.fields[name] = line
        nesterov = QCheckBox()
        nesterov.toggled.connect(lambda checked: self._apply("nesterov", checked))
        self.fields["nesterov"] = nesterov
        for name, low, high in (("batch_size", 1, 1_000_000), ("epochs", 1, 1_000_000),
                                ("seed", 0, 2**31 - 1)):
            spin = QSpinBox()
            spin.setRange(low, high)
            spin.valueChanged.connect(lambda value, n=name: self._apply(n, value))
            self.fields[name] = spin
        for name in ("optimizer", "lr", "momentum", "nesterov", "l1", "l2", "batch_size",
                     "epochs", "seed"):
            form.addRow(FIELD_LABELS[name], self.fields[name])
        self.fields["lr"].setToolTip("Step size, > 0")
        self.fields["momentum"].setToolTip("SGD momentum in [0, 1); Adam ignores it")
        self.fields["seed"].setToolTip("Seeds weight initialisation, shuffling and dropout")
        return box

    def _build_controls(self) -> QGroupBox:
        box = QGroupBox("Run")
        grid = QGridLayout(box)
        self.start_button = QPushButton("Train")
        self.start_button.setObjectName("startButton")
        self.pause_button = QPushButton("Pause")
        self.step_button = QPushButton("Step")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset weights")
        self.start_button.setToolTip("Start (or continue) training")
        self.step_button.setToolTip("Run exactly one batch, then pause")
        self.reset_button.setToolTip("Initialise the weights again from the seed and clear the curves")
        for button, name in ((self.start_button, "play"), (self.pause_button, "pause"),
                             (self.step_button, "step"), (self.stop_button, "stop"),
                             (self.reset_button, "reset")):
            button.setIcon(icon(name))
        for button, signal in ((self.start_button, self.start_requested),
                               (self.pause_button, self.pause_requested),
                               (self.step_button, self.step_requested),
                               (self.stop_button, self.stop_requested),
                               (self.reset_button, self.reset_requested)):
            button.clicked.connect(signal.emit)
        # Train on a row of its own: it says what it will do ("Continue for 100 more
        # epochs"), which must not widen the panel
        grid.addWidget(self.start_button, 0, 0, 1, 3)
        grid.addWidget(self.pause_button, 1, 0)
        grid.addWidget(self.step_button, 1, 1)
        grid.addWidget(self.stop_button, 1, 2)
        grid.addWidget(self.reset_button, 0, 3, 2, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        # opaque: its frequent repaints then leave the panel and the window beneath alone
        self.progress.setAutoFillBackground(True)
        # one text colour: the style draws the part of the text "over the chunk" in the
        # highlighted colour, clipped from the text's own left edge, which wiped out the
        # first letter early in a run
        palette = self.progress.palette()
        palette.setColor(QPalette.ColorRole.HighlightedText, palette.color(QPalette.ColorRole.Text))
        self.progress.setPalette(palette)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progressLabel")
        grid.addWidget(self.progress, 2, 0, 1, 4)
        grid.addWidget(self.progress_label, 3, 0, 1, 4)
        self.reset_button.setSizePolicy(QSizePolicy.Policy.Preferred,
                                        QSizePolicy.Policy.Expanding)
        return box

    def _build_results(self) -> QGroupBox:
        box = QGroupBox("Results")
        self.results_box = box
        self.results_table = QTableWidget(3, 2)
        self.results_table.setVerticalHeaderLabels(["train", "validation", "test"])
        self.results_table.setHorizontalHeaderLabels(["loss", "metric"])
        self.results_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.results_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.results_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results_note = QLabel("Loss and metric of every split appear when training stops.")
        self.results_note.setObjectName("hintLabel")
        self.results_note.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.results_table)
        layout.addWidget(self.results_note)
        self._fit_results_height()
        return box

    def _fit_results_height(self) -> None:
        table = self.results_table
        table.setFixedHeight(table.horizontalHeader().sizeHint().height()
                             + table.rowCount() * table.verticalHeader().defaultSectionSize() + 4)

    def show_results(self, results: dict[str, dict] | None, note: str = "") -> None:
        """Final numbers per split (``Trainer.evaluate`` dicts), or clear them (None)."""
        table = self.results_table
        if not results:
            table.clearContents()
            table.setColumnCount(2)
            table.setHorizontalHeaderLabels(["loss", "metric"])
            self.results_note.setText(
                "Loss and metric of every split appear when training stops.")
            return
        first = next(iter(results.values()))
        metric = METRIC_TITLES.get(first.get("metric_name"), first.get("metric_name", "metric"))
        extra = [key for key in ("rmse",) if any(r.get(key) is not None for r in results.values())]
        headers = ["loss", metric] + [EXTRA_TITLES[key] for key in extra]
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for row, split in enumerate(("train", "val", "test")):
            values = results.get(split, {})
            for column, key in enumerate(["loss", "metric"] + extra):
                item = QTableWidgetItem(format_number(values.get(key)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"{values.get('n', 0)} rows")
                table.setItem(row, column, item)
        self.results_note.setText(note)

    def set_start_text(self, text: str) -> None:
        """"Train", "Continue to epoch 100" or "Continue for 100 more epochs"."""
        self.start_button.setText(text)

    # -- settings ---------------------------------------------------------------------
    def show_config(self) -> None:
        """Put the session's settings into the widgets (without echoing edits back)."""
        config = self.session.train_config
        for name, widget in self.fields.items():
            widget.blockSignals(True)
            try:
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(0, widget.findData(value)))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QSpinBox):
                    widget.setValue(int(value))
                elif not widget.hasFocus() or _parse_float(widget.text()) != value:
                    widget.setText(f"{value:g}")
                    widget.setProperty("invalid", False)
                    _repolish(widget)
            finally:
                widget.blockSignals(False)
        sgd = config.optimizer == "sgd"
        self.fields["momentum"].setEnabled(sgd and self._editable)
        self.fields["nesterov"].setEnabled(sgd and self._editable)

    def _on_float_edited(self, name: str, text: str) -> None:
        value = _parse_float(text)
        widget = self.fields[name]
        if value is None:
            self._show_invalid(widget, f"{FIELD_LABELS[name]}: {text!r} is not a number")
            return
        self._apply(name, value)

    def _apply(self, name: str, value) -> None:
        widget = self.fields[name]
        try:
            self.session.update_train_config(**{name: value})
        except ValueError as exc:
            self._show_invalid(widget, f"{FIELD_LABELS[name]}: {exc}")
            return
        widget.setProperty("invalid", False)
        _repolish(widget)
        self.error_label.setText("")

    def _show_invalid(self, widget: QWidget, message: str) -> None:
        widget.setProperty("invalid", True)
        _repolish(widget)
        self.error_label.setText(message)

    # -- run state --------------------------------------------------------------------
    def set_state(self, state: str) -> None:
        """"idle", "running" or "paused": enable the buttons and lock the form to match."""
        busy = state != "idle"
        self._editable = not busy
        for name, widget in self.fields.items():
            widget.setEnabled(not busy)
        self.show_config()
        self.start_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.pause_button.setIcon(icon("play" if state == "paused" else "pause"))
        self.step_button.setEnabled(state != "running")
        self.stop_button.setEnabled(busy)
        self.reset_button.setEnabled(not busy)

    def show_progress(self, epoch: int, epochs: int, batch: int, batches: int,
                      eta_seconds: float | None) -> None:
        done = (max(epoch - 1, 0) * batches + batch) / max(epochs * batches, 1)
        # All of it in the bar: a label whose text changes asks the whole window to lay
        # itself out again, several times a second while training. The format first:
        # setValue repaints at once, and then with the new text too.
        self.progress.setFormat(f"Epoch {epoch}/{epochs} · batch {batch}/{batches}"
                                f" · ETA {format_eta(eta_seconds)}")
        self.progress.setValue(int(round(1000 * min(done, 1.0))))
        if self.progress_label.text():
            self.progress_label.setText("")

    def show_position(self, epochs_done: int, target: int, batch: int, batches: int,
                      state: str) -> None:
        """Where the run stands, without an ETA: "Epoch 80 of 100, paused"."""
        if batch:
            text = f"Epoch {epochs_done + 1} of {target} · batch {batch}/{batches}, {state}"
        else:
            text = f"Epoch {epochs_done} of {target}, {state}"
        done = (epochs_done * batches + batch) / max(target * batches, 1)
        self.progress.setFormat(text)
        self.progress.setValue(int(round(1000 * min(done, 1.0))))

    def show_finished(self, text: str) -> None:
        self.progress_label.setText(text)


def _parse_float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
