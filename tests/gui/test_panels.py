"""Smaller behaviours: Edit menu names, shortcuts, training settings validation, reset,
regression curves, the command-line entry."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence


def test_edit_menu_names_the_action_and_uses_the_usual_shortcuts(window):
    undo, redo = window.actions_by_name["undo"], window.actions_by_name["redo"]
    assert undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert redo.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert not undo.isEnabled()
    window.editor.add("dense")
    assert undo.isEnabled() and undo.text() == "&Undo Add Dense(16)"
    undo.trigger()
    assert redo.text() == "&Redo Add Dense(16)"
    redo.trigger()
    assert [r.label for r in window.builder.stack.rows()][-2] == "Dense(16)"


def test_training_settings_are_validated_as_typed(qtbot, window):
    panel = window.training_panel
    lr = panel.fields["lr"]
    lr.selectAll()
    qtbot.keyClicks(lr, "-1")
    assert lr.property("invalid") is True
    assert "Learning rate" in panel.error_label.text()
    assert window.session.train_config.lr == 0.01
    lr.selectAll()
    qtbot.keyClicks(lr, "0.05")
    assert window.session.train_config.lr == 0.05 and panel.error_label.text() == ""
    panel.fields["optimizer"].setCurrentIndex(panel.fields["optimizer"].findData("sgd"))
    assert window.session.train_config.optimizer == "sgd"
    assert panel.fields["momentum"].isEnabled()


def test_settings_are_locked_while_training(qtbot, window):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        qtbot.mouseClick(window.training_panel.start_button, Qt.MouseButton.LeftButton)
    assert not window.training_panel.fields["lr"].isEnabled()
    assert not window.training_panel.reset_button.isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()
    assert window.training_panel.fields["lr"].isEnabled()


def test_reset_weights_starts_afresh_and_clears_the_curves(qtbot, window):
    initial = window.session.network.layers[0].params["W"].copy()
    window.session.update_train_config(epochs=2)
    with qtbot.waitSignal(window.controller.finished, timeout=20000):
        window.controller.start()
    assert not np.array_equal(initial, window.session.network.layers[0].params["W"])
    qtbot.mouseClick(window.training_panel.reset_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(initial, window.session.network.layers[0].params["W"])
    assert len(window.curves.curve_data("train_loss")[0]) == 0
    assert window.controller.trainer is None


def test_regression_curves_show_r2(qtbot, window):
    window.data_panel.load_builtin("regression_surface")
    window.session.update_train_config(epochs=2)
    with qtbot.waitSignal(window.controller.finished, timeout=20000):
        window.controller.start()
    assert window.curves.metric_plot.titleLabel.text == "R² per epoch"
    assert len(window.curves.curve_data("val_metric")[0]) == 2
    assert window.boundary_view.updates > 0


def test_nnstudio_gui_with_a_missing_file_opens_the_default_session(tmp_path):
    # a user started from a launcher sees no terminal: the window opens, the dialog names it
    shot = tmp_path / "window.png"
    result = subprocess.run([sys.executable, "-m", "nnstudio", "gui", "/nonexistent/lab.csv",
                             "--screenshot", str(shot)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no such file: /nonexistent/lab.csv; opening the default session" in result.stderr
    assert shot.stat().st_size > 10000


def test_extension_points_for_other_views(window):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QScrollArea

    narrow, wide = QLabel("narrow view"), QLabel("x" * 400)
    index = window.add_view("Narrow", narrow)
    assert window.views.widget(index) is narrow and window.views.tabText(index) == "Narrow"
    wide_index = window.add_view("Wide", wide)
    assert isinstance(window.views.widget(wide_index), QScrollArea)
    action = QAction("Import layer from Python file…", window)
    window.add_menu_action("Tools", action)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and "Tools" in titles
    snapshot = window.session_snapshot()
    assert snapshot.network is not window.session.network
    assert snapshot.dataset is window.session.dataset and snapshot.bn_stats == "running"
    np.testing.assert_array_equal(snapshot.network.layers[0].params["W"],
                                  window.session.network.layers[0].params["W"])
