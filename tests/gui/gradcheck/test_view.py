"""The gradient-check view driven through its real buttons: faults are found where they
land, stepping is one element at a time, kinks are told apart, the views agree."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from nnstudio.engine.gradcheck import MISMATCH
from nnstudio.gui.gradcheck.heatmap import verdict_overlay
from nnstudio.gui.gradcheck.status import MISMATCH_RED, status_text
from nnstudio.engine.gradcheck.verdict import VERDICT_CODES

from .conftest import adopt, make_dataset, press

BEFORE_BATCHNORM = {"0.W", "0.b"}  # a wrong dx in BatchNorm lands on the layer feeding it


def red_pixels(widget) -> int:
    """Pixels of the mismatch red in a rendering of ``widget``."""
    image = widget.grab().toImage()
    target = QColor(MISMATCH_RED)
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            colour = image.pixelColor(x, y)
            if (abs(colour.red() - target.red()) < 40 and colour.green() < 60
                    and colour.blue() < 60):
                count += 1
    return count


def test_batchnorm_fault_run_to_next_mismatch_marks_tree_and_heatmap(qtbot, bn_studio):
    window, parts = bn_studio
    view = parts.view
    assert parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "mismatch")

    first = view.store.results[-1]
    assert first.verdict == MISMATCH and first.tensor in BEFORE_BATCHNORM
    assert view.tree.status_of(first.tensor) == status_text(MISMATCH)
    assert view.shown_tensor == first.tensor
    grid = view.heatmap.grid
    assert grid.info.name == first.tensor
    assert grid.verdict[first.flat_index] == VERDICT_CODES[MISMATCH]
    assert view.heatmap.current == first.flat_index
    assert verdict_overlay(grid)[..., 3].any()  # the cross is drawn
    assert red_pixels(view.heatmap.graphics) > 20
    assert view.summary.kind == "fail" and "MISMATCH" in view.summary.text()

    press(qtbot, parts, "end")
    flagged = {s.name for s in view.controller.last_progress.tensor_summaries if s.mismatch}
    # the Dense before it, and the input gradients of both: the wrong dx starts at layer 1
    wrong = BEFORE_BATCHNORM | {"0.<input>", "1.<input>"}
    assert flagged == wrong
    for name in view.tree.tensor_names():
        expected = "✗ MISMATCH" if name in wrong else "✓ ok"
        assert view.tree.status_of(name) == expected, name
    assert window.layer_stack.layer_status(0) == "affected"
    assert window.layer_stack.layer_status(1) == "culprit"
    assert "the error enters here" in view.tree.role_text(1)
    assert view.controller.shown_phase.name == "fit"  # the phase that found it is shown
    # after the run the heatmap shows where the wrong gradient starts: the culprit's dx
    assert view.shown_tensor == "1.<input>"


def test_switching_the_fault_off_restores_the_layer_and_the_check_passes(qtbot, bn_studio):
    window, parts = bn_studio
    parts.injector.fill_menu(parts.fault_menu)
    batchnorm_menu = next(a.menu() for a in parts.fault_menu.actions()
                          if a.menu() and "BatchNorm" in a.text())
    entries = {a.text().split(" — ")[0]: a for a in batchnorm_menu.actions() if a.text()}
    # every catalog fault is offered with its explanation
    for fault, explanation in type(window.session.network.layers[1]).FAULTS.items():
        assert explanation in entries[fault].text()
    entries["missing_1_over_n"].trigger()
    assert window.session.network.layers[1].fault == "missing_1_over_n"
    press(qtbot, parts, "end")
    assert parts.view.summary.kind == "fail"

    parts.injector.fill_menu(parts.fault_menu)
    batchnorm_menu = next(a.menu() for a in parts.fault_menu.actions()
                          if a.menu() and "BatchNorm" in a.text())
    next(a for a in batchnorm_menu.actions() if a.text().startswith("Correct")).trigger()
    assert window.session.network.layers[1].fault is None
    assert parts.view.store is None  # the old results were dropped
    press(qtbot, parts, "end")
    assert parts.view.summary.kind == "pass"


def test_step_element_grows_the_table_by_one(qtbot, bn_studio):
    _window, parts = bn_studio
    view = parts.view
    for expected in (1, 2, 3):
        press(qtbot, parts, "element")
        assert view.table.model.rowCount() == expected
        assert len(view.store.results) == expected
    assert view.heatmap.current == view.store.results[-1].flat_index
    assert view.tree.currentItem().text(3).startswith("3 / ")


def test_step_tensor_and_layer_stop_at_their_boundaries(qtbot, bn_studio):
    _window, parts = bn_studio
    press(qtbot, parts, "tensor")
    progress = parts.controller.last_progress
    assert progress.summary("0.W").complete and progress.summary("0.b").checked == 0
    press(qtbot, parts, "layer")
    progress = parts.controller.last_progress
    assert progress.summary("0.b").complete and progress.summary("1.gamma").checked == 0


def test_relu_kink_shows_as_kink_not_mismatch(qtbot, studio):
    window, parts = studio
    dataset = make_dataset(2, 2)
    network = adopt(window, "dense:8,relu,dense:8,tanh", dataset)
    x = dataset.x_train[0]
    weights, bias = network.layers[0].params["W"], network.layers[0].params["b"]
    bias[0] = -(x @ weights[:, 0])  # unit 0 of the first row sits on the ReLU's corner
    press(qtbot, parts, "end")
    view = parts.view
    kinks = [r for r in view.store.results if r.verdict == "kink"]
    assert kinks and not any(r.verdict == MISMATCH for r in view.store.results)
    assert view.tree.status_of(kinks[0].tensor) == "≈ kink"
    assert view.summary.kind == "pass" and "kink" in view.summary.text()
    view.table.set_filter_mode("kink")
    assert view.table.shown_results() == kinks
    view._on_table_activated(kinks[0])
    assert "Kink detail" in view.detail.text() and "ReLU" in view.detail.text()


def test_clicking_a_heatmap_cell_shows_that_elements_numbers(qtbot, bn_studio):
    _window, parts = bn_studio
    view = parts.view
    press(qtbot, parts, "tensor")
    view.show_tensor("0.W")
    qtbot.wait(50)
    rows, columns = view.heatmap.grid.grid_shape
    target_row, target_column = 2, 3
    scene_point = view.heatmap.plot.getViewBox().mapViewToScene(
        QPointF(target_column + 0.5, target_row + 0.5))
    widget_point = view.heatmap.graphics.mapFromScene(scene_point)
    qtbot.mouseClick(view.heatmap.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget_point)
    flat = target_row * columns + target_column
    result = view.store.result_at("0.W", flat)
    assert view.heatmap.current == flat
    assert view.detail.result == result
    text = view.detail.text()
    for label in ("Analytic", "Numeric", "f(θ + h)", "f(θ − h)", "Relative error"):
        assert label in text
    assert f"{result.analytic: .10g}".strip() in text


def test_table_filters_to_mismatches_and_sorts_by_error(qtbot, bn_studio):
    _window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "end")
    table = parts.view.table
    total = table.model.rowCount()
    assert total == len(parts.view.store.results)
    table.set_filter_mode("mismatch")
    shown = table.shown_results()
    assert shown and all(r.verdict == MISMATCH for r in shown)
    assert len(shown) == sum(s.mismatch for s in parts.controller.last_progress.tensor_summaries)
    table.set_filter_mode("all")
    table.view.sortByColumn(7, Qt.SortOrder.DescendingOrder)
    errors = [r.rel_error for r in table.shown_results()]
    assert errors == sorted(errors, reverse=True) and len(errors) == total


def test_histogram_counts_every_element_above_the_noise_floor(qtbot, bn_studio):
    _window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "end")
    view, store = parts.view, parts.view.store
    counted = sum(view.histogram.counts(v).sum() for v in ("ok", "kink", "mismatch"))
    assert counted + store.below_floor_count == len(store.results)
    assert view.histogram.counts("mismatch").sum() > 0


def test_screen_first_skips_the_tensors_the_screen_clears(qtbot, bn_studio):
    window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    parts.view.settings.screen_first.setChecked(True)
    press(qtbot, parts, "end")
    progress = parts.controller.last_progress
    assert progress.screen is not None
    checked = {s.name for s in progress.tensor_summaries if s.checked}
    assert BEFORE_BATCHNORM <= checked and "3.W" not in checked
    assert parts.view.tree._tensor_items["3.W"].text(3) == "skipped"


def test_reset_and_network_changes_clear_the_results_and_badges(qtbot, bn_studio):
    window, parts = bn_studio
    press(qtbot, parts, "end")
    assert window.layer_stack.layer_status(0) == "ok"
    qtbot.mouseClick(parts.view.controls.reset_button, Qt.MouseButton.LeftButton)
    assert parts.view.store is None and parts.view.table.model.rowCount() == 0
    assert window.layer_stack.layer_status(0) is None
    assert parts.view.tree.tensor_names() == []
    press(qtbot, parts, "element")
    window.session.reset_weights()
    assert parts.view.store is None and parts.view.summary.kind == "idle"


def test_a_fault_survives_a_weight_reset(bn_studio):
    window, parts = bn_studio
    parts.injector.inject(1, "no_variance_path")
    window.session.reset_weights()
    assert window.session.network.layers[1].fault == "no_variance_path"


def test_bad_settings_are_named_and_nothing_runs(qtbot, bn_studio):
    _window, parts = bn_studio
    parts.view.settings.rtol.setText("abc")
    qtbot.mouseClick(parts.view.controls.buttons["end"], Qt.MouseButton.LeftButton)
    assert "rtol" in parts.view.summary.text()
    assert parts.controller.state == "idle" and parts.view.store is None
    parts.view.settings.h.setText("0.5")
    parts.view.settings.rtol.setText("1e-5")
    qtbot.mouseClick(parts.view.controls.buttons["end"], Qt.MouseButton.LeftButton)
    assert "h" in parts.view.summary.text() and parts.controller.state == "idle"


def test_settings_follow_the_session_batchnorm_switch(bn_studio):
    window, parts = bn_studio
    assert parts.view.settings.check_settings().config.bn_stats == "batch"
    window.session.set_bn_mode("running")
    assert parts.view.settings.check_settings().config.bn_stats == "running"


def test_regularization_and_sampling_reach_the_engine(qtbot, bn_studio):
    window, parts = bn_studio
    window.session.update_train_config(l1=1e-3, l2=1e-2)
    settings = parts.view.settings
    settings.regularization.setChecked(True)
    settings.sampling.setCurrentIndex(settings.sampling.findData("sampled"))
    settings.samples.setValue(3)
    press(qtbot, parts, "end")
    config = parts.controller.checker.config
    assert config.include_regularization and config.regularization.l1 == 1e-3
    assert all(info.planned == min(3, info.size) for info in parts.controller.checker.tensors)
    assert parts.view.summary.kind == "pass"
    assert np.isfinite([r.f_plus for r in parts.view.store.results]).all()


def test_a_check_is_refused_while_training_runs_and_edits_while_checking(qtbot, bn_studio,
                                                                          dialogs):
    window, parts = bn_studio
    window.session.set_busy("training")
    qtbot.mouseClick(parts.view.controls.buttons["end"], Qt.MouseButton.LeftButton)
    assert parts.controller.state == "idle"
    assert dialogs.errors and "training runs" in dialogs.errors[-1][1]
    window.session.set_busy(None)
    window.session.set_busy("a gradient check runs")  # as during a check
    assert not parts.injector.inject(1, "no_mean_path")
    assert window.session.network.layers[1].fault is None
    window.session.set_busy(None)


def test_a_fault_whose_code_does_not_run_passes_and_says_why(qtbot, bn_studio):
    window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    parts.view.settings.set_phases("predict")  # running statistics: no batch mean to differentiate
    press(qtbot, parts, "end")
    assert parts.view.summary.kind == "pass"
    assert "A fault is injected, yet nothing disagrees" in parts.view.summary.text() or \
        "population statistics" in parts.view.summary.text()


def test_by_default_both_phases_run_so_a_batchnorm_fault_is_found_on_running_statistics(
        qtbot, bn_studio):
    window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    window.session.set_bn_mode("running")   # what the window predicts with
    press(qtbot, parts, "end")
    assert [phase.name for phase in parts.controller.phases] == ["fit", "predict"]
    fit, predict = (phase.progress for phase in parts.controller.phases)
    assert not fit.passed and predict.passed and fit.finished and predict.finished
    assert parts.view.summary.kind == "fail" and "[fit]" in parts.view.summary.text()
    texts = parts.view.phase_bar.phase_texts()
    assert "✗ FAIL" in texts[0] and "✓ PASS" in texts[1]
    assert parts.view.phase_bar.isVisibleTo(parts.view)
    # picking the other phase shows its results
    parts.view.phase_bar.picker.activated.emit(1)
    assert parts.controller.shown_phase.name == "predict"
    assert parts.view.summary.kind == "pass"
    assert parts.view.table.model.rowCount() == predict.checked
