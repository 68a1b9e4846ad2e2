"""Readable numbers in the window: the Train button says what it does, the progress bar says
where the trainer is, final numbers per split, curve axes fit the data."""
from __future__ import annotations

import numpy as np

from tests.gui.driving import train


def test_train_after_a_finished_run_says_continue_for_more_epochs(qtbot, window):
    panel = window.training_panel
    assert panel.start_button.text() == "Train"
    train(qtbot, window, epochs=3)
    assert panel.start_button.text() == "Continue for 3 more epochs"
    window.session.update_train_config(epochs=5)
    assert panel.start_button.text() == "Continue to epoch 5"
    window.controller.reset_weights()
    assert panel.start_button.text() == "Train"


def test_paused_progress_is_the_trainers_position_and_resume_has_the_play_icon(qtbot, window):
    panel = window.training_panel
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    qtbot.wait(300)
    window.controller.pause()
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=5000)
    qtbot.waitUntil(lambda: window.controller.worker.held, timeout=5000)
    qtbot.wait(700)  # bundles still on their way must not overwrite it
    trainer = window.controller.trainer
    text = panel.progress.format()
    assert text.endswith(", paused") and "ETA" not in text
    assert (f"Epoch {trainer.epoch + 1} of 100000 · batch {trainer.batch}/" in text
            or text == f"Epoch {trainer.epoch} of 100000, paused")
    assert panel.pause_button.text() == "Resume"
    assert panel.pause_button.icon().cacheKey() != panel.stop_button.icon().cacheKey()
    with qtbot.waitSignal(window.controller.finished, timeout=5000):
        window.controller.stop()
    assert "ETA" not in panel.progress.format() and panel.progress.format().endswith("stopped")


def test_final_numbers_for_train_validation_and_test(qtbot, window):
    train(qtbot, window, epochs=3)
    table = window.training_panel.results_table
    trainer = window.controller.trainer
    for row, split in enumerate(("train", "val", "test")):
        numbers = trainer.evaluate(split)
        assert table.item(row, 0).text() == f"{numbers['loss']:.4f}"
        assert table.item(row, 1).text() == f"{numbers['metric']:.4f}"
    assert table.horizontalHeaderItem(1).text() == "accuracy"


def test_regression_results_give_rmse_in_target_units(qtbot, window):
    window.data_panel.load_builtin("regression_surface")
    train(qtbot, window, epochs=2)
    table = window.training_panel.results_table
    assert table.horizontalHeaderItem(2).text() == "RMSE"
    note = window.training_panel.results_note.text()
    assert "RMSE is in the units of 'y'" in note and "standardized units" in note
    rmse = window.controller.trainer.evaluate("val")["rmse"]
    assert table.item(1, 2).text() == f"{rmse:.4f}"


def test_after_a_run_the_x_axis_ends_at_the_data(qtbot, window):
    train(qtbot, window, epochs=7)
    low, high = window.curves.epoch_plot.getViewBox().viewRange()[0]
    assert 7 <= high <= 7 * 1.05
    steps = window.controller.trainer.step
    assert window.curves.batch_plot.getViewBox().viewRange()[0][1] <= steps * 1.05


def test_metric_plot_title_follows_the_task_before_training(window):
    window.data_panel.load_builtin("regression_surface")
    assert window.curves.metric_plot.titleLabel.text == "R² per epoch"


def test_very_negative_r2_is_clipped_with_the_minimum_named(window):
    curves = window.curves
    curves.set_metric_name("r2")
    curves.add_epochs([1, 2, 3], [1.0, 0.5, 0.2], [1.0, 0.5, 0.2], [-28.0, 0.3, 0.8],
                      [-20.0, 0.2, 0.7])
    curves.redraw()
    low, high = curves.metric_plot.getViewBox().viewRange()[1]
    assert low > -1.0 and high >= 0.8
    assert "lowest -28" in curves.metric_plot.titleLabel.text
    assert np.min(curves.curve_data("train_metric")[1]) == -28.0  # the data are kept
