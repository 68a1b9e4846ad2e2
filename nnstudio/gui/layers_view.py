"""The Layers view: what happens inside the network while it trains.

Per layer, small multiples over epochs: the parameter-gradient norm (log axis), the update
ratio ‖Δθ‖/‖θ‖ (log axis, with the 1e-3 guide line of the cs231n notes) and the dead (ReLU)
or saturated (Tanh, Sigmoid) fraction of units. For the selected layer, the histograms of its
weights, gradients and outputs as heatmaps over epochs (epoch × bin, like TensorBoard's
distributions). Findings of the engine's rules, each with the layer it names; clicking one
(or a row in the network stack) selects that layer. Two sanity buttons run the engine's
checks: the initial loss against ln C, and overfitting 20 rows (in a worker thread).

The view only stores what arrives while it is hidden; it draws inside the window's paced
redraw (``flush``, called by the window's ``TrainingPresenter``) and when it is shown.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from nnstudio.training.divergence import layer_label
from nnstudio.training.health import check_initial_loss, judge_initial_loss, overfit_tiny_batch

from .layer_health_store import HISTOGRAM_KINDS, LayerHealthStore
from .layer_plots import MAX_MARKED_POINTS, small_plot
from .workers import FunctionWorker

VIEW_TITLE = "Layers"
ROW_HEIGHT = 92
COLUMNS = (("grad_norm", "grad norm", True), ("update_ratio", "update ‖Δθ‖/‖θ‖", True),
           ("fraction", "dead / saturated", False))
BADGE_COLOUR = "#b26a00"
#: while training runs the view redraws at most this often (inside the window's paced
#: redraws): eighteen small plots cost more than the three curves of the Curves view
DRAW_INTERVAL = 2.0
HEATMAP = pg.colormap.get("viridis")


class LayersView(QWidget):
    """See the module docstring. ``layer_selected(index)`` when the user picks a layer here."""

    layer_selected = Signal(int)
    message = Signal(str)

    def __init__(self, controller, session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("layersView")
        self.controller, self.session = controller, session
        self.store = LayerHealthStore()
        self.labels: list[str] = []
        self.selected = -1
        self.worker: FunctionWorker | None = None
        self._drawn_version = self._drawn_frames = -1
        self._drawn_at = 0.0
        self._findings_shown: tuple | None = None
        self._rows: list[dict] = []
        self._rows_built = False
        self._build()
        self.rebuild_rows()

    # -- construction -------------------------------------------------------------------
    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.currentIndexChanged.connect(self._on_combo)
        self.initial_button = QPushButton("Check initial loss")
        self.initial_button.setToolTip("Compare the loss of the untrained network with ln C")
        self.initial_button.clicked.connect(self.check_initial_loss)
        self.overfit_button = QPushButton("Overfit a tiny batch")
        self.overfit_button.setToolTip("Train a copy on 20 rows, regularization off: a correct "
                                       "network drives the training loss to about 0")
        self.overfit_button.clicked.connect(self.toggle_overfit)
        self.sanity_label = QLabel("")
        self.sanity_label.setObjectName("sanityLabel")
        self.sanity_label.setWordWrap(True)
        top = QHBoxLayout()
        for widget in (QLabel("Layer:"), self.layer_combo, self.initial_button, self.overfit_button):
            top.addWidget(widget)
        top.addStretch(1)
        self.multiples = pg.GraphicsLayoutWidget()
        self.multiples.setBackground("w")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.multiples)
        self.histograms = pg.GraphicsLayoutWidget()
        self.histograms.setBackground("w")
        self.heatmap_title = None  # plots are made when the view is first shown
        self.heatmaps: dict[str, tuple[pg.PlotItem, pg.ImageItem]] = {}
        self.findings_list = QListWidget()
        self.findings_list.setObjectName("findingsList")
        self.findings_list.setWordWrap(True)
        self.findings_list.itemClicked.connect(self._on_finding_clicked)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.findings_list, scroll, self.histograms):
            splitter.addWidget(widget)
        splitter.setSizes([110, 430, 250])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.sanity_label)
        layout.addWidget(splitter, 1)

    def _heatmap_plot(self, column: int, kind: str) -> tuple[pg.PlotItem, pg.ImageItem]:
        title = {"activations": "outputs"}.get(kind, kind)
        plot = self.histograms.addPlot(row=1, col=column, title=title)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", "epoch")
        image = pg.ImageItem(axisOrder="row-major")
        image.setColorMap(HEATMAP)
        plot.addItem(image)
        return plot, image

    def rebuild_rows(self, *_args) -> None:
        """Follow the session's network: its layers in the selector now, and one row of small
        multiples per layer once the view is shown (building plots lays out a scene: not
        worth a stall of the window while another view is in front)."""
        network = self.session.network
        labels = [] if network is None else [layer_label(network, i) for i in range(len(network.layers))]
        if labels == self.labels:
            return
        self.labels = labels
        self._rows_built = False
        self._rows = []
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems(labels)
        self.layer_combo.blockSignals(False)
        self.selected = -1
        self.select_layer(self._default_layer())
        self._drawn_version = -1
        if self.isVisible():
            self._build_rows()

    def _build_rows(self) -> None:
        if not self.heatmaps:
            self.heatmap_title = self.histograms.addLabel("", row=0, col=0, colspan=len(HISTOGRAM_KINDS))
            self.heatmaps = {kind: self._heatmap_plot(column, kind)
                             for column, kind in enumerate(HISTOGRAM_KINDS)}
        network = self.session.network
        labels = self.labels
        self._rows_built = True
        self.multiples.clear()
        self._rows = []
        for column, (_, title, _) in enumerate(COLUMNS):
            self.multiples.addLabel(f"<b>{title}</b>", row=0, col=column + 1)
        for index, label in enumerate(labels):
            layer = network.layers[index]
            name = self.multiples.addLabel(label.replace(":", " "), row=index + 1, col=0)
            row = {"label": name, "curves": {}}
            for column, (key, _, log) in enumerate(COLUMNS):
                if key != "fraction" and not layer.params:
                    continue
                if key == "fraction" and layer.type_name not in ("relu", "leakyrelu", "tanh", "sigmoid"):
                    continue
                row["curves"][key] = small_plot(self.multiples, index + 1, column + 1, key, log)
            self._rows.append(row)
        self.multiples.setMinimumHeight(ROW_HEIGHT * max(len(labels), 1) + 30)
        self._mark_selected_row()
        self._forget_drawn()

    def _default_layer(self) -> int:
        return 0 if self.labels else -1

    # -- selection ----------------------------------------------------------------------
    def select_layer(self, index: int) -> None:
        if index == self.selected or not 0 <= index < len(self.labels):
            return
        self.selected = index
        self.layer_combo.blockSignals(True)
        self.layer_combo.setCurrentIndex(index)
        self.layer_combo.blockSignals(False)
        self._mark_selected_row()
        if self.isVisible() and self._rows_built:
            self._draw_heatmaps()

    def _mark_selected_row(self) -> None:
        for position, row in enumerate(self._rows):
            text = self.labels[position].replace(":", " ")
            row["label"].setText(f"<b>▶ {text}</b>" if position == self.selected else text)

    def _on_combo(self, index: int) -> None:
        self.select_layer(index)
        self.layer_selected.emit(index)

    def _on_finding_clicked(self, item: QListWidgetItem) -> None:
        index = item.data(Qt.ItemDataRole.UserRole)
        if index is not None:
            self.select_layer(index)
            self.layer_selected.emit(index)

    # -- data -----------------------------------------------------------------------------
    def take_computed(self) -> None:
        """After every bundle: take what the recorder computed since (the epochs that ended,
        and points inside a long one)."""
        trainer = self.controller.trainer
        if trainer is not None and trainer.health is not None:
            offset = self.controller.epoch_offset
            self.store.add_epochs([(offset + health.epoch, health) for health in trainer.health.take()])

    def clear(self) -> None:
        self.store.clear()
        self._forget_drawn()
        self.flush(force=True)

    def _forget_drawn(self) -> None:
        self._drawn_version = self._drawn_frames = -1
        self._findings_shown = None
        for row in self._rows:
            for curve in row["curves"].values():
                curve.property_count = -1

    def load_trainer(self, trainer) -> None:
        """Show a trainer's history and kept histograms (a project that was just opened)."""
        self.rebuild_rows()
        if trainer is None:
            self.store.clear()
        else:
            if trainer.health is not None:
                trainer.health.take()  # the history and the kept frames below hold them
            self.store.load(trainer.history, trainer.health)
        self._forget_drawn()
        self.flush(force=True)

    # -- drawing --------------------------------------------------------------------------
    def flush(self, force: bool = False) -> None:
        """Redraw what arrived, if the view is shown (``force``: even if it is not time yet)."""
        if not self.isVisible():
            return  # showEvent draws everything
        if not self._rows_built:
            self._build_rows()
        now = time.monotonic()
        if self.store.version == self._drawn_version or not (
                force or self.controller.state != "running" or now - self._drawn_at >= DRAW_INTERVAL):
            return
        self._drawn_version, self._drawn_at = self.store.version, now
        self._show_findings()
        for index, row in enumerate(self._rows):
            for key, curve in row["curves"].items():
                count = self.store.count(index, key)
                if curve.property_count == count:
                    continue  # nothing new for this small multiple
                curve.property_count = count
                x, y = self.store.data(index, key)
                if key != "fraction":
                    keep = y > 0  # a log axis
                    x, y = x[keep], y[keep]
                marked = len(x) <= MAX_MARKED_POINTS  # thousands of markers cost a redraw dearly
                if marked != (curve.opts["symbol"] is not None):
                    curve.setSymbol("o" if marked else None)
                curve.setData(x, y)
        frames = self.store.frame_count(self.selected)
        if frames != self._drawn_frames:
            self._draw_heatmaps()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._forget_drawn()  # hidden, it kept only data: draw all of it
        self.flush(force=True)

    def _draw_heatmaps(self) -> None:
        self._drawn_frames = self.store.frame_count(self.selected)
        layer = self._selected_layer()
        label = self.labels[self.selected].replace(":", " ") if self.selected >= 0 else ""
        self.heatmap_title.setText(f"<b>layer {label}</b>: share of values per bin, epoch by epoch"
                                   if label else "")
        for kind, (plot, image) in self.heatmaps.items():
            title = {"activations": "outputs"}.get(kind, kind)
            none = layer is not None and kind != "activations" and not layer.params
            plot.setTitle(f"{title} (none)" if none else title)
            low, high, epochs, shares = self.store.heatmap(self.selected, kind) \
                if self.selected >= 0 else (0.0, 0.0, [], None)
            if not epochs or high <= low:
                image.clear()
                plot.getAxis("bottom").setTicks([[]])
                continue
            # sqrt: a few values far out stay visible next to the bulk
            image.setImage(np.sqrt(shares.T), levels=(0.0, 1.0), autoLevels=False)
            image.setRect(QRectF(0, low, len(epochs), high - low))
            plot.setRange(xRange=(0, len(epochs)), yRange=(low, high), padding=0)
            step = max(1, -(-len(epochs) // 4))
            plot.getAxis("bottom").setTicks([[(i + 0.5, str(epochs[i])) for i in range(0, len(epochs), step)]])

    def _selected_layer(self):
        network = self.session.network
        if network is None or not 0 <= self.selected < len(network.layers):
            return None
        return network.layers[self.selected]

    def _show_findings(self) -> None:
        dataset = self.session.dataset
        task = getattr(dataset, "task", "classification")
        findings = self.store.findings(task, getattr(dataset, "n_outputs", None))
        shown = (bool(self.store.entries), [finding.message for finding in findings])
        if shown == self._findings_shown:
            return  # a list rebuilt is a list re-laid-out and repainted
        self._findings_shown = shown
        self.findings_list.clear()
        if not findings:
            text = ("No findings: gradients, updates and units look healthy."
                    if self.store.entries else "Train to see how each layer is doing.")
            self.findings_list.addItem(QListWidgetItem(text))
            return
        for finding in findings:
            badge = finding.layer_label.replace(":", " ") if finding.layer_label else "network"
            item = QListWidgetItem(f"⚠ [{badge}]  epoch {finding.epoch}\n{finding.message}")
            item.setData(Qt.ItemDataRole.UserRole, finding.layer_index)
            item.setForeground(QBrush(QColor(BADGE_COLOUR)))
            self.findings_list.addItem(item)

    # -- sanity checks --------------------------------------------------------------------
    def check_initial_loss(self) -> None:
        trainer, dataset = self.controller.trainer, self.session.dataset
        if dataset is None or self.session.network is None:
            self._show_sanity(False, "Load data and build a network first.")
            return
        recorded = next((e.get("initial_loss") for e in (trainer.history if trainer else [])
                         if e.get("initial_loss") is not None), None)
        if trainer is not None and trainer.step > 0 and recorded is not None \
                and dataset.task == "classification":
            result = judge_initial_loss(recorded, dataset.n_outputs)
            self._show_sanity(result.passed, f"step 0 of this run: {result.message}")
            return
        if self.controller.state != "idle":
            self._show_sanity(False, "Stop training first.")
            return
        try:
            result = check_initial_loss(self.session.snapshot().network, dataset)
        except ValueError as exc:
            self._show_sanity(False, str(exc))
            return
        self._show_sanity(result.passed, result.message)

    def toggle_overfit(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            return
        if self.session.dataset is None or self.session.network is None:
            self._show_sanity(False, "Load data and build a network first.")
            return
        if self.controller.state != "idle":
            self._show_sanity(False, "Stop training first: the check trains a copy of the network.")
            return
        snapshot = self.session.snapshot()
        worker = FunctionWorker(overfit_tiny_batch, snapshot.network, snapshot.dataset,
                                snapshot.train_config)
        worker.returned.connect(lambda result: self._show_sanity(result.passed, result.message))
        worker.errored.connect(lambda exc: self._show_sanity(False, f"{type(exc).__name__}: {exc}"))
        worker.finished.connect(self._on_overfit_done)
        worker.progress.connect(lambda percent: self.sanity_label.setText(
            f"Overfitting 20 rows… {percent} %"))
        self.worker = worker
        self.overfit_button.setText("Cancel")
        self.sanity_label.setText("Overfitting 20 rows…")
        worker.start()

    def _on_overfit_done(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait(1000)
        self.overfit_button.setText("Overfit a tiny batch")

    def _show_sanity(self, passed: bool, text: str) -> None:
        colour = "#1b7f3b" if passed else "#c62828"
        self.sanity_label.setText(f"<span style='color:{colour}'>{'✓' if passed else '✗'}</span> {text}")
        self.message.emit(text)

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(2000)


def install_layers_view(window) -> LayersView:
    """Add the Layers tab and connect it to the training controller and the layer stack;
    returns the view (the window keeps it as ``window.layers_view``)."""
    view = LayersView(window.controller, window.session)
    window.add_view(VIEW_TITLE, view)
    controller, session, stack = window.controller, window.session, window.layer_stack
    controller.bundle_handled.connect(view.take_computed)
    controller.history_cleared.connect(view.clear)
    controller.finished.connect(lambda _reason: view.flush(force=True))
    session.network_changed.connect(view.rebuild_rows)
    session.path_changed.connect(lambda _path: view.load_trainer(controller.trainer))
    stack.current_layer_changed.connect(view.select_layer)
    view.layer_selected.connect(stack.select_layer)
    view.message.connect(window.show_status)
    window.installEventFilter(_CloseWatcher(view, window))
    return view


class _CloseWatcher(QObject):
    """Ends a running tiny-batch check when the window closes, so no thread outlives it."""

    def __init__(self, view: LayersView, parent: QObject) -> None:
        super().__init__(parent)
        self._view = view

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close and event.isAccepted():
            self._view.shutdown()
        return False
