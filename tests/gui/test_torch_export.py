"""File ▸ Export to PyTorch… as a person uses it: choose a folder, get a runnable module that
predicts what the window predicts; a fault is refused in a dialog that names it."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from nnstudio.engine import Context

from ..export.exported import exported_modules


def choose_folder(monkeypatch, folder) -> list:
    asked = []

    def answer(*args, **kwargs):
        asked.append(args)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", answer)
    return asked


def test_export_from_the_file_menu_predicts_what_the_window_predicts(torch, tmp_path, window,
                                                                     monkeypatch, dialogs):
    asked = choose_folder(monkeypatch, tmp_path / "torch")
    action = window.actions_by_name["export_pytorch"]
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions() and action.text() == "Export to &PyTorch…"
    action.trigger()
    assert asked and not dialogs.errors
    assert (tmp_path / "torch" / "model.py").is_file() and (tmp_path / "torch" / "train.py").is_file()
    assert "Exported to" in window.statusBar().currentMessage()
    session = window.session
    x = session.dataset.x_val
    studio = session.network.predict_classes(x, Context.inference(bn_stats=session.bn_mode))
    with exported_modules(tmp_path / "torch") as (model, _):
        with torch.no_grad():
            theirs = model.load()(torch.from_numpy(x)).argmax(dim=1).numpy()
        assert model.CLASS_NAMES == session.dataset.class_names
    np.testing.assert_array_equal(theirs, studio)


def test_a_network_with_a_fault_is_refused_in_a_dialog(tmp_path, window, monkeypatch, dialogs):
    choose_folder(monkeypatch, tmp_path / "torch")
    window.session.network.layers[1].set_fault("no_mean_path")
    window.actions_by_name["export_pytorch"].trigger()
    title, text = dialogs.errors[-1]
    assert title == "Cannot export to PyTorch"
    assert "layer 1 BatchNorm has the fault 'no_mean_path'" in text
    assert not (tmp_path / "torch").exists()


def test_cancelling_the_folder_dialog_writes_nothing(tmp_path, window, monkeypatch, dialogs):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: "")
    assert window.actions_by_name["export_pytorch"].trigger() is None
    assert not dialogs.errors and not list(tmp_path.rglob("model.py"))
