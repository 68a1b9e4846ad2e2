"""GUI test fixtures: offscreen Qt (tests/conftest.py), isolated settings, no modal dialogs.

Every QMessageBox / QFileDialog entry point is replaced: a test that expects a dialog
scripts its answer through ``dialogs``; an unexpected one is recorded, never shown.
"""
from __future__ import annotations

import types

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox


class DialogScript:
    """Records dialogs and returns scripted answers."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.save_answer = QMessageBox.StandardButton.Discard
        self.open_paths: list[str] = []
        self.save_paths: list[str] = []

    def critical(self, _parent, title, text, *args, **kwargs):
        self.errors.append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(self, _parent, _title, text, *args, **kwargs):
        self.questions.append(text)
        return self.save_answer

    def get_open(self, *args, **kwargs):
        return (self.open_paths.pop(0) if self.open_paths else "", "")

    def get_save(self, *args, **kwargs):
        return (self.save_paths.pop(0) if self.save_paths else "", "")


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> DialogScript:
    script = DialogScript()
    monkeypatch.setattr(QMessageBox, "critical", script.critical)
    monkeypatch.setattr(QMessageBox, "warning", script.critical)
    monkeypatch.setattr(QMessageBox, "information", script.critical)
    monkeypatch.setattr(QMessageBox, "question", script.question)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", script.get_open)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", script.get_save)
    return script


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """A settings file of this test only (recent files never touch the user's)."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def xor_dataset():
    """A small two-feature classification dataset with train/val/test splits."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((240, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return types.SimpleNamespace(
        task="classification", n_features=2, n_outputs=2, feature_names=["x1", "x2"],
        class_names=["0", "1"], x_train=x[:160], y_train=y[:160], x_val=x[160:200],
        y_val=y[160:200], x_test=x[200:], y_test=y[200:], summary=lambda: "xor, 240 rows")


@pytest.fixture
def make_window(qtbot, settings):
    """Open studio windows (on Iris, as ``python app.py`` does) and close them afterwards."""
    from nnstudio.gui.launch import open_window

    windows = []

    def make(path=None):
        window = open_window(path, settings=settings)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()
        window.session.set_modified(False)
        window.close()


@pytest.fixture
def window(make_window):
    return make_window()
