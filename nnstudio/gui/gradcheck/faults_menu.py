"""Fault injection: per layer (and for the loss) a menu of the engine's catalog of classic
backward mistakes, each with its one-line explanation; choosing "correct backward" restores
the layer.

Faults live on the session's network (``layer.set_fault``), so they are saved with the
project and a teacher can hand out a broken network. A rebuild of the network (a setting
edited, weights reset) creates new layer objects; the injector puts the faults back when the
layer types still line up, and forgets them when a different dataset or project arrives.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from nnstudio.engine.faults import LOSS_TARGET, active_faults, faults_for, set_fault

from ..session import Session

LOSS = LOSS_TARGET


class FaultInjector(QObject):
    """Switches faults on and off; ``message(text)`` says what happened (or why not),
    ``applied`` follows every change that took effect."""

    message = Signal(str)
    applied = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._remembered: tuple[list[str], dict] | None = None
        session.dataset_changed.connect(self._forget)
        session.network_changed.connect(self._on_network_changed)

    # -- state ----------------------------------------------------------------------------
    def faults(self) -> dict:
        """{layer index or "loss": fault name} of the session's network."""
        network = self.session.network
        return {} if network is None else dict(active_faults(network))

    def inject(self, target, fault: str | None) -> bool:
        """Switch ``fault`` on for layer ``target`` (an index or "loss"); None restores it."""
        network = self.session.network
        refusal = self.session.edit_refusal("inject a fault")
        if network is None or refusal:
            self.message.emit(refusal or "Build a network first (load a dataset).")
            return False
        owner = network.loss if target == LOSS else network.layers[target]
        try:
            set_fault(network, target, fault)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self._remember()
        self.session.set_modified()
        name = "the loss" if target == LOSS else f"layer {target} {owner.describe()}"
        self.applied.emit()
        self.message.emit(f"Fault {fault} injected into {name}." if fault
                          else f"The backward pass of {name} is correct again.")
        return True

    def _remember(self) -> None:
        network = self.session.network
        types = [layer.type_name for layer in network.layers]
        self._remembered = (types, self.faults())

    def _forget(self) -> None:
        self._remembered = None

    def _on_network_changed(self, _fresh: bool) -> None:
        """Put remembered faults back on a rebuilt network whose layer types line up."""
        network, remembered = self.session.network, self._remembered
        if network is None or not remembered or self.faults():
            self._remembered = None if network is None else (
                [layer.type_name for layer in network.layers], self.faults())
            return
        types, faults = remembered
        if [layer.type_name for layer in network.layers] != types:
            self._remembered = None
            if faults:
                self.message.emit("The architecture changed: injected faults were removed.")
            return
        for target, fault in faults.items():
            set_fault(network, target, fault)

    # -- menus ----------------------------------------------------------------------------
    def fill_menu(self, menu: QMenu, only_layer: int | None = None) -> None:
        """Fill ``menu`` with one submenu per layer that has a catalog (or one layer's
        entries when ``only_layer`` is given)."""
        menu.clear()
        menu.setToolTipsVisible(True)
        network = self.session.network
        if network is None:
            menu.addAction("No network yet: load a dataset first").setEnabled(False)
            return
        if only_layer is not None:
            if 0 <= only_layer < len(network.layers):
                self._add_entries(menu, only_layer, network.layers[only_layer])
            return
        for index, layer in enumerate(network.layers):
            if faults_for(layer):
                mark = "  ⚠" if layer.fault else ""
                self._add_entries(menu.addMenu(f"{index}  {layer.describe()}{mark}"), index, layer)
        if faults_for(network.loss):
            mark = "  ⚠" if network.loss.fault else ""
            self._add_entries(menu.addMenu(f"Loss: {network.loss.type_name}{mark}"), LOSS,
                              network.loss)

    def _add_entries(self, menu: QMenu, target, owner) -> None:
        group = QActionGroup(menu)
        correct = QAction("Correct backward (no fault)", menu, checkable=True)
        correct.setChecked(owner.fault is None)
        correct.triggered.connect(lambda _c=False: self.inject(target, None))
        group.addAction(correct)
        menu.addAction(correct)
        catalog = faults_for(owner)
        if not catalog:
            menu.addAction("This layer has no faults to inject").setEnabled(False)
            return
        menu.addSeparator()
        for fault, explanation in catalog.items():
            action = QAction(f"{fault} — {explanation}", menu, checkable=True)
            action.setToolTip(explanation)
            action.setStatusTip(explanation)
            action.setChecked(owner.fault == fault)
            action.triggered.connect(lambda _c=False, f=fault: self.inject(target, f))
            group.addAction(action)
            menu.addAction(action)
