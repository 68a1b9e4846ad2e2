"""What the gradient-check view draws: the cyan frame on exactly one cell (bias strips too),
"not checked" and "gradient ≈ 0" unmistakable, the histogram's legend off the bars; and the
window around it: a custom layer does not squeeze the stack, Import sits above Quit, Save
starts beside the data."""
from __future__ import annotations

import numpy as np

from nnstudio.engine.gradcheck.results import TensorInfo
from nnstudio.gui.gradcheck.heatmap import HeatmapView, colour_cells, verdict_overlay
from nnstudio.gui.gradcheck.histogram import ErrorHistogram
from nnstudio.gui.gradcheck.store import TensorGrid

from .conftest import press


def grid(shape):
    return TensorGrid(TensorInfo("0.b", 0, "Dense(16)", "b", tuple(shape), int(np.prod(shape))))


def test_cyan_frame_covers_exactly_the_current_cell_of_a_bias_vector(qtbot):
    view = HeatmapView()
    qtbot.addWidget(view)
    view.show_grid(grid((16,)), "0.b")
    view.set_current(5)
    rect = view.marker_cell()
    assert 5 <= rect.left() < rect.right() <= 6
    assert 0 <= rect.top() < rect.bottom() <= 1


def test_cyan_frame_on_a_matrix_stays_inside_its_cell(qtbot):
    view = HeatmapView()
    qtbot.addWidget(view)
    view.show_grid(grid((2, 16)), "0.W")
    view.set_current(16 + 3)  # row 1, column 3
    rect = view.marker_cell()
    assert 3 <= rect.left() and rect.right() <= 4 and 1 <= rect.top() and rect.bottom() <= 2


def test_unchecked_and_zero_gradient_cells_look_different():
    g = grid((4,))
    g.verdict[:2] = 0  # ok
    g.below_floor[1] = True
    colours = colour_cells(g).astype(int)
    unchecked, below = colours[3, :3], colours[1, :3]
    assert np.abs(unchecked - below).sum() >= 3 * 80
    overlay = verdict_overlay(g)
    k = overlay.shape[1] // 4
    dot = overlay[:, 3 * k:4 * k, 3]
    assert dot.any() and not overlay[:, k:2 * k, 3].any()  # a dot only where unchecked


def test_histogram_legend_is_not_drawn_over_the_bars(qtbot):
    histogram = ErrorHistogram()
    qtbot.addWidget(histogram)
    assert histogram.plot.getPlotItem().legend is None
    assert "mismatch" in histogram.legend.text() and "kink" in histogram.legend.text()


def test_the_view_follows_the_check_onto_a_bias(qtbot, bn_studio):
    window, parts = bn_studio
    press(qtbot, parts, "mismatch")
    heatmap = parts.view.heatmap
    assert heatmap.marker_cell() is not None


def test_a_custom_layer_does_not_squeeze_the_stack(window):
    from nnstudio.engine.custom_layers import load_custom_layers
    from nnstudio.resources import resource_path

    stack, palette = window.builder.stack, window.palette
    width_before = palette.minimumWidth()
    for cls in load_custom_layers(str(resource_path("examples", "faulty_swish_layer.py"))):
        palette.add_layer_type(cls)
    assert palette.minimumWidth() <= width_before + 40
    label_width = stack.fontMetrics().horizontalAdvance("Dense(3)  (output)")
    assert stack.minimumWidth() >= label_width + 100


def test_import_layer_sits_above_quit(window):
    file_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.menu() is not None and a.menu().title() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert texts[-1] == "&Quit"
    assert texts.index("Import Layer from Python File…") < texts.index("&Quit")


def test_save_dialog_starts_beside_the_data(window, dialogs, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    csv = tmp_path / "lab.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 5},{'xy'[i % 2]}\n" for i in range(40)))
    window.session.dataset.source = str(csv)
    starts = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, *a, **k: starts.append(start) or ("", ""))
    window.files.save_as()
    assert starts == [str(tmp_path / "lab.nnproj")]


def test_cell_labels_do_not_run_into_each_other_on_a_narrow_matrix(qtbot):
    view = HeatmapView()
    qtbot.addWidget(view)
    view.resize(560, 300)
    view.show()
    qtbot.waitExposed(view)
    view.show_grid(grid((32, 16)), "1.<input>")
    qtbot.wait(50)
    ticks = view.plot.getAxis("bottom")._tickLevels[0]
    box = view.plot.getViewBox()
    (x0, x1), _ = box.viewRange()
    pixels_per_cell = box.width() / (x1 - x0)
    spacing = (ticks[1][0] - ticks[0][0]) * pixels_per_cell
    assert spacing >= 28
