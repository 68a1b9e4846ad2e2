"""Fixtures for the gradient-check view: a studio window with a chosen network and data,
and helpers that press the view's real buttons and wait for the check to finish."""
from __future__ import annotations

import types

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnstudio.engine import build_network
from nnstudio.training import TrainConfig


def make_dataset(n_features: int, n_classes: int, rows: int = 96, seed: int = 0):
    """A classification dataset shaped like ``nnstudio.data.Dataset`` (train/val/test)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, n_features)).astype(np.float32)
    y = rng.integers(0, n_classes, rows).astype(np.int64)
    third = rows // 3
    return types.SimpleNamespace(
        task="classification", n_features=n_features, n_outputs=n_classes,
        feature_names=[f"x{i}" for i in range(n_features)],
        class_names=[str(i) for i in range(n_classes)], x_train=x[:third], y_train=y[:third],
        x_val=x[third:2 * third], y_val=y[third:2 * third], x_test=x[2 * third:],
        y_test=y[2 * third:], summary=lambda: f"random, {rows} rows")


def adopt(window, spec: str, dataset, seed: int = 0):
    """Give the window's session a network built from ``spec`` (plus its output layer)."""
    network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs, seed=seed)
    window.session.adopt(network, dataset, TrainConfig(seed=seed))
    return window.session.network


def press(qtbot, parts, until: str, timeout: int = 20000) -> None:
    """Click a command button and wait until that command has finished."""
    button = parts.view.controls.buttons[until]
    with qtbot.waitSignal(parts.controller.finished, timeout=timeout):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def studio(window):
    """The studio window and its gradient-check parts, the view's tab shown."""
    parts = window.gradcheck
    window.views.setCurrentIndex(parts.tab_index)
    window.show()
    return window, parts


@pytest.fixture
def bn_studio(studio):
    """A Dense → BatchNorm → ReLU → Dense network, BatchNorm on batch statistics."""
    window, parts = studio
    adopt(window, "dense:6,batchnorm,relu,dense:5,tanh", make_dataset(4, 3))
    window.session.set_bn_mode("batch")
    return window, parts
