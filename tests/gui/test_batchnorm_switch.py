"""The BatchNorm switch does what its label says: one setting, used by the validation curves,
saved with the project; recomputing population statistics asks, redraws and reports."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from nnstudio.project import load_project
from nnstudio.training import TrainConfig
from tests.gui.driving import train


def test_the_switch_is_stored_once_in_the_training_settings(window):
    window.batchnorm_panel.batch_radio.click()
    assert window.session.train_config.eval_bn_stats == "batch"
    assert window.session.bn_mode == "batch"
    assert window.session.modified


def test_validation_curves_follow_the_switch(qtbot, window):
    window.batchnorm_panel.batch_radio.click()
    train(qtbot, window, epochs=2)
    trainer = window.controller.trainer
    assert trainer.config.eval_bn_stats == "batch"
    _, val_losses = window.curves.curve_data("val_loss")
    assert val_losses[-1] == trainer.evaluate("val", bn_stats="batch")["loss"]
    assert val_losses[-1] != trainer.evaluate("val", bn_stats="running")["loss"]


def test_the_switch_is_saved_with_the_project(qtbot, window, make_window, tmp_path):
    window.batchnorm_panel.batch_radio.click()
    path = str(tmp_path / "bn.nnproj")
    assert window.files.write(path)
    assert load_project(path).train_config.predict_bn_stats == "batch"
    other = make_window(path)
    assert other.session.bn_mode == "batch"
    assert other.batchnorm_panel.batch_radio.isChecked()


def test_old_settings_without_the_field_default_to_running():
    config = TrainConfig.from_dict({"epochs": 5})
    assert config.eval_bn_stats == "running"
    assert TrainConfig(bn_stats="batch").with_eval_bn_stats("running").eval_bn_stats == "running"


def test_recompute_asks_first_and_cancel_changes_nothing(qtbot, window, dialogs):
    train(qtbot, window, epochs=2)
    layer = window.session.network.layers[1]
    before = layer.buffers["running_mean"].copy()
    dialogs.save_answer = QMessageBox.StandardButton.Cancel
    window.batchnorm_panel.recompute_button.click()
    assert dialogs.questions and "training rows" in dialogs.questions[-1]
    np.testing.assert_array_equal(before, layer.buffers["running_mean"])


def test_recompute_redraws_the_bars_and_reports_what_changed(qtbot, window, dialogs):
    train(qtbot, window, epochs=2)
    panel = window.batchnorm_panel
    layer = window.session.network.layers[1]
    panel.recompute_button.click()
    drawn = panel.bars[("mean", "running")][0].opts["height"]
    np.testing.assert_allclose(drawn, layer.buffers["running_mean"])
    report = panel.recompute_report.text()
    assert "running mean moved by up to" in report and "validation loss" in report
    assert "→" in report
    assert window.builder.notice.text() == ""  # no banner in the Network dock


def test_recompute_is_enabled_only_when_it_can_run(qtbot, window):
    panel = window.batchnorm_panel
    assert panel.recompute_button.isEnabled()
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    window.controller.pause()
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=5000)
    assert not panel.recompute_button.isEnabled()
    assert not panel.batch_radio.isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=5000):
        window.controller.stop()
    assert panel.recompute_button.isEnabled()
    window.editor.remove(1)  # the BatchNorm layer
    assert not panel.recompute_button.isEnabled()


def test_batch_bars_come_from_a_full_batch_and_say_so(qtbot, window):
    train(qtbot, window, epochs=1)
    panel = window.batchnorm_panel
    assert window.session.dataset.n_train % 32 != 0  # Iris leaves a remainder batch
    assert "epoch 1's last full training batch (32 rows)" in panel.stats_legend.text()


def test_with_every_layer_overridden_both_columns_agree_and_say_why(qtbot, window):
    panel = window.batchnorm_panel
    panel.layer_table.cellWidget(0, 1).setCurrentText("batch")
    train(qtbot, window, epochs=2)
    qtbot.waitUntil(lambda: panel.numbers.get("batch") is not None)
    panel.refresh_numbers()
    assert panel.numbers["running"]["loss"] == panel.numbers["batch"]["loss"]
    assert "agree" in panel.override_note.text()


def test_large_numbers_fit_the_table(window):
    from nnstudio.gui.number_text import format_number

    assert format_number(89402.8612) == "8.94e+04"
    assert format_number(0.19134) == "0.1913"


def test_picking_an_override_keeps_the_combo_and_the_choice(qtbot, window, monkeypatch):
    """The combo's own change rebuilds the network (editor → session → network_changed): the
    table must not replace the combo while it is still emitting, nor edit twice."""
    import shiboken6

    panel, edits = window.batchnorm_panel, []
    set_setting = window.editor.set_setting
    monkeypatch.setattr(window.editor, "set_setting",
                        lambda *args: edits.append(args) or set_setting(*args))
    combo = panel.layer_table.cellWidget(0, 1)
    assert combo.currentText() == "auto"
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # as a user: the next choice, "batch"
    qtbot.wait(10)  # deferred deletions run
    assert shiboken6.isValid(combo) and panel.layer_table.cellWidget(0, 1) is combo
    assert combo.currentText() == "batch"
    assert edits == [(1, "stats", "batch")]
    assert window.session.network.layers[1].stats == "batch"
    assert panel.layer_table.item(0, 3).text() == "batch"
    window.editor.undo()
    assert panel.layer_table.cellWidget(0, 1) is combo and combo.currentText() == "auto"
