"""Driving the window as a person would, shared by the GUI tests."""
from __future__ import annotations

from PySide6.QtCore import Qt


def train(qtbot, window, epochs: int, **settings) -> None:
    """Set the epochs (and other training settings), press Train and wait for the end."""
    window.session.update_train_config(epochs=epochs, **settings)
    with qtbot.waitSignal(window.controller.finished, timeout=30000):
        qtbot.mouseClick(window.training_panel.start_button, Qt.MouseButton.LeftButton)
