"""Check ▸ Check Own Model…: gradient-check a hand-written model on the current dataset.

The model file follows cs231n's ``FullyConnectedNet`` protocol (``params``, ``loss(X, y)
-> (loss, grads)``; see the engine's ``gradcheck.model``). Loading it runs its code, so the
action shows the same warning as importing a layer. The check runs in a worker through the
gradient-check controller and shows the model's tensors (``W1``, ``gamma1``, …) in a second
instance of the gradient-check view, the "Own model" tab: tree, heatmap, table. The phases
are fit (mode "train") and, when the model has ``set_mode``, predict (mode "test"); the
view's Phases setting can pick one. Every number comes from the engine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QPushButton, QWidget)

from nnstudio.engine.context import BATCH
from nnstudio.engine.gradcheck import FIT, PREDICT, SELECTED, check_batch
from nnstudio.engine.gradcheck.model import ModelChecker
from nnstudio.engine.user_model import DEFAULT_FACTORY, load_model
from nnstudio.resources import RESOURCES_DIR

from .gradcheck.controller import CheckController, PhaseRun
from .gradcheck.custom_layer_action import PYTHON_FILTER, WARNING_TITLE, warning_text
from .gradcheck.install import CHECK_MENU, CloseWatcher
from .gradcheck.report_export import ask_and_export
from .gradcheck.store import CheckProgress, DisplayResults
from .gradcheck.view import GradCheckView

VIEW_TITLE = "Own model"
ACTION_TEXT = "Check Own Model…"
GUIDE = """## Check your own model

*Check ▸ Check Own Model…* checks a network you wrote in numpy, in the shape of cs231n's
`FullyConnectedNet`: a file with a factory (default `make_model`) or a class, called as
`FACTORY(input_dim=D, num_classes=C, **kwargs)`, returning an object with

- `params`: a dict name → array (`W1`, `b1`, `gamma1`, …)
- `loss(X, y)` → `(loss, grads)`, `grads` keyed like `params`
- optionally `bn_params`, `dropout_param` and `set_mode("train" | "test")`.

The model is checked on the current dataset's training rows; every evaluation runs on a fresh
float64 copy of it, so nothing it changes can drift, and your model stays as it was.
The fit phase runs in mode "train"; the predict phase (mode "test") too when the model has
`set_mode` — the Phases setting can pick one. Example: `resources/examples/cs231n/classifiers/fc_net.py`.
"""


class OwnModelController(CheckController):
    """The gradient-check controller, checking a loaded model instead of the network."""

    def __init__(self, session, parent=None) -> None:
        super().__init__(session, parent)
        self.model = None
        self.model_label = ""

    def set_model(self, model, label: str) -> None:
        self.invalidate("A model was loaded")
        self.model, self.model_label = model, label

    def _build_phases(self) -> None:
        """The model's phases: fit, and predict when the model has ``set_mode`` (the
        settings' Phases choice can pick one). Builds only: the model's loss first runs in
        the worker (ModelChecker is lazy)."""
        if self.model is None:
            raise ValueError(f"load a model first: {CHECK_MENU.replace('&', '')} ▸ {ACTION_TEXT}")
        if self.settings is None:
            raise ValueError("the check settings are not set")
        dataset = self.session.dataset
        if dataset is None:
            raise ValueError("load a dataset first (Data panel or File ▸ Open CSV…)")
        config = self.settings.config
        x, y = check_batch(dataset.x_train, dataset.y_train, self.settings.batch_size, config.seed)
        chosen = self.settings.phases
        if chosen == SELECTED:
            names = (FIT,) if config.bn_stats == BATCH else (PREDICT,)
        elif chosen in (FIT, PREDICT):
            names = (chosen,)
        else:
            names = (FIT, PREDICT) if callable(getattr(self.model, "set_mode", None)) else (FIT,)
        phases = []
        for name in names:
            checker = ModelChecker(self.model, x, y, config, name)
            notes = [] if name == FIT or len(names) == 1 else [
                "checked after set_mode('test'); a model whose loss(X, y) ignores the mode "
                "repeats the fit phase here"]
            if name == FIT and len(names) == 1 and chosen != FIT:
                notes = ["the model has no set_mode('train' | 'test'): only the fit phase "
                         "can be checked"]
            # The floor scales with the loss, known once the worker has run it (_deliver).
            store = DisplayResults(list(checker.tensors), config.atol or 0.0)
            phases.append(PhaseRun(name, checker, store, CheckProgress.of(checker, name), notes))
        self.phases, self.current, self.shown = phases, 0, 0
        self.started.emit(phases[0].store)

    def _deliver(self, bundle) -> None:
        checker = self.phases[self.current].checker if self.phases else None
        if checker is not None and checker.objective.ready:
            self.phases[self.current].store.atol = checker.atol  # a cached number: no user code
        super()._deliver(bundle)

    def tolerance(self) -> tuple[float, float] | None:
        phase = self.shown_phase
        if phase is None or not phase.checker.objective.ready:
            return None
        return phase.checker.config.rtol, phase.checker.atol


class OwnModelView(GradCheckView):
    """The gradient-check view on a model: no faults to inject, no layer of ours to flag."""

    def __init__(self, controller: OwnModelController, parent=None) -> None:
        super().__init__(controller, parent)
        self.controls.fault_button.hide()
        self.set_guide(GUIDE)

    def _layer_notes(self) -> dict[int, str]:
        return {}


@dataclass
class OwnModelParts:
    controller: OwnModelController
    view: OwnModelView
    tab_index: int


class OwnModelDialog(QDialog):
    """The model file, its factory and keyword arguments."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check own model")
        self.path = QLineEdit()
        self.factory = QLineEdit(DEFAULT_FACTORY)
        self.kwargs = QLineEdit("{}")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow(QLabel("A Python file with a factory (or class) called as "
                           "FACTORY(input_dim=D, num_classes=C, **kwargs), returning an object "
                           "with params and loss(X, y) -> (loss, grads), as cs231n's "
                           "FullyConnectedNet."))
        form.addRow("Model file", row)
        form.addRow("Factory or class", self.factory)
        form.addRow("Keyword arguments (JSON)", self.kwargs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", str(RESOURCES_DIR / "examples"),
                                              PYTHON_FILTER)
        if path:
            self.path.setText(path)


def install_own_model(window) -> OwnModelParts:
    """The "Own model" view and the Check menu's action; returns them (the window keeps
    them as ``window.own_model``)."""
    controller = OwnModelController(window.session, window)
    view = OwnModelView(controller)
    tab_index = window.add_view(VIEW_TITLE, view)
    parts = OwnModelParts(controller, view, tab_index)
    view.message.connect(window.show_status)
    view.controls.export_button.clicked.connect(lambda: ask_and_export(view, window))
    controller.failed.connect(window.show_error)
    action = QAction(ACTION_TEXT, window)
    action.setStatusTip("Runs the file's code: only for files you trust")
    action.triggered.connect(lambda: check_own_model(window))
    window.add_menu_action(CHECK_MENU, action)
    window.installEventFilter(CloseWatcher(controller, window))
    return parts


def check_own_model(window, path: str | None = None, factory: str = DEFAULT_FACTORY,
                    kwargs: dict | None = None) -> bool:
    """Ask for the model (unless ``path``), warn, load it, start its check. True if started."""
    if path is None:
        dialog = OwnModelDialog(window)
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.path.text().strip():
            return False
        path, factory = dialog.path.text().strip(), dialog.factory.text().strip() or DEFAULT_FACTORY
        try:
            kwargs = json.loads(dialog.kwargs.text() or "{}")
        except ValueError as exc:
            window.show_error("Cannot load the model", f"Keyword arguments are not JSON: {exc}")
            return False
        if not isinstance(kwargs, dict):
            window.show_error("Cannot load the model", "Keyword arguments must be a JSON object {...}")
            return False
    answer = QMessageBox.question(window, WARNING_TITLE, warning_text(path),
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        window.show_status("Check cancelled: the file was not run.")
        return False
    dataset = window.session.dataset
    if dataset is None:
        window.show_error("Cannot check the model", "Load a dataset first.")
        return False
    try:
        model = load_model(f"{path}:{factory}", dataset.n_features, dataset.n_outputs, kwargs)
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; show it
        window.show_error("Cannot load the model", f"{Path(path).name}:\n{exc}")
        return False
    parts = window.own_model
    parts.controller.set_model(model, f"{Path(path).name}:{factory}")
    window.views.setCurrentIndex(parts.tab_index)
    return parts.view.run_command("end")
