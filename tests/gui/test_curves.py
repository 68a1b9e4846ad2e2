"""Curves: preallocated buffers that double, set once, points found after updates."""
from __future__ import annotations

import numpy as np

from nnstudio.gui.curves import CurvesWidget
from nnstudio.gui.series import EnvelopeSeries, GrowingSeries, MovingAverage


def test_series_grows_by_doubling_and_keeps_values():
    series = GrowingSeries(capacity=4)
    series.extend([0, 1, 2], [5, 6, 7])
    series.extend(np.arange(3, 10), np.arange(8, 15))
    assert series.capacity == 16
    x, y = series.data()
    np.testing.assert_array_equal(x, np.arange(10))
    np.testing.assert_array_equal(y, np.arange(5, 15))


def test_moving_average_matches_a_trailing_mean_when_fed_in_pieces():
    values = np.random.default_rng(0).standard_normal(50)
    average = MovingAverage()
    average.rebuild(np.arange(0), np.arange(0), 5)
    for piece in np.array_split(np.arange(50), 7):
        average.extend(piece, values[piece])
    expected = [values[max(0, i - 4):i + 1].mean() for i in range(50)]
    np.testing.assert_allclose(average.smoothed.data()[1], expected)


def test_envelope_series_stays_under_its_cap_and_keeps_the_peaks():
    series = EnvelopeSeries(cap=1000)
    y = np.sin(np.arange(100000) / 50.0)
    y[54321] = 9.0
    for piece in np.array_split(np.arange(100000), 37):
        series.extend(piece, y[piece])
    x_stored, y_stored = series.data()
    assert series.count <= 1000 and series.bucket > 1
    assert np.all(np.diff(x_stored) >= 0)
    assert y_stored.max() == 9.0 and y_stored.min() == y[:series.bucket * (len(x_stored) // 2)].min()


def test_moving_average_keeps_only_a_tail_of_inputs():
    average = MovingAverage()
    average.rebuild(np.arange(0), np.arange(0), 3)
    average.extend([0, 1, 2, 3], [3.0, 6.0, 9.0, 12.0])
    assert len(average._tail) == 2
    np.testing.assert_allclose(average.smoothed.data()[1], [3.0, 4.5, 6.0, 9.0])


def test_curves_are_created_once_and_show_new_points(qtbot, tmp_path):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    curves_before = dict(widget.curves)
    widget.add_batches([1, 2, 3], [1.0, 0.8, 0.7])
    widget.add_epochs([1], [0.8], [0.9], [0.5], [None])
    widget.redraw()
    assert widget.curves == curves_before
    np.testing.assert_array_equal(widget.curve_data("batch_loss")[1], [1.0, 0.8, 0.7])
    assert len(widget.curve_data("val_metric")[0]) == 0, "missing values are left out"
    widget.smoothing_spin.setValue(2)
    np.testing.assert_allclose(widget.curve_data("batch_smoothed")[1], [1.0, 0.9, 0.75])
    widget.log_check.setChecked(True)
    assert widget.batch_plot.ctrl.logYCheck.isChecked()
    path = tmp_path / "curves.png"
    widget.resize(600, 500)
    widget.export_png(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_axis_labels_decades_first_then_2_and_5_then_the_rest(qtbot):
    from nnstudio.gui.curves import LogFriendlyAxis

    axis = LogFriendlyAxis(orientation="left")
    levels = axis.logTickValues(np.log10(0.03), np.log10(2.5), 200, [])
    values = [sorted(np.round(10 ** np.asarray(v), 6)) for _, v in levels]
    assert values[0] == [0.1, 1.0]
    assert values[1] == [0.05, 0.2, 0.5, 2.0]
    assert 0.3 in values[2] and 0.04 in values[2] and 0.1 not in values[2]
