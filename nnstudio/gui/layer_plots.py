"""The plots of the Layers view: small multiples with a decade-only log axis."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

CURVE_COLOUR, GUIDE_COLOUR = "#1f77b4", "#2e7d32"
#: a small multiple marks its points up to this many, then draws only the line
MAX_MARKED_POINTS = 60


def small_plot(layout: pg.GraphicsLayout, row: int, column: int, key: str,
               log: bool) -> pg.PlotDataItem:
    """One small multiple in ``layout`` and its (empty) curve: ``key`` is grad_norm,
    update_ratio (with the 1e-3 guide line) or fraction (on [0, 1])."""
    plot = layout.addPlot(row=row, col=column, axisItems={"left": DecadeAxis(orientation="left")})
    # as in the Curves view: fixed room for tick labels, no SI relabelling and axes cached
    # as pixmaps, so a redraw repaints the curve, not eighteen re-laid-out axes
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        axis.setStyle(autoExpandTextSpace=False, autoReduceTextSpace=False, maxTickLevel=0)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.getAxis("left").setStyle(tickTextWidth=34)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)
    if log:
        plot.setLogMode(x=False, y=True)
    if key == "update_ratio":
        plot.addItem(pg.InfiniteLine(pos=-3, angle=0, pen=pg.mkPen(GUIDE_COLOUR, width=1,
                                                                   style=Qt.PenStyle.DashLine)))
    if key == "fraction":
        plot.setYRange(0, 1, padding=0.05)
    curve = plot.plot(pen=pg.mkPen(CURVE_COLOUR, width=1), symbol="o", symbolSize=3,
                      symbolBrush=CURVE_COLOUR, symbolPen=None, antialias=False)
    curve.setDownsampling(auto=True, method="peak")
    curve.property_count = -1  # points drawn so far (redraw only what changed)
    return curve


class DecadeAxis(pg.AxisItem):
    """A log axis labelled at decades only: a small multiple has no room for 2, 5, ..."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 - pyqtgraph API
        low, high = int(np.floor(minVal)), int(np.ceil(maxVal))
        decades = [float(d) for d in range(low, high + 1) if minVal <= d <= maxVal]
        if not decades:  # less than a decade shown: one label in the middle
            decades = [round((minVal + maxVal) / 2, 1)]
        step = max(1, len(decades) // 3)
        return [(None, decades[::step])]
