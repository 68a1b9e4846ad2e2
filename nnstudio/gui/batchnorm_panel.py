"""The BatchNorm panel: which statistics BatchNorm uses, what they are, what they cost.

- A global switch: batch statistics (training mode) or running statistics (inference mode)
  for predictions, validation and the gradient checker; each layer's own override (from the
  property editor) is listed and editable here too.
- For the selected BatchNorm layer: running mean/variance (live, from the network) against
  the mean/variance of the epoch's last full training batch, per feature.
- Validation loss and metric in both modes side by side (from the training snapshots while
  training, from ``Trainer.evaluate`` otherwise); the active mode's numbers are "reported".
- "Recompute population statistics" (the engine's ``recompute_population_statistics``),
  after a confirmation, enabled only when it can run, with a report of what moved.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QRadioButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from nnstudio.engine import BatchNorm
from nnstudio.engine.context import (AUTO, BATCH, BN_STATS_CHOICES, BN_STATS_LABELS,
                                     BN_STATS_NAMES, RUNNING, other_bn_mode)

from .batchnorm_recompute import recompute_with_report
from .builder.editor import ArchitectureEditor
from .number_text import format_number
from .session import Session

RUNNING_COLOUR, BATCH_COLOUR = "#1f77b4", "#ff7f0e"
#: the order of the two modes in the numbers table and the bar plots
COLUMN_MODES = (RUNNING, BATCH)
METRIC_TITLES = {"accuracy": "accuracy", "r2": "R²"}


class BatchNormPanel(QWidget):
    """See the module docstring. ``evaluate_modes()`` supplies idle-time numbers."""

    message = Signal(str)  # for the status line

    def __init__(self, session: Session, editor: ArchitectureEditor, evaluate_modes,
                 parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("batchnormPanel")
        self.session, self.editor = session, editor
        self._evaluate_modes = evaluate_modes
        self.numbers: dict[str, dict] = {}
        self.metric_name = "accuracy"
        self._batch_stats: dict[int, tuple] = {}
        self._batch_source = ""
        self._pending_epoch = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh_numbers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self._build_switch())
        top = QHBoxLayout()
        top.addWidget(self._build_layer_table(), 3)
        top.addWidget(self._build_numbers(), 2)
        layout.addLayout(top, 1)
        layout.addWidget(self._build_plots(), 3)
        session.bn_mode_changed.connect(self._on_mode_changed)
        session.network_changed.connect(self._on_network_changed)
        session.weights_changed.connect(self.schedule_refresh)
        session.dataset_changed.connect(self.schedule_refresh)
        session.busy_changed.connect(lambda _busy: self._update_enabled())
        self._on_network_changed(True)

    # -- construction -------------------------------------------------------------------
    def _build_switch(self) -> QGroupBox:
        box = QGroupBox("Statistics for predictions, validation and the gradient checker")
        column = QVBoxLayout(box)
        row = QHBoxLayout()
        self.running_radio = QRadioButton(BN_STATS_LABELS[RUNNING].capitalize())
        self.batch_radio = QRadioButton(BN_STATS_LABELS[BATCH].capitalize())
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.running_radio)
        self.mode_group.addButton(self.batch_radio)
        self.running_radio.setChecked(self.session.bn_mode == RUNNING)
        self.batch_radio.setChecked(self.session.bn_mode == BATCH)
        self.running_radio.toggled.connect(
            lambda checked: self.session.set_bn_mode(RUNNING if checked else BATCH))
        self.recompute_button = QPushButton("Recompute population statistics")
        self.recompute_button.setToolTip(
            "Set each BatchNorm's running mean/variance to the statistics of its input over "
            "the whole training set (Ioffe & Szegedy's inference procedure)")
        self.recompute_button.clicked.connect(self.recompute)
        self.recompute_report = QLabel("")
        self.recompute_report.setObjectName("recomputeReport")
        self.recompute_report.setWordWrap(True)
        convention = QLabel("PyTorch convention: momentum weights the new batch "
                            "(default 0.1); the running variance is unbiased.")
        convention.setObjectName("hintLabel")
        convention.setWordWrap(True)
        radios = QVBoxLayout()
        radios.addWidget(self.running_radio)
        radios.addWidget(self.batch_radio)
        row.addLayout(radios)
        row.addStretch(1)
        row.addWidget(self.recompute_button)
        column.addLayout(row)
        column.addWidget(self.recompute_report)
        column.addWidget(convention)
        return box

    def _build_layer_table(self) -> QGroupBox:
        box = QGroupBox("BatchNorm layers")
        self.layer_table = QTableWidget(0, 4)
        self.layer_table.setHorizontalHeaderLabels(["Layer", "Override", "Momentum", "Uses"])
        self.layer_table.verticalHeader().setVisible(False)
        self.layer_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.layer_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.layer_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.layer_table.currentCellChanged.connect(lambda *_: self._draw_stats())
        self.layer_note = QLabel("")
        self.layer_note.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.layer_table)
        layout.addWidget(self.layer_note)
        return box

    def _build_numbers(self) -> QGroupBox:
        box = QGroupBox("Validation in both modes")
        self.numbers_table = QTableWidget(2, 2)
        self.numbers_table.setHorizontalHeaderLabels(list(COLUMN_MODES))
        self.numbers_table.horizontalHeaderItem(0).setToolTip("BatchNorm with running statistics")
        self.numbers_table.horizontalHeaderItem(1).setToolTip(
            "BatchNorm with statistics of each validation batch (batch size as in training)")
        self.numbers_table.setVerticalHeaderLabels(["loss", "accuracy"])
        self.numbers_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.numbers_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.numbers_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.numbers_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.numbers_table.setFixedHeight(self.numbers_table.horizontalHeader().sizeHint().height()
                                          + 2 * self.numbers_table.verticalHeader().defaultSectionSize()
                                          + 4)
        self.reported_label = QLabel("")
        self.reported_label.setObjectName("reportedLabel")
        self.reported_label.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.numbers_table)
        layout.addWidget(self.reported_label)
        self.override_note = QLabel("")
        self.override_note.setObjectName("hintLabel")
        self.override_note.setWordWrap(True)
        layout.addWidget(self.override_note)
        layout.addStretch(1)
        return box

    def _build_plots(self) -> QWidget:
        self.stats_legend = legend = QLabel("")
        legend.setObjectName("hintLabel")
        legend.setWordWrap(True)  # its text grows with the epoch: never widen the window
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.mean_plot = self.plots.addPlot(row=0, col=0, title="Mean per feature")
        self.var_plot = self.plots.addPlot(row=0, col=1, title="Variance per feature")
        self.bars = {}
        for plot, key in ((self.mean_plot, "mean"), (self.var_plot, "var")):
            plot.setLabel("bottom", "feature")
            plot.showGrid(y=True, alpha=0.25)
            plot.setMenuEnabled(False)
            for which, colour, shift in ((RUNNING, RUNNING_COLOUR, -0.2),
                                         (BATCH, BATCH_COLOUR, 0.2)):
                bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=colour, pen=None)
                plot.addItem(bars)
                self.bars[(key, which)] = (bars, shift)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(legend)
        layout.addWidget(self.plots, 1)
        return box

    # -- layers -------------------------------------------------------------------------
    def batchnorm_layers(self) -> list[tuple[int, BatchNorm]]:
        network = self.session.network
        return [] if network is None else network.batchnorm_layers()

    def _on_network_changed(self, fresh: bool) -> None:
        if fresh:
            self._batch_stats, self._batch_source = {}, ""
        self._fill_layer_table()
        self.schedule_refresh()

    def _fill_layer_table(self) -> None:
        layers = self.batchnorm_layers()
        selected = max(self.layer_table.currentRow(), 0)
        self.layer_table.blockSignals(True)
        self.layer_table.setRowCount(len(layers))
        for row, (index, layer) in enumerate(layers):
            self.layer_table.setItem(row, 0, _item(f"{index}: {layer.describe()}"))
            combo = self._override_combo(row)
            combo.blockSignals(True)  # showing the network's value is not an edit
            combo.setCurrentText(layer.stats)
            combo.blockSignals(False)
            self.layer_table.setItem(row, 2, _item(f"{layer.momentum:g}"))
            uses = layer.stats if layer.stats != AUTO else self.session.bn_mode
            self.layer_table.setItem(row, 3, _item(uses))
        if layers:
            self.layer_table.selectRow(min(selected, len(layers) - 1))
        self.layer_table.blockSignals(False)
        self.layer_note.setText("" if layers else "The network has no BatchNorm layer: "
                                "add one from the palette to compare the two modes.")
        overridden = [f"{index}" for index, layer in layers if layer.stats != AUTO]
        self.override_note.setText(
            "" if not overridden else
            f"Layer{'s' if len(overridden) > 1 else ''} {', '.join(overridden)} "
            "keep{} their own override in both columns (batch statistics over batches of "
            "the training size); the columns differ only through the other BatchNorm "
            "layers.".format("" if len(overridden) > 1 else "s")
            if len(overridden) < len(layers) else
            "Every BatchNorm layer has its own override, so both columns use the same "
            "statistics and agree.")
        self._update_enabled()
        self._draw_stats()

    def _override_combo(self, row: int) -> QComboBox:
        """The override combo of ``row``, made once and then kept: its own change refills
        this table (editor → session → ``network_changed``) while it is still emitting, so
        the refill must update it, not replace it."""
        combo = self.layer_table.cellWidget(row, 1)
        if isinstance(combo, QComboBox):
            return combo
        combo = QComboBox()
        combo.addItems(list(BN_STATS_CHOICES))
        combo.currentTextChanged.connect(lambda text, r=row: self._set_override(r, text))
        self.layer_table.setCellWidget(row, 1, combo)
        return combo

    def _set_override(self, row: int, stats: str) -> None:
        layers = self.batchnorm_layers()
        if not (row < len(layers) and self.editor.set_setting(layers[row][0], "stats", stats)):
            self._fill_layer_table()

    def selected_layer_index(self) -> int | None:
        layers = self.batchnorm_layers()
        row = self.layer_table.currentRow()
        return layers[row][0] if 0 <= row < len(layers) else None

    # -- statistics plots ---------------------------------------------------------------
    def show_epoch(self, snapshot) -> None:
        """Keep a training EpochSnapshot; it is drawn at the next :meth:`flush` (the window
        flushes twice a second while training, and when training pauses or ends)."""
        self._pending_epoch = snapshot

    def flush(self) -> None:
        """Draw the latest epoch snapshot, if the panel is on screen or training stopped."""
        snapshot = self._pending_epoch
        if snapshot is None or (self.session.busy and not self.isVisible()):
            return
        self._pending_epoch = None
        self._apply_epoch(snapshot)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._pending_epoch is not None:
            snapshot, self._pending_epoch = self._pending_epoch, None
            self._apply_epoch(snapshot)

    def _apply_epoch(self, snapshot) -> None:
        self.metric_name = snapshot.metric_name
        eval_mode = self.session.train_config.eval_bn_stats
        other_mode = other_bn_mode(eval_mode)
        self.numbers = {eval_mode: {"loss": snapshot.val_loss, "metric": snapshot.val_metric}}
        if snapshot.val_loss_other_bn is not None:
            self.numbers[other_mode] = {"loss": snapshot.val_loss_other_bn,
                                        "metric": snapshot.val_metric_other_bn}
        elif not self.batchnorm_layers():
            self.numbers[other_mode] = dict(self.numbers[eval_mode])
        self._batch_stats = dict(snapshot.bn_batch_stats)
        rows = getattr(snapshot, "bn_batch_rows", 0)
        self._batch_source = (f"epoch {snapshot.epoch}'s last full training batch"
                              + (f" ({rows} rows)" if rows else ""))
        self._show_numbers()
        self._draw_stats()

    def _draw_stats(self) -> None:
        index = self.selected_layer_index()
        values = self._stats_for(index)
        batch_text = (f"statistics of {self._batch_source}" if self._batch_source and
                      ("mean", BATCH) in values else "batch statistics appear after an epoch "
                      "of training")
        self.stats_legend.setText(
            f'<span style="color:{RUNNING_COLOUR}">■</span> running statistics (now)'
            f'&nbsp;&nbsp;&nbsp;<span style="color:{BATCH_COLOUR}">■</span> {batch_text}')
        for key, position in (("mean", 0), ("var", 1)):
            for which in COLUMN_MODES:
                bars, shift = self.bars[(key, which)]
                heights = values.get((key, which))
                if heights is None:
                    bars.setOpts(x=[], height=[])
                else:
                    bars.setOpts(x=np.arange(len(heights)) + shift, height=heights)
        title = "" if index is None else f" of layer {index}"
        self.mean_plot.setTitle(f"Mean per feature{title}")
        self.var_plot.setTitle(f"Variance per feature{title}")

    def _stats_for(self, index: int | None) -> dict:
        if index is None:
            return {}
        values = {}
        stats = self._batch_stats.get(index)
        if stats is not None:
            batch_mean, batch_var, running_mean, running_var = stats
            values = {("mean", BATCH): batch_mean, ("var", BATCH): batch_var,
                      ("mean", RUNNING): running_mean, ("var", RUNNING): running_var}
        if not self.session.busy:
            # idle: the live buffers (a recompute or a loaded project changed them since)
            layer = self.session.network.layers[index]
            values[("mean", RUNNING)] = layer.buffers["running_mean"].copy()
            values[("var", RUNNING)] = layer.buffers["running_var"].copy()
        return values

    # -- validation numbers -------------------------------------------------------------
    def schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def refresh_numbers(self) -> None:
        """Evaluate both modes through the trainer (when no batch is being computed)."""
        if self.session.network is None or self.session.dataset is None:
            self.numbers = {}
        else:
            try:
                self.numbers = self._evaluate_modes()
            except ValueError:
                return  # training runs: the epoch snapshots bring the numbers
            first = next(iter(self.numbers.values()), {})
            self.metric_name = first.get("metric_name", self.metric_name)
        self._fill_layer_table()
        self._show_numbers()

    def _update_enabled(self) -> None:
        """The switch and the recompute button work only while no training run is open."""
        idle = not self.session.busy
        for radio in (self.running_radio, self.batch_radio):
            radio.setEnabled(idle)
        can_recompute = (idle and self.session.dataset is not None
                         and bool(self.batchnorm_layers()))
        self.recompute_button.setEnabled(can_recompute)
        self.recompute_button.setToolTip(
            "Set each BatchNorm's running mean/variance to the statistics of its input over "
            "the whole training set (Ioffe & Szegedy's inference procedure)" if can_recompute else
            "Stop training first" if not idle else "The network has no BatchNorm layer")

    def _show_numbers(self) -> None:
        label = METRIC_TITLES.get(self.metric_name, self.metric_name)
        self.numbers_table.setVerticalHeaderLabels(["loss", label])
        active = self.session.bn_mode
        for column, mode in enumerate(COLUMN_MODES):
            values = self.numbers.get(mode, {})
            for row, key in enumerate(("loss", "metric")):
                item = _item(format_number(values.get(key)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                font = QFont(item.font())
                font.setBold(mode == active)
                item.setFont(font)
                self.numbers_table.setItem(row, column, item)
        reported = self.numbers.get(active, {})
        self.reported_label.setText(
            f"Reported validation loss ({BN_STATS_NAMES[active]}): "
            f"{format_number(reported.get('loss'))}, {label} "
            f"{format_number(reported.get('metric'))}")

    def reported_validation_loss(self) -> float | None:
        """The validation loss in the active mode (what the rest of the window reports)."""
        return self.numbers.get(self.session.bn_mode, {}).get("loss")

    def _on_mode_changed(self, mode: str) -> None:
        for radio, name in ((self.running_radio, RUNNING), (self.batch_radio, BATCH)):
            radio.blockSignals(True)
            radio.setChecked(mode == name)
            radio.blockSignals(False)
        self._fill_layer_table()
        self._show_numbers()

    def recompute(self) -> bool:
        """Ask, recompute over the training set, redraw, and report what changed (also on
        the status line, through ``message``)."""
        report = recompute_with_report(self)
        if report is None:
            return False
        self.message.emit(report)
        return True

    def evaluate_modes(self) -> dict[str, dict]:
        """Validation numbers in both modes, from the trainer (ValueError while it runs)."""
        return self._evaluate_modes()

    def redraw_statistics(self) -> None:
        self._draw_stats()


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item
