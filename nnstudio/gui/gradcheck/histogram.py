"""Histogram of log10 relative errors, stacked by verdict, with the tolerance marked.

Counts are kept by the store as results arrive; this only redraws bars. Elements whose
gradient is within the noise floor have no meaningful relative error and are counted in
the title instead of a bar.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nnstudio.engine.gradcheck import KINK, MISMATCH, OK, UNVERIFIABLE

from .status import KINK_ORANGE, MISMATCH_RED, UNVERIFIABLE_PURPLE
from .store import HISTOGRAM_EDGES, LOG_CEILING, LOG_FLOOR, DisplayResults

BAR_COLOURS = {OK: "#43a047", KINK: KINK_ORANGE, UNVERIFIABLE: UNVERIFIABLE_PURPLE,
               MISMATCH: MISMATCH_RED}


class ErrorHistogram(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckHistogram")
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "log10 relative error (left: agreement, right: disagreement)")
        self.plot.setLabel("left", "elements")
        self.plot.setXRange(LOG_FLOOR, LOG_CEILING, padding=0.02)
        # the legend is a line above the plot: inside it, it covered the bars
        self.legend = QLabel(" &nbsp; ".join(
            f"<span style='color:{BAR_COLOURS[v]}'>■</span> {v}"
            for v in BAR_COLOURS))
        self.legend.setObjectName("histogramLegend")
        width = float(HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0])
        centres = HISTOGRAM_EDGES[:-1] + width / 2
        self.bars = {}
        for verdict in BAR_COLOURS:
            bar = pg.BarGraphItem(x=centres, height=np.zeros_like(centres), width=width * 0.9,
                                  brush=BAR_COLOURS[verdict], pen=None)
            self.plot.addItem(bar)
            self.bars[verdict] = bar
        self.tolerance_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#000000", width=1.5,
                                                                     style=pg.QtCore.Qt.DashLine),
                                              label="tolerance rtol",
                                              labelOpts={"position": 0.9, "color": "#000000"})
        self.plot.addItem(self.tolerance_line)
        self._centres = centres
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)

    def set_tolerance(self, rtol: float) -> None:
        self.tolerance_line.setValue(float(np.log10(rtol)) if rtol > 0 else LOG_FLOOR)

    def show_counts(self, store: DisplayResults | None) -> None:
        """Stacked bars: ok at the bottom, then kinks, unverifiable, mismatches."""
        base = np.zeros_like(self._centres)
        for verdict in BAR_COLOURS:
            counts = (np.zeros_like(self._centres) if store is None
                      else store.histogram[verdict].astype(float))
            self.bars[verdict].setOpts(y0=base.copy(), height=counts)
            base = base + counts
        below = 0 if store is None else store.below_floor_count
        self.plot.setTitle(f"{below:,} elements with gradient ≈ 0 (noise floor) not shown"
                           if below else "")

    def counts(self, verdict: str) -> np.ndarray:
        return np.asarray(self.bars[verdict].opts["height"])
