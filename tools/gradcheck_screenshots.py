"""Pictures of the gradient-check view in its teaching situations, for looking at.

    QT_QPA_PLATFORM=offscreen python tools/gradcheck_screenshots.py [FOLDER]

writes PNGs (default ``./screenshots``, git-ignored): the whole 1440×900 window before a
check, the guide, a BatchNorm fault found (whole window, the view alone, and a wide window
without docks), the first mismatch, a ReLU kink, the re-drawn dropout mask of the guided
example, a 26,000-parameter network with a broken Dense layer, and the histogram.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from nnstudio.data import Dataset


def _dataset(n_features: int, n_classes: int, rows: int = 96):
    """Random classification data; a third of the rows train, so that a check batch of 32
    holds them all."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, n_features)).astype(np.float32)
    y = rng.integers(0, n_classes, rows).astype(np.int64)
    return Dataset.from_arrays(x, y, "classification", val_fraction=1 / 3, test_fraction=1 / 3,
                               standardize=False, source="random")


class Shooter:
    """Drives a real main window and saves what it shows."""

    def __init__(self, folder: Path) -> None:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from nnstudio.gui.main_window import MainWindow
        from nnstudio.gui.style import apply_style

        self.app = QApplication.instance() or QApplication(sys.argv)
        apply_style(self.app)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.window = MainWindow(QSettings(str(folder / ".settings.ini"),
                                           QSettings.Format.IniFormat))
        self.parts = self.window.gradcheck
        self.window.show()
        self.window.views.setCurrentIndex(self.parts.tab_index)

    def settle(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def run(self, until: str) -> None:
        self.parts.view.run_command(until)
        deadline = time.monotonic() + 60
        while self.parts.controller.state == "running" and time.monotonic() < deadline:
            self.app.processEvents()
            time.sleep(0.005)
        self.settle()

    def adopt(self, spec: str, dataset) -> None:
        from nnstudio.engine import build_network
        from nnstudio.training import TrainConfig

        network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs)
        self.window.session.adopt(network, dataset, TrainConfig())

    def save(self, widget, name: str) -> Path:
        self.settle(0.2)
        path = self.folder / name
        widget.grab().save(str(path))
        return path

    def close(self) -> None:
        self.parts.controller.shutdown()
        self.window.session.set_modified(False)
        self.window.close()


def take_all(folder: Path) -> list[Path]:
    from nnstudio.gui.gradcheck.example import EXAMPLE_PROJECT

    shooter = Shooter(folder)
    window, parts, saved = shooter.window, shooter.parts, []
    try:
        window.files.open_project(str(EXAMPLE_PROJECT))
        saved.append(shooter.save(window, "gradcheck_window_before.png"))
        parts.view.tabs.setCurrentWidget(parts.view.guide)
        saved.append(shooter.save(parts.view, "gradcheck_guide.png"))
        parts.view.tabs.setCurrentWidget(parts.view.heatmap_page)
        window.session.set_bn_mode("batch")
        parts.injector.inject(1, "no_mean_path")
        shooter.run("mismatch")
        saved.append(shooter.save(parts.view, "gradcheck_first_mismatch.png"))
        shooter.run("end")
        saved.append(shooter.save(window, "gradcheck_fault_window.png"))
        saved.append(shooter.save(parts.view, "gradcheck_fault_view.png"))
        saved.append(_wide(shooter))
        parts.view.tabs.setCurrentWidget(parts.view.table)
        saved.append(shooter.save(parts.view, "gradcheck_fault_table.png"))
        parts.view.tabs.setCurrentWidget(parts.view.histogram)
        saved.append(shooter.save(parts.view, "gradcheck_fault_histogram.png"))
        parts.view.tabs.setCurrentWidget(parts.view.heatmap_page)
        parts.injector.inject(1, None)
        parts.view.run_scenario("redraw")
        shooter.run("end")
        saved.append(shooter.save(parts.view, "gradcheck_redraw_dropout.png"))
        parts.view.settings.set_dropout("fixed")
        saved.append(_kink(shooter))
        shooter.adopt("dense:128,tanh,dense:128,tanh", _dataset(64, 10))
        parts.injector.inject(2, "weight_grad_averaged")
        shooter.run("end")
        parts.view.show_tensor("2.W")
        saved.append(shooter.save(parts.view, "gradcheck_large_network.png"))
    finally:
        shooter.close()
    return saved


def _wide(shooter: Shooter) -> Path:
    """The same result on a big screen with the docks hidden: the tree moves to the left."""
    window = shooter.window
    docks = [dock for dock in window.docks.values() if dock.isVisible()]
    for dock in docks:
        dock.hide()
    window.resize(1920, 1080)
    try:
        return shooter.save(window, "gradcheck_fault_window_wide.png")
    finally:
        window.resize(1440, 900)
        for dock in docks:
            dock.show()
        window.docks["Training"].raise_()
        shooter.settle()


def _kink(shooter: Shooter) -> Path:
    """A ReLU unit placed exactly on its corner for one sample: kinks, not mismatches."""
    dataset = _dataset(2, 2)
    shooter.adopt("dense:8,relu,dense:8,tanh", dataset)
    network = shooter.window.session.network
    weights, bias = network.layers[0].params["W"], network.layers[0].params["b"]
    bias[0] = -(dataset.x_train[0] @ weights[:, 0])
    shooter.run("end")
    view = shooter.parts.view
    kink = next(r for r in view.store.results if r.verdict == "kink")
    view.follow.setChecked(False)
    view.show_tensor(kink.tensor)
    view.show_element_at(kink.flat_index)
    return shooter.save(view, "gradcheck_kink.png")


if __name__ == "__main__":
    for written in take_all(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")):
        print(written)
