"""Check ▸ Check Own Model…: a hand-written model, loaded after the warning, checked on the
current dataset in a worker, its tensors shown in the gradient-check view."""
from __future__ import annotations

import shutil

from PySide6.QtWidgets import QDialog, QMessageBox

from nnstudio.gui.own_model import ACTION_TEXT, OwnModelDialog
from nnstudio.resources import resource_path


def model_file(tmp_path, old=None, new=None):
    root = tmp_path / "cs231n"
    shutil.copytree(resource_path("examples", "cs231n"), root)
    path = root / "classifiers" / "fc_net.py"
    if old is not None:
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path


def menu_entry(window, text):
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "Check":
            for entry in action.menu().actions():
                if entry.text() == text:
                    return entry
    raise AssertionError(f"no {text!r} in the Check menu")


def run_from_menu(qtbot, window, monkeypatch, path, factory="make_model", kwargs="{}"):
    """Fill the real dialog's fields and accept it, as a person would."""
    def fill_and_accept(dialog):
        dialog.path.setText(str(path))
        dialog.factory.setText(factory)
        dialog.kwargs.setText(kwargs)
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(OwnModelDialog, "exec", fill_and_accept)
    parts = window.own_model
    with qtbot.waitSignal(parts.controller.finished, timeout=30000):
        menu_entry(window, ACTION_TEXT).trigger()
    return parts


def test_a_correct_model_is_checked_and_its_tensors_shown(qtbot, window, dialogs, monkeypatch, tmp_path):
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    parts = run_from_menu(qtbot, window, monkeypatch, model_file(tmp_path))
    assert "runs the Python code" in dialogs.questions[-1]
    assert window.views.currentIndex() == parts.tab_index
    progress = parts.controller.last_progress
    assert progress.finished and progress.passed
    assert parts.view.tree.tensor_names()[:4] == ["W1", "b1", "gamma1", "beta1"]
    assert parts.view.shown_tensor is not None and parts.view.table.model.rowCount() > 0
    assert window.gradcheck.controller.checker is None  # the network's own check is untouched
    report = tmp_path / "report.html"
    dialogs.save_paths.append(str(report))
    parts.view.controls.export_button.click()
    text = report.read_text(encoding="utf-8")
    assert "<td>W1</td><td>1 FullyConnected…</td>" in text and "Heatmap of" in text


def test_a_missing_l2_term_fails_in_the_hidden_weights(qtbot, window, dialogs, monkeypatch, tmp_path):
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    path = model_file(tmp_path, 'dw + self.reg * self.params[f"W{i}"], db', "dw, db")
    parts = run_from_menu(qtbot, window, monkeypatch, path)
    progress = parts.controller.last_progress
    assert progress.finished and not progress.passed
    assert {s.name for s in progress.tensor_summaries if s.mismatch} == {"W1", "W2"}
    assert parts.view.shown_tensor == "W1"  # the first tensor with a mismatch is shown


def test_declining_the_warning_runs_nothing_and_errors_name_the_line(qtbot, window, dialogs,
                                                                      monkeypatch, tmp_path):
    path = model_file(tmp_path, "X = X.astype(self.dtype)", "X = X.astype(self.dtype)[99]")
    dialogs.save_answer = QMessageBox.StandardButton.No
    monkeypatch.setattr(OwnModelDialog, "exec", lambda d: (d.path.setText(str(path)),
                                                          QDialog.DialogCode.Accepted)[1])
    menu_entry(window, ACTION_TEXT).trigger()
    assert window.own_model.controller.model is None and not dialogs.errors
    dialogs.save_answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(window.own_model.controller.finished, timeout=30000):
        menu_entry(window, ACTION_TEXT).trigger()
    title, text = dialogs.errors[-1]
    assert title == "Error in your code" and f"{path}:" in text and "IndexError" in text
