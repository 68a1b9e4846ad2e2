"""Teaching features: the guided BatchNorm/Dropout example, custom layers from a Python
file (with a warning, and line numbers on errors), and the exported report."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox

from nnstudio.gui.gradcheck.example import EXAMPLE_GUIDE, EXAMPLE_PROJECT, SCENARIOS
from nnstudio.gui.gradcheck.report_export import export_report
from nnstudio.resources import RESOURCES_DIR

from .conftest import adopt, make_dataset, press


def menu_action(window, menu_title: str, text: str):
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == menu_title:
            for entry in action.menu().actions():
                if entry.text().replace("&", "").startswith(text):
                    return entry
    raise AssertionError(f"no {text!r} in menu {menu_title!r}")


def run_scenario(qtbot, parts, name: str) -> None:
    with qtbot.waitSignal(parts.controller.finished, timeout=20000):
        parts.view.guide.anchorClicked.emit(QUrl(f"nnstudio:scenario/{name}"))


def test_guided_example_answers_the_batchnorm_and_dropout_question(qtbot, studio):
    window, parts = studio
    menu_action(window, "Check", "Guided Example").trigger()
    network = window.session.network
    assert [layer.type_name for layer in network.layers][:4] == ["dense", "batchnorm", "relu",
                                                                "dropout"]
    view = parts.view
    assert view.tabs.currentWidget() is view.guide
    assert "fixed mask" in view.guide.toPlainText()

    run_scenario(qtbot, parts, "fixed")        # fixed dropout mask, batch statistics
    assert view.summary.kind == "pass"
    run_scenario(qtbot, parts, "redraw")       # mask re-drawn per evaluation: fails clearly
    assert view.summary.kind == "fail" and "MISMATCH" in view.summary.text()
    assert parts.controller.checker.config.dropout == "redraw"
    progress = parts.controller.last_progress
    assert all(s.mismatch > 0 for s in progress.tensor_summaries if s.name.startswith("0."))
    run_scenario(qtbot, parts, "running")      # BatchNorm on running statistics
    assert view.summary.kind == "pass"
    assert parts.controller.checker.config.bn_stats == "running"


def test_every_scenario_link_in_the_guide_exists_and_matches_its_promise():
    links = re.findall(r"nnstudio:scenario/(\w+)", EXAMPLE_GUIDE.read_text(encoding="utf-8"))
    assert set(links) == set(SCENARIOS)
    assert EXAMPLE_PROJECT.exists()
    assert SCENARIOS["redraw"].expect_pass is False
    assert all(SCENARIOS[name].expect_pass for name in ("fixed", "running", "off"))


def test_import_layer_warns_that_it_runs_code_and_can_be_declined(studio, dialogs):
    window, _parts = studio
    dialogs.open_paths = [str(RESOURCES_DIR / "examples" / "prelu_layer.py")]
    dialogs.save_answer = QMessageBox.StandardButton.No
    menu_action(window, "File", "Import Layer from Python File").trigger()
    assert dialogs.questions and "runs the Python code" in dialogs.questions[0]
    assert "prelu" not in window.palette.type_names()


def test_imported_faulty_layer_joins_the_palette_and_the_check_finds_it(
        qtbot, studio, dialogs, forget_custom_layers):
    window, parts = studio
    dialogs.open_paths = [str(RESOURCES_DIR / "examples" / "faulty_swish_layer.py")]
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    menu_action(window, "File", "Import Layer from Python File").trigger()
    assert not dialogs.errors
    assert "swish_faulty" in window.palette.type_names()
    adopt(window, "dense:6,swish_faulty,dense:5,tanh", make_dataset(4, 3))
    press(qtbot, parts, "end")
    progress = parts.controller.last_progress
    flagged = {s.name for s in progress.tensor_summaries if s.mismatch}
    # before the broken layer (and its own input gradient); after it all is ok
    assert flagged == {"0.W", "0.b", "0.<input>", "1.<input>"}
    assert [(c.layer_index, c.part) for c in progress.culprits] == [(1, "input")]
    assert "the error enters here" in parts.view.tree.role_text(1)
    assert "affected" in parts.view.tree.role_text(0)
    assert window.layer_stack.layer_status(1) == "culprit"
    assert window.layer_stack.layer_status(0) == "affected"
    assert "The error enters at layer 1 Swish (faulty)" in parts.view.summary.text()


def test_errors_in_a_layer_file_are_shown_with_their_line_number(
        studio, dialogs, tmp_path, forget_custom_layers):
    window, _parts = studio
    broken = tmp_path / "broken_layer.py"
    broken.write_text("from nnstudio.engine import Layer\n\nclass Broken(Layer)\n"
                      "    type_name = 'broken'\n", encoding="utf-8")
    dialogs.open_paths = [str(broken)]
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    menu_action(window, "File", "Import Layer from Python File").trigger()
    assert dialogs.errors, "the error was not shown"
    title, text = dialogs.errors[-1]
    assert "line 3" in text and "broken_layer.py" in text
    assert "broken" not in window.palette.type_names()


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_export_report_writes_the_text_and_pictures_of_the_views(qtbot, bn_studio, tmp_path,
                                                                 suffix):
    window, parts = bn_studio
    parts.injector.inject(1, "no_mean_path")
    press(qtbot, parts, "end")
    path = export_report(parts.view, tmp_path / f"report{suffix}")
    text = path.read_text(encoding="utf-8")
    assert "MISMATCH" in text and "0.W" in text and "no_mean_path" in text
    pictures = sorted((tmp_path / "report_images").glob("*.png"))
    names = {p.name for p in pictures}
    assert {"tree.png", "histogram.png", "heatmap_0.W.png", "heatmap_0.b.png"} <= names
    assert all(p.stat().st_size > 1000 for p in pictures)
    for picture in names:
        assert f"report_images/{picture}" in text


def test_export_button_asks_for_a_file_and_reports_where_it_went(qtbot, bn_studio, dialogs,
                                                                 tmp_path):
    window, parts = bn_studio
    press(qtbot, parts, "element")
    dialogs.save_paths = [str(tmp_path / "check.md")]
    parts.view.controls.export_button.click()
    assert (tmp_path / "check.md").exists()
    assert "check.md" in window.statusBar().currentMessage()


CRASHING = '''import numpy as np
from nnstudio.engine import Layer


class Crash(Layer):
    type_name = "crash_in_backward"

    def forward(self, x, ctx):
        return x * 2.0

    def backward(self, dout):
        return dout[:, :, 0]
'''


def test_an_error_in_a_custom_layer_is_a_dialog_naming_file_and_line(
        qtbot, studio, dialogs, tmp_path, forget_custom_layers):
    window, parts = studio
    path = tmp_path / "crash_layer.py"
    path.write_text(CRASHING, encoding="utf-8")
    dialogs.open_paths = [str(path)]
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    menu_action(window, "File", "Import Layer from Python File").trigger()
    adopt(window, "dense:6,crash_in_backward", make_dataset(4, 3))
    qtbot.mouseClick(parts.view.controls.buttons["end"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=10000)
    title, text = dialogs.errors[-1]
    assert title == "Error in your code"
    assert f"error in {path}:12: IndexError" in text
    assert parts.controller.state == "idle" and not window.session.busy
