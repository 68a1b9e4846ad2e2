"""Decision boundary of a two-feature dataset: the model's prediction over the plane, with the
training points on top (as in TensorFlow Playground).

Predictions come from the engine (``Network.predict`` / ``predict_classes``) with the
session's BatchNorm mode. While training runs they are computed in the worker thread by a
probe (between batches, twice a second) so the GUI never reads weights being written.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nnstudio.engine import Context

from .session import Session

GRID_SIZE = 90
MAX_POINTS = 3000
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
REGION_ALPHA = 90


def plane_grid(x_train: np.ndarray, size: int = GRID_SIZE) -> tuple[np.ndarray, QRectF]:
    """Grid points (size², 2) covering the data with a margin, and the rectangle they span."""
    low, high = x_train.min(axis=0), x_train.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-6)
    low, high = low - margin, high + margin
    xs = np.linspace(low[0], high[0], size)
    ys = np.linspace(low[1], high[1], size)
    grid_x, grid_y = np.meshgrid(xs, ys)  # row = y, column = x
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32)
    return points, QRectF(low[0], low[1], high[0] - low[0], high[1] - low[1])


def predict_plane(network, points: np.ndarray, task: str, bn_stats: str) -> np.ndarray:
    """(size, size) class indices or first regression output, from the engine."""
    size = int(round(np.sqrt(points.shape[0])))
    ctx = Context.inference(bn_stats=bn_stats)
    if task == "classification":
        values = network.predict_classes(points, ctx)
    else:
        values = network.predict(points, ctx)[:, 0]
    return np.asarray(values).reshape(size, size)


class BoundaryView(QWidget):
    """The plane view; shows a note instead when the data does not have two features."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("boundaryView")
        self.session = session
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(False)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.scatter = pg.ScatterPlotItem(size=6, pen=pg.mkPen("#333333", width=0.6))
        self.plot.addItem(self.image)
        self.plot.addItem(self.scatter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)
        self._points: np.ndarray | None = None
        self._rect: QRectF | None = None
        self._levels = (0.0, 1.0)
        self._note = ""
        #: read by the training worker's probe (a plain bool: safe across threads)
        self.on_screen = False
        self.updates = 0
        session.dataset_changed.connect(self._on_dataset_changed)
        session.network_changed.connect(self.refresh)
        session.weights_changed.connect(self.refresh)
        session.bn_mode_changed.connect(self.refresh)
        self._on_dataset_changed()

    @property
    def applicable(self) -> bool:
        dataset = self.session.dataset
        return dataset is not None and dataset.n_features == 2

    def _on_dataset_changed(self) -> None:
        dataset = self.session.dataset
        self.plot.setVisible(self.applicable)
        if not self.applicable:
            count = "no dataset" if dataset is None else f"{dataset.n_features} features"
            self.note.setText(f"The decision boundary is drawn for datasets with two features "
                              f"(this one has {count}). Try Data ▸ Built-in ▸ two_spirals.")
            self._points = None
            return
        names = list(getattr(dataset, "feature_names", ["x1", "x2"]))
        self.note.setText(f"Prediction over the plane of {names[0]} and {names[1]} "
                          "(standardised), training points on top.")
        self.plot.setLabel("bottom", names[0])
        self.plot.setLabel("left", names[1])
        self._points, self._rect = plane_grid(np.asarray(dataset.x_train))
        self._note = self.note.text()
        self._draw_points(dataset)
        self.image.clear()
        # the session rebuilds the network for the new data next; network_changed redraws

    def _draw_points(self, dataset) -> None:
        x, y = np.asarray(dataset.x_train), np.asarray(dataset.y_train)
        if len(x) > MAX_POINTS:  # every k-th point: drawing speed, not statistics
            keep = slice(None, None, int(np.ceil(len(x) / MAX_POINTS)))
            x, y = x[keep], y[keep]
        if dataset.task == "classification":
            brushes = [pg.mkBrush(CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]) for label in y]
        else:
            values = y.reshape(len(y), -1)[:, 0]
            self._levels = (float(np.min(values)), float(np.max(values)))
            lut = _colour_map().map(_unit(values, *self._levels), mode="qcolor")
            brushes = [pg.mkBrush(colour) for colour in lut]
        self.scatter.setData(x[:, 0], x[:, 1], brush=brushes)

    # -- predictions --------------------------------------------------------------------
    def refresh(self, *_signal_args) -> None:
        """Predict over the plane now (GUI thread); skipped while training runs."""
        network = self.session.network
        if not self.applicable or network is None or self.session.busy or self._points is None:
            return
        if network.input_dim != self.session.dataset.n_features:
            return  # the network is about to be rebuilt for this dataset
        try:
            plane = predict_plane(network, self._points, self.session.dataset.task,
                                  self.session.bn_mode)
        except ValueError as exc:
            self.note.setText(f"Cannot draw the decision boundary: {exc}")
            return
        self.show_plane(plane)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.on_screen = True
        self.refresh()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.on_screen = False

    def make_probe(self, network, session: Session):
        """For the training worker: a function predicting over the plane, or a no-op."""
        if not self.applicable or self._points is None:
            return lambda: None
        points, task = self._points.copy(), session.dataset.task

        def probe():
            if not self.on_screen:  # nobody looks: spare the training thread the work
                return None
            try:  # the mode is read each time: the switch may move during training
                return predict_plane(network, points, task, session.bn_mode)
            except ValueError:
                return None
        return probe

    def show_plane(self, plane: np.ndarray | None) -> None:
        if plane is None or self._rect is None:
            return
        if self.session.dataset.task == "classification":
            colours = np.array([pg.mkColor(c).getRgb() for c in CLASS_COLOURS], dtype=np.ubyte)
            colours[:, 3] = REGION_ALPHA
            rgba = colours[plane.astype(int) % len(CLASS_COLOURS)]
            self.image.setImage(rgba, autoLevels=False)
        else:
            rgba = _colour_map().map(_unit(plane.ravel(), *self._levels), mode="byte").reshape(*plane.shape, 4)
            rgba[..., 3] = REGION_ALPHA + 60
            self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(self._rect)
        self.note.setText(self._note)
        self.updates += 1


def _colour_map():
    return pg.colormap.get("viridis")


def _unit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Place values in [0, 1] between the target's range, for the colour map (display only)."""
    values = np.asarray(values, dtype=float)
    if not high > low:
        return np.zeros_like(values)
    return np.clip((values - low) / (high - low), 0.0, 1.0)
