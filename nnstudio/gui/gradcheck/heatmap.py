"""Heatmap of log10 relative error per element of one tensor.

A weight matrix is drawn as itself (row = input unit, column = output unit), a vector as
one strip. Colour is the engine's relative error on a log scale; a cell not checked yet is
white with a small grey dot (the tree's "·"), a cell whose gradient is within the noise floor
(where a relative error means nothing) is a solid mid grey — two states that must never be
confused. Verdicts are drawn as shapes on an overlay, so they do not depend on colour: a
red cross in a red frame for a mismatch, an orange ring for a kink; a cyan frame inside the
cell marks the element checked last (or clicked).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from nnstudio.engine.gradcheck.verdict import CODE_KINK, CODE_MISMATCH, CODE_UNVERIFIABLE

from .status import CURRENT_CYAN, KINK_ORANGE, MISMATCH_RED, UNVERIFIABLE_PURPLE
from .store import LOG_CEILING, LOG_FLOOR, UNCHECKED_CODE, TensorGrid

COLOUR_MAP = pg.colormap.get("viridis")
UNCHECKED_RGBA = (255, 255, 255, 255)
UNCHECKED_DOT = "#9e9e9e"
BELOW_FLOOR_RGBA = (140, 140, 140, 255)
#: the cyan frame sits this far inside its cell (a share of the cell), never over a neighbour
MARKER_INSET = 0.08
#: tensors up to this many cells mark unchecked cells with a dot as well as white
MAX_DOTTED_CELLS = 4096
#: pixels per cell label at least (a two-digit index and a gap)
TICK_SPACING_PX = 28
#: the overlay has at most this many pixels; fewer per cell for big tensors
OVERLAY_BUDGET = 2_000_000
LEGEND = ("<span style='color:#c62828'><b>✗ red cross</b></span> = MISMATCH (wrong gradient)"
          " &nbsp; <span style='color:#a85d00'><b>○ orange ring</b></span> = kink (not a bug)"
          " &nbsp; <span style='color:#8e24aa'><b>○ purple ring</b></span> = unverifiable"
          " &nbsp; <span style='color:#0097a7'><b>▢ cyan frame</b></span> = last checked"
          " &nbsp; <span style='color:#9e9e9e'><b>·</b></span> white with a dot = not checked yet"
          " &nbsp; <span style='color:#8c8c8c'><b>■</b></span> solid grey = gradient ≈ 0"
          " (noise floor)")


class HeatmapView(QWidget):
    """Shows one :class:`TensorGrid`; ``element_clicked`` carries the clicked flat index."""

    element_clicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckHeatmap")
        self.grid: TensorGrid | None = None
        self.current: int | None = None
        self.title = QLabel("Select a tensor, or step the check.")
        self.title.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(200)
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = pg.ImageItem()
        self.overlay = pg.ImageItem()
        # a rectangle in data coordinates with a cosmetic pen: exactly one cell, on a
        # bias strip as on a matrix (a scatter symbol was offset and clipped there)
        self.marker = QGraphicsRectItem()
        pen = pg.mkPen(CURRENT_CYAN, width=3)
        pen.setCosmetic(True)
        self.marker.setPen(pen)
        self.marker.setZValue(10)
        self.marker.hide()
        self.outline = QGraphicsRectItem()
        outline_pen = pg.mkPen("#9e9e9e", width=1)
        outline_pen.setCosmetic(True)
        self.outline.setPen(outline_pen)
        self.outline.hide()
        for item in (self.image, self.overlay, self.outline, self.marker):
            self.plot.addItem(item)
        self.colour_bar = self._build_colour_bar()
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.plot.getViewBox().sigResized.connect(self._update_ticks)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        legend.setStyleSheet("font-size: 11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(legend)

    def _build_colour_bar(self) -> pg.PlotItem:
        bar = self.graphics.addPlot(row=0, col=1)
        bar.setMaximumWidth(95)
        bar.setMenuEnabled(False)
        bar.hideButtons()
        bar.setMouseEnabled(False, False)
        bar.hideAxis("bottom")
        bar.showAxis("right")
        bar.hideAxis("left")
        bar.setLabel("right", "log10 relative error")
        steps = np.linspace(0.0, 1.0, 256)
        gradient = COLOUR_MAP.map(steps, mode="byte").reshape(1, 256, 4)
        strip = pg.ImageItem(gradient)
        strip.setRect(QRectF(0, LOG_FLOOR, 1, LOG_CEILING - LOG_FLOOR))
        bar.addItem(strip)
        self.tolerance_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(MISMATCH_RED, width=2),
                                              label="rtol", labelOpts={"position": 0.5,
                                                                       "color": MISMATCH_RED})
        bar.addItem(self.tolerance_line)
        bar.setXRange(0, 1, padding=0)
        bar.setYRange(LOG_FLOOR, LOG_CEILING, padding=0)
        return bar

    # -- content --------------------------------------------------------------------------
    def set_tolerance(self, rtol: float) -> None:
        self.tolerance_line.setValue(float(np.log10(rtol)) if rtol > 0 else LOG_FLOOR)

    def show_grid(self, grid: TensorGrid | None, title: str = "") -> None:
        """Draw ``grid`` (None clears); the view is fitted when the tensor changes."""
        changed = grid is not self.grid
        self.grid = grid
        if changed:
            self.current = None
        self.title.setText(title or "Select a tensor, or step the check.")
        if grid is None:
            self.image.clear()
            self.overlay.clear()
            self.marker.hide()
            self.outline.hide()
            return
        self.refresh()
        if changed:
            self._fit_view(*grid.grid_shape)

    def _fit_view(self, rows: int, columns: int) -> None:
        # Square cells always: stretched cells distort the marks (a cross becomes a zigzag)
        # and a matrix should look like its shape; a vector is then a one-cell-high strip.
        self.plot.setAspectLocked(True, 1.0)
        self.plot.setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        if self.grid is not None and self.grid.info.is_input:  # a layer's input gradient: one row per sample of the batch
            left.setLabel("sample (row)" if rows > 1 else "")
            bottom.setLabel("feature (column)" if rows > 1 else "element")
        else:
            left.setLabel("input unit (row)" if rows > 1 else "")
            bottom.setLabel("output unit (column)" if rows > 1 else "element")
        self._update_ticks()

    def _update_ticks(self, *_args) -> None:
        """Cell labels spaced by the pixels the cells get: "0 2 4 6 8 10 12 14" ran into
        each other on a narrow matrix."""
        if self.grid is None:
            return
        rows, columns = self.grid.grid_shape
        box = self.plot.getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        width_px = box.width() * min(1.0, columns / max(x1 - x0, 1e-9))
        height_px = box.height() * min(1.0, rows / max(y1 - y0, 1e-9))
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        left.setTicks([cell_ticks(rows, max(2, int(height_px // TICK_SPACING_PX)))]
                      if rows > 1 else [[]])
        bottom.setTicks([cell_ticks(columns, max(2, int(width_px // TICK_SPACING_PX)))])

    def refresh(self) -> None:
        """Redraw the colours and marks of the current grid (after new results)."""
        grid = self.grid
        if grid is None:
            return
        rows, columns = grid.grid_shape
        rgba = colour_cells(grid).reshape(rows, columns, 4)
        # ImageItem indexes (x, y): transpose so that x is the column, y the row
        self.image.setImage(rgba.transpose(1, 0, 2), autoLevels=False)
        self.image.setRect(QRectF(0, 0, columns, rows))
        self.overlay.setImage(verdict_overlay(grid).transpose(1, 0, 2), autoLevels=False)
        self.overlay.setRect(QRectF(0, 0, columns, rows))
        self.outline.setRect(QRectF(0, 0, columns, rows))  # white unchecked cells need an edge
        self.outline.show()
        self._draw_marker()

    def set_current(self, flat_index: int | None) -> None:
        self.current = flat_index
        self._draw_marker()

    def _draw_marker(self) -> None:
        if self.grid is None or self.current is None:
            self.marker.hide()
            return
        row, column = divmod(self.current, self.grid.grid_shape[1])
        self.marker.setRect(QRectF(column + MARKER_INSET, row + MARKER_INSET,
                                   1 - 2 * MARKER_INSET, 1 - 2 * MARKER_INSET))
        self.marker.show()

    def marker_cell(self) -> QRectF | None:
        """The cyan frame's rectangle in cell coordinates (x = column), or None."""
        return self.marker.rect() if self.marker.isVisible() else None

    # -- clicks ---------------------------------------------------------------------------
    def cell_at(self, x: float, y: float) -> int | None:
        """Flat index of the cell at view coordinates (x = column, y = row), or None."""
        if self.grid is None:
            return None
        rows, columns = self.grid.grid_shape
        column, row = int(np.floor(x)), int(np.floor(y))
        if 0 <= row < rows and 0 <= column < columns:
            return row * columns + column
        return None

    def _on_scene_clicked(self, event) -> None:
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        flat = self.cell_at(point.x(), point.y())
        if flat is not None:
            self.element_clicked.emit(flat)


def cell_ticks(count: int, most: int = 9) -> list[tuple[float, str]]:
    """Integer labels at cell centres, every k-th cell so that at most ``most`` show."""
    step = max(1, int(np.ceil(count / most)))
    return [(index + 0.5, str(index)) for index in range(0, count, step)]


def colour_cells(grid: TensorGrid) -> np.ndarray:
    """RGBA (size, 4) uint8: the colour map for checked cells, greys for the rest."""
    scaled = (np.nan_to_num(grid.log_error, nan=LOG_FLOOR) - LOG_FLOOR) / (LOG_CEILING - LOG_FLOOR)
    rgba = COLOUR_MAP.map(np.clip(scaled, 0.0, 1.0), mode="byte").astype(np.uint8)
    rgba = rgba.reshape(-1, 4).copy()
    rgba[grid.verdict < 0] = UNCHECKED_RGBA
    rgba[grid.below_floor] = BELOW_FLOOR_RGBA
    return rgba


def verdict_overlay(grid: TensorGrid) -> np.ndarray:
    """RGBA (rows·k, columns·k, 4): a cross in a frame per mismatch, a ring per kink, a dot
    per cell not checked yet."""
    rows, columns = grid.grid_shape
    k = int(np.clip(np.sqrt(OVERLAY_BUDGET / max(rows * columns, 1)), 1, 11))
    overlay = np.zeros((rows * k, columns * k, 4), dtype=np.uint8)
    # the dots only where cells are big and few: on a large tensor white against grey
    # already tells them apart, and stamping thousands of dots per refresh costs the GUI
    dotted = k >= 4 and rows * columns <= MAX_DOTTED_CELLS
    unchecked = [(UNCHECKED_CODE, _dot_stamp(k, UNCHECKED_DOT))] if dotted else []
    for code, stamp in (*unchecked, (CODE_KINK, _ring_stamp(k, KINK_ORANGE)),
                        (CODE_UNVERIFIABLE, _ring_stamp(k, UNVERIFIABLE_PURPLE)),
                        (CODE_MISMATCH, _cross_stamp(k, MISMATCH_RED))):
        cells = np.flatnonzero(grid.verdict == code)
        if cells.size == 0:
            continue
        blocks = overlay.reshape(rows, k, columns, k, 4)
        cell_rows, cell_columns = np.divmod(cells, columns)
        blocks[cell_rows, :, cell_columns, :] = stamp
    return overlay


def _rgba(colour: str) -> np.ndarray:
    qcolour = pg.mkColor(colour)
    return np.array([qcolour.red(), qcolour.green(), qcolour.blue(), 255], dtype=np.uint8)


def _cross_stamp(k: int, colour: str) -> np.ndarray:
    """(k, k, 4): a filled cell when too small for a cross; else frame plus diagonals."""
    stamp = np.zeros((k, k, 4), dtype=np.uint8)
    ink = _rgba(colour)
    if k < 4:
        stamp[...] = ink
        return stamp
    # a thin frame and a two-pixel cross: marked unmistakably, yet the cell's colour shows
    stamp[0], stamp[-1], stamp[:, 0], stamp[:, -1] = ink, ink, ink, ink
    for offset in (0, 1):
        diagonal = np.arange(k)
        shifted = np.clip(diagonal + offset, 0, k - 1)
        stamp[diagonal, shifted] = ink
        stamp[diagonal, k - 1 - shifted] = ink
    return stamp


def _dot_stamp(k: int, colour: str) -> np.ndarray:
    """(k, k, 4): a small dot in the middle of the cell."""
    stamp = np.zeros((k, k, 4), dtype=np.uint8)
    centre = (k - 1) / 2
    yy, xx = np.mgrid[0:k, 0:k]
    stamp[np.hypot(yy - centre, xx - centre) <= max(0.8, k / 7)] = _rgba(colour)
    return stamp


def _ring_stamp(k: int, colour: str) -> np.ndarray:
    """(k, k, 4): a ring (a filled cell when too small to draw one)."""
    stamp = np.zeros((k, k, 4), dtype=np.uint8)
    ink = _rgba(colour)
    if k < 4:
        stamp[...] = ink
        return stamp
    centre = (k - 1) / 2
    yy, xx = np.mgrid[0:k, 0:k]
    distance = np.hypot(yy - centre, xx - centre)
    stamp[(distance <= k / 2) & (distance >= k / 2 - max(1.5, k / 5))] = ink
    return stamp
