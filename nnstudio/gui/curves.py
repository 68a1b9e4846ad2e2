"""Live training curves: loss per batch (optionally smoothed), loss per epoch, metric per epoch.

Every curve is created once; new points go into preallocated buffers that double when full
and stay under a cap (``series.EnvelopeSeries``), and the curve is updated with ``setData``
on views of them. Plots use
pyqtgraph's peak downsampling and clip to the visible range, so long runs stay cheap.
Pens are one pixel wide and not antialiased: Qt strokes wider antialiased polylines of
thousands of points a hundred times slower, which would starve the training thread.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from .plot_ranges import SteadyRange
from .series import EnvelopeSeries, MovingAverage

TRAIN_COLOUR, VAL_COLOUR, RAW_COLOUR, SMOOTH_COLOUR = "#1f77b4", "#ff7f0e", "#b0b8c4", "#1f3b73"
METRIC_LABELS = {"accuracy": "Accuracy", "r2": "R²"}
#: epoch curves show a marker per point up to this many epochs, then only the line
MAX_MARKED_EPOCHS = 60
#: pixels for the y tick labels ("0.0001", "1e+06" and the like)
TICK_TEXT_WIDTH = 46
#: R² below this is off the view (the title gives the true minimum): a first epoch at
#: R² = -28 would otherwise squash the useful range 0..1 into a few pixels
R2_VIEW_FLOOR = -0.5
#: ... once the lowest R² is below this (a few points just under 0 are shown as they are)
R2_CLIP_BELOW = -1.0
SAVED_COLOUR = "#6a3d9a"
SAVED_MEANS_LABEL = "epoch mean (saved; batch losses are not)"


class CurvesWidget(QWidget):
    """Three plots fed by the training controller; call :meth:`redraw` after adding points."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("curvesWidget")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        # Bounded: a fast run adds thousands of batches (and, on a small dataset, epochs)
        # a second; past the cap, runs of points are kept as their minimum and maximum.
        self.series = {name: EnvelopeSeries() for name in
                       ("batch_loss", "train_loss", "val_loss", "train_metric", "val_metric",
                        "saved_means")}
        self._metric_name = "accuracy"
        self._metric_title = ""
        self.smoothing = MovingAverage()
        self._make_plots()
        self._make_controls()
        self._dirty = False

    def _make_plots(self) -> None:
        self.batch_plot = self._plot(0, "Training loss per batch", "step", "loss")
        self.epoch_plot = self._plot(1, "Loss per epoch", "epoch", "loss")
        # losses fall, metrics rise: legends go where the curves are not
        self.metric_plot = self._plot(2, "Accuracy per epoch", "epoch", "accuracy",
                                      legend_offset=(-10, -10))
        self.curves = {
            "batch_loss": self.batch_plot.plot(name="batch", pen=pg.mkPen(RAW_COLOUR, width=1),
                                               antialias=False),
            # no name: it joins the legend only while smoothing is on
            "batch_smoothed": self.batch_plot.plot(pen=pg.mkPen(SMOOTH_COLOUR, width=1),
                                                   antialias=False),
            "train_loss": self._epoch_curve(self.epoch_plot, "train", TRAIN_COLOUR),
            "val_loss": self._epoch_curve(self.epoch_plot, "validation", VAL_COLOUR),
            "train_metric": self._epoch_curve(self.metric_plot, "train", TRAIN_COLOUR),
            "val_metric": self._epoch_curve(self.metric_plot, "validation", VAL_COLOUR),
            # a reopened project: its batch losses were not saved, each epoch's mean was
            "saved_means": self.batch_plot.plot(
                pen=pg.mkPen(SAVED_COLOUR, width=1),
                symbol="o", symbolSize=4, symbolBrush=SAVED_COLOUR, symbolPen=None, antialias=False),
        }
        for curve in self.curves.values():
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.curves["batch_smoothed"].setVisible(False)
        self.ranges = {plot: SteadyRange(plot)
                       for plot in (self.batch_plot, self.epoch_plot, self.metric_plot)}

    def _plot(self, row: int, title: str, x_label: str, y_label: str,
              legend_offset=(-10, 10)) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=row, col=0, title=title,
                                     axisItems={"left": LogFriendlyAxis(orientation="left")})
        plot.setLabel("bottom", x_label)
        plot.setLabel("left", y_label)
        # horizontal lines only: a vertical grid repaints the whole plot whenever the
        # step axis grows, which it does all the time while training
        plot.showGrid(x=False, y=True, alpha=0.25)
        legend = plot.addLegend(offset=legend_offset)
        plot.setMenuEnabled(False)
        # Fixed room for tick labels and no SI-prefix relabelling: otherwise every range
        # change re-lays out the whole plot (tens of milliseconds of GIL while training).
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setStyle(autoExpandTextSpace=False, autoReduceTextSpace=False)
        plot.getAxis("left").setStyle(tickTextWidth=TICK_TEXT_WIDTH)
        # Axes, title and legend change rarely (steady ranges); as cached pixmaps they cost
        # nothing when a curve update repaints the area next to them.
        for item in (plot.getAxis("left"), plot.getAxis("bottom"), plot.titleLabel, legend):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        return plot

    @staticmethod
    def _epoch_curve(plot: pg.PlotItem, name: str, colour: str) -> pg.PlotDataItem:
        return plot.plot(name=name, pen=pg.mkPen(colour, width=1), symbol="o", symbolSize=4,
                         symbolBrush=colour, symbolPen=None, antialias=False)

    def _make_controls(self) -> None:
        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("Show the losses on a logarithmic axis")
        self.log_check.toggled.connect(self.set_log_scale)
        self.smoothing_spin = QSpinBox()
        self.smoothing_spin.setRange(1, 1000)
        self.smoothing_spin.setValue(1)
        self.smoothing_spin.setPrefix("smooth over ")
        self.smoothing_spin.setSuffix(" batches")
        self.smoothing_spin.setToolTip("Trailing mean of the batch losses (1 = off)")
        self.smoothing_spin.valueChanged.connect(self.set_smoothing)
        self.export_button = QPushButton("Export PNG…")
        self.status_label = QLabel("")
        controls = QHBoxLayout()
        for widget in (self.log_check, self.smoothing_spin, self.status_label):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)

    # -- data -------------------------------------------------------------------------
    def clear(self) -> None:
        for series in self.series.values():
            series.clear()
        self.batch_plot.legend.removeItem(self.curves["saved_means"])
        for steady in self.ranges.values():
            steady.reset()
        self._update_metric_title()
        self.smoothing.clear()
        self._dirty = True
        self.redraw()

    def add_batches(self, steps, losses) -> None:
        self.series["batch_loss"].extend(steps, losses)
        if self.smoothing.window > 1:
            self.smoothing.extend(np.asarray(steps, float), np.asarray(losses, float))
        self._dirty = True

    def add_epochs(self, epochs, train_loss, val_loss, train_metric, val_metric) -> None:
        """Append epoch rows; None/NaN entries (no validation split) are left out."""
        for name, values in (("train_loss", train_loss), ("val_loss", val_loss),
                             ("train_metric", train_metric), ("val_metric", val_metric)):
            x, y = _finite_pairs(epochs, values)
            if len(x):
                self.series[name].extend(x, y)
        self._dirty = True

    def add_saved_epoch_means(self, steps, losses) -> None:
        """A reopened project's epoch-mean training losses at each epoch's last step."""
        x, y = _finite_pairs(steps, losses)
        self.series["saved_means"].extend(x, y)
        legend, curve = self.batch_plot.legend, self.curves["saved_means"]
        legend.removeItem(curve)
        legend.addItem(curve, SAVED_MEANS_LABEL)
        self._dirty = True

    def set_metric_name(self, metric_name: str) -> None:
        """"accuracy" or "r2": titles the third plot (also before any training)."""
        if metric_name != self._metric_name:
            self._metric_name = metric_name
            label = METRIC_LABELS.get(metric_name, metric_name)
            self.metric_plot.setLabel("left", label)
        self._update_metric_title()

    def _update_metric_title(self) -> None:
        label = METRIC_LABELS.get(self._metric_name, self._metric_name)
        title = f"{label} per epoch"
        clip = False
        if self._metric_name == "r2":
            lowest = min((float(y.min()) for _, y in (self.series[n].data() for n in
                          ("train_metric", "val_metric")) if len(y)), default=None)
            clip = lowest is not None and lowest < R2_CLIP_BELOW
            if clip:
                title += f" (lowest {lowest:.3g}, below the view)"
        self.ranges[self.metric_plot].y_floor = R2_VIEW_FLOOR if clip else None
        if title != self._metric_title:  # a new title re-lays out the plot: only on change
            self._metric_title = title
            self.metric_plot.setTitle(title)

    def start_run(self, epochs: int, steps: int) -> None:
        """A run towards ``epochs`` (``steps`` batches) starts: the axes end there."""
        for plot, extent in ((self.batch_plot, steps), (self.epoch_plot, epochs),
                             (self.metric_plot, epochs)):
            self.ranges[plot].set_extent(float(extent))
        self._dirty = True

    def finish_run(self) -> None:
        """No run in progress: the axes end at the data (no half-empty plot)."""
        for steady in self.ranges.values():
            steady.set_extent(None)
        self._dirty = True
        self.redraw()

    def redraw(self) -> None:
        """Push the buffers to the curves (``setData`` on views), if anything changed."""
        if not self._dirty:
            return
        for name, series in self.series.items():
            curve = self.curves[name]
            if name != "batch_loss":
                marked = series.count <= MAX_MARKED_EPOCHS
                if marked != (curve.opts["symbol"] is not None):
                    curve.setSymbol("o" if marked else None)
            curve.setData(*series.data())
        smoothed = self.curves["batch_smoothed"]
        smoothed.setVisible(self.smoothing.window > 1)
        if self.smoothing.window > 1:
            smoothed.setData(*self.smoothing.smoothed.data())
        log_y = self.log_check.isChecked()
        self.ranges[self.batch_plot].fit([self.series[name].data()
                                          for name in ("batch_loss", "saved_means")], log_y)
        self.ranges[self.epoch_plot].fit(
            [self.series[name].data() for name in ("train_loss", "val_loss")], log_y)
        if self._metric_name == "r2":
            self._update_metric_title()  # sets the view's floor before the fit
        self.ranges[self.metric_plot].fit(
            [self.series[name].data() for name in ("train_metric", "val_metric")])
        self._dirty = False

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of what curve ``name`` currently shows (for tests and exports)."""
        x, y = self.curves[name].getOriginalDataset()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.array(x), np.array(y)

    # -- display options --------------------------------------------------------------
    def set_log_scale(self, enabled: bool) -> None:
        for plot in (self.batch_plot, self.epoch_plot):
            plot.setLogMode(x=False, y=bool(enabled))
            self.ranges[plot].reset()
        self._dirty = True
        self.redraw()

    def set_smoothing(self, window: int) -> None:
        legend, smoothed = self.batch_plot.legend, self.curves["batch_smoothed"]
        legend.removeItem(smoothed)
        if window > 1:
            legend.addItem(smoothed, f"mean of {window}")
        self.smoothing.rebuild(*self.series["batch_loss"].data(), window)
        self._dirty = True
        self.redraw()

    def export_png(self, path: str) -> None:
        """Save the three plots as a PNG image (SVG export is broken in this Qt)."""
        if not self.graphics.grab().save(str(path), "PNG"):
            raise OSError(f"could not write the image {path}")


class LogFriendlyAxis(pg.AxisItem):
    """A y axis whose log mode labels decades first, then 2 and 5, then the other multiples
    only if there is room: pyqtgraph labels all of 0.2, 0.3, ... 0.9 on one level when the
    view spans a decade or two, and they run into each other."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - pyqtgraph API
        low, high = int(np.floor(minVal)), int(np.ceil(maxVal))
        levels = []
        for multiples in ((1,), (2, 5), (3, 4, 6, 7, 8, 9)):
            values = [decade + np.log10(m) for decade in range(low, high) for m in multiples]
            levels.append((None, [v for v in values if minVal <= v <= maxVal]))
        return levels


def _finite_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray([np.nan if v is None else v for v in np.atleast_1d(y)],
                                 dtype=float))
    keep = np.isfinite(y)
    return x[keep], y[keep]
