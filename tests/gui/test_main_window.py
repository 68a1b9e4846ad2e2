"""The studio window end to end: opens ready to train, trains with live curves, pauses,
steps, stops, switches BatchNorm statistics, refuses edits while training, closes cleanly."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from nnstudio.gui.launch import check_path
from nnstudio.gui.training_presenter import REDRAW_INTERVAL_MS
from tests.gui.driving import train


def test_window_opens_on_iris_with_a_default_network_ready_to_train(window):
    assert window.session.dataset.source == "builtin:iris"
    assert window.session.network is not None
    assert window.session.network.output_dim == 3
    assert window.training_panel.start_button.isEnabled()
    assert not window.training_panel.stop_button.isEnabled()
    assert [window.views.tabText(i) for i in range(3)] == [
        "Curves", "BatchNorm", "Decision boundary"]  # views added by extensions follow
    assert not window.session.modified
    assert window.windowTitle().startswith("untitled")


def test_training_draws_points_in_every_curve(qtbot, window):
    train(qtbot, window, epochs=5)
    curves = window.curves
    steps, losses = curves.curve_data("batch_loss")
    batches_per_epoch = window.controller.trainer.batches_per_epoch
    assert len(steps) == 5 * batches_per_epoch
    np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))
    assert np.all(np.isfinite(losses))
    for name in ("train_loss", "val_loss", "train_metric", "val_metric"):
        epochs, values = curves.curve_data(name)
        np.testing.assert_array_equal(epochs, [1, 2, 3, 4, 5])
    history = window.controller.trainer.history
    np.testing.assert_allclose(curves.curve_data("val_loss")[1], [h["val_loss"] for h in history])
    assert window.training_panel.progress.value() == 1000
    assert window.training_panel.progress.format() == "Epoch 5 of 5, finished"
    assert window.session.modified


def test_curves_move_during_a_long_run_at_a_few_redraws_a_second(qtbot, window, monkeypatch):
    redraws = []
    original = window.curves.redraw
    monkeypatch.setattr(window.curves, "redraw",
                        lambda: (redraws.append(time.monotonic()), original())[1])
    window.session.update_train_config(epochs=100000)
    window.controller.start()
    qtbot.waitUntil(lambda: len(window.curves.curve_data("batch_loss")[0]) > 0, timeout=5000)
    first = len(window.curves.curve_data("batch_loss")[0])
    started = time.monotonic()
    qtbot.wait(2000)
    shown = len(window.curves.curve_data("batch_loss")[0])
    during = [t for t in redraws if t >= started]
    assert shown > first, "the curve grew while training ran"
    assert "ETA" in window.training_panel.progress.format()
    assert 1 <= len(during) <= 2.0 * 1000 / REDRAW_INTERVAL_MS + 1
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()
    # the last batches are drawn once the run ends (past the cap, up to a partial bucket)
    last_shown = window.curves.curve_data("batch_loss")[0][-1]
    bucket = window.curves.series["batch_loss"].bucket
    assert window.controller.trainer.step - 2 * bucket < last_shown <= window.controller.trainer.step


def test_train_again_continues_the_curves(qtbot, window):
    train(qtbot, window, epochs=2)
    train(qtbot, window, epochs=2)
    np.testing.assert_array_equal(window.curves.curve_data("train_loss")[0], [1, 2, 3, 4])


def test_pause_resume_and_stop(qtbot, window):
    controller, panel = window.controller, window.training_panel
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(controller.batches, timeout=5000):
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(controller.state_changed, timeout=3000):
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert controller.state == "paused" and panel.pause_button.text() == "Resume"
    qtbot.wait(100)
    step = controller.trainer.step
    qtbot.wait(300)
    assert controller.trainer.step == step, "no batch runs while paused"
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.trainer.step > step + 5, timeout=5000)
    started = time.monotonic()
    with qtbot.waitSignal(controller.finished, timeout=2000) as finished:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 1.0
    assert finished.args == ["stopped"]
    assert controller.state == "idle" and panel.start_button.isEnabled()
    assert not window.session.busy


def test_step_runs_exactly_one_batch(qtbot, window):
    controller = window.controller
    with qtbot.waitSignal(controller.batches, timeout=5000):
        qtbot.mouseClick(window.training_panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=3000)
    assert controller.trainer.step == 1
    with qtbot.waitSignal(controller.batches, timeout=5000):
        qtbot.mouseClick(window.training_panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=3000)
    assert controller.trainer.step == 2
    assert len(window.curves.curve_data("batch_loss")[0]) == 2
    with qtbot.waitSignal(controller.finished, timeout=2000):
        controller.stop()


def test_architecture_edits_are_refused_while_training(qtbot, window):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    layers = len(window.session.architecture)
    assert not window.editor.add("relu")
    assert not window.editor.undo() or True
    assert len(window.session.architecture) == layers
    assert "stop training first" in window.builder.notice.text()
    assert "stop training first" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()
    assert window.editor.add("relu")


def test_batchnorm_switch_changes_the_reported_validation_loss(qtbot, window):
    train(qtbot, window, epochs=3)
    panel = window.batchnorm_panel
    qtbot.waitUntil(lambda: panel.numbers.get("batch") is not None)
    running_loss = panel.reported_validation_loss()
    assert "running statistics" in panel.reported_label.text()
    panel.batch_radio.click()
    assert window.session.bn_mode == "batch"
    batch_loss = panel.reported_validation_loss()
    assert "batch statistics" in panel.reported_label.text()
    assert batch_loss != running_loss
    trainer = window.controller.trainer
    assert batch_loss == trainer.evaluate("val", bn_stats="batch")["loss"]
    assert running_loss == trainer.evaluate("val", bn_stats="running")["loss"]
    assert window.session_snapshot().bn_stats == "batch"


def test_batchnorm_panel_shows_running_and_batch_statistics(qtbot, window):
    train(qtbot, window, epochs=2)
    panel = window.batchnorm_panel
    assert panel.layer_table.rowCount() == 1
    assert panel.selected_layer_index() == 1
    bars = panel.bars[("mean", "batch")][0]
    assert len(bars.opts["height"]) == 16
    running = panel.bars[("var", "running")][0].opts["height"]
    np.testing.assert_allclose(running, window.session.network.layers[1].buffers["running_var"])


def test_recompute_population_statistics_changes_running_statistics(qtbot, window):
    train(qtbot, window, epochs=2)
    layer = window.session.network.layers[1]
    before = layer.buffers["running_mean"].copy()
    window.batchnorm_panel.recompute_button.click()
    assert not np.allclose(before, layer.buffers["running_mean"])


def test_per_layer_override_in_the_batchnorm_panel_is_an_undoable_edit(window):
    panel = window.batchnorm_panel
    combo = panel.layer_table.cellWidget(0, 1)
    combo.setCurrentText("batch")
    assert window.session.network.layers[1].stats == "batch"
    assert "stats" in window.session.undo_stack.undoText()
    window.editor.undo()
    assert window.session.network.layers[1].stats == "auto"


def test_decision_boundary_on_a_two_feature_dataset(qtbot, window):
    window.data_panel.load_builtin("two_spirals")
    view = window.boundary_view
    assert view.applicable and not view.plot.isHidden()
    window.views.setCurrentWidget(view)
    window.session.update_train_config(epochs=100000)
    before = view.updates
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    qtbot.waitUntil(lambda: view.updates >= before + 2, timeout=5000)  # from the worker
    assert window.controller.state == "running"
    assert view.image.image.shape[:2] == (90, 90)
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()


def test_divergence_is_reported_naming_the_layer_and_the_app_keeps_running(qtbot, window, dialogs):
    train(qtbot, window, epochs=3, optimizer="sgd", lr=1e20, momentum=0.0)
    assert dialogs.errors and dialogs.errors[0][0] == "Training diverged"
    assert "layer" in dialogs.errors[0][1]
    assert window.controller.state == "idle"
    assert window.training_panel.start_button.isEnabled()


def test_closing_during_training_stops_the_worker_within_a_second(qtbot, window):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    worker = window.controller.worker
    window.session.set_modified(False)
    started = time.monotonic()
    assert window.close()
    assert time.monotonic() - started < 1.0
    assert worker.is_finished()


def test_unsaved_changes_prompt_on_close(window, dialogs):
    window.editor.add("relu")
    assert window.session.modified
    dialogs.save_answer = dialogs.save_answer.__class__.Cancel
    assert not window.close()
    assert dialogs.questions and "untitled" in dialogs.questions[0]
    dialogs.save_answer = dialogs.save_answer.__class__.Discard
    assert window.close()


def test_app_path_checks():
    assert check_path(None) is None
    assert "no such file" in check_path("/nonexistent/x.csv")
