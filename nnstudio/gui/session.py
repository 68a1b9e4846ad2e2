"""The state of one studio session, shared by every panel.

Holds the architecture being designed (with its undo stack), the loaded dataset, the built
network and the training settings, which include the one BatchNorm statistics mode used for
predictions, validation and the gradient checker (``TrainConfig.eval_bn_stats``, saved with
a project). Panels read from it and listen to its signals; the
numbers all come from the engine (``build_network``, ``Network``) and the training code.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from nnstudio.engine import Network, build_network
from nnstudio.engine.context import BN_STATS_MODES, require_bn_stats
from nnstudio.training import TrainConfig

from .architecture import ArchitectureModel, LayerEntry, default_entries


@dataclass(frozen=True)
class SessionSnapshot:
    """What a tool such as the gradient checker needs: independent of the live session.

    ``network`` is a deep copy (weights, running statistics); ``bn_stats`` is the global
    BatchNorm statistics choice ("batch" or "running"); ``dataset`` is shared, read-only.
    """

    network: Network | None
    dataset: Any
    bn_stats: str
    train_config: TrainConfig


class Session(QObject):
    """Architecture + dataset + network + settings; emits a signal for every change."""

    dataset_changed = Signal()
    #: the network object was replaced; True when its weights were freshly initialised
    network_changed = Signal(bool)
    #: the weights changed in place (training, reset of statistics, recompute)
    weights_changed = Signal()
    bn_mode_changed = Signal(str)
    config_changed = Signal()
    busy_changed = Signal(bool)
    modified_changed = Signal(bool)
    path_changed = Signal(str)
    #: an error a user should see, e.g. a layer list the engine cannot build
    problem = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.architecture = ArchitectureModel(parent=self)
        self.undo_stack = QUndoStack(self)
        self.dataset = None
        self.network: Network | None = None
        self.network_error: str | None = None
        self.train_config = TrainConfig()
        self.path: str | None = None
        self.busy_reason: str | None = None
        self._modified = False
        self._adopting = False
        self.architecture.changed.connect(self._on_architecture_changed)

    # -- state flags ----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.busy_reason is not None

    def set_busy(self, reason: str | None) -> None:
        """Mark the session busy (e.g. "training") so that edits are refused, or idle."""
        was_busy = self.busy
        self.busy_reason = reason
        if was_busy != self.busy:
            self.busy_changed.emit(self.busy)

    def edit_refusal(self, what: str = "edit the architecture") -> str | None:
        """A message saying why ``what`` is not allowed now, or None if it is."""
        if self.busy_reason == "training":
            return f"Cannot {what} while training runs: stop training first."
        if self.busy_reason:
            return f"Cannot {what} while {self.busy_reason}."
        return None

    @property
    def modified(self) -> bool:
        return self._modified

    def set_modified(self, modified: bool = True) -> None:
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    def set_path(self, path: str | None) -> None:
        self.path = path
        self.path_changed.emit(path or "")

    # -- dataset, settings, BatchNorm mode ------------------------------------------
    def set_dataset(self, dataset) -> None:
        """Adopt a loaded dataset and rebuild the network to fit its inputs and outputs."""
        self.dataset = dataset
        self.dataset_changed.emit()
        self.rebuild_network(keep_weights=False)
        self.set_modified()

    def set_train_config(self, config: TrainConfig, modified: bool = True) -> None:
        if config != self.train_config:
            old_mode = self.bn_mode
            self.train_config = config
            self.config_changed.emit()
            if config.eval_bn_stats != old_mode:
                self.bn_mode_changed.emit(config.eval_bn_stats)
            if modified:
                self.set_modified()

    def update_train_config(self, **changes) -> None:
        """Replace some training settings; raises ValueError if TrainConfig rejects them."""
        self.set_train_config(dataclasses.replace(self.train_config, **changes))

    @property
    def bn_mode(self) -> str:
        """BatchNorm statistics for predictions, validation and the gradient checker:
        stored once, in the training settings (so the trainer's validation uses it too)."""
        return self.train_config.eval_bn_stats

    def set_bn_mode(self, mode: str) -> None:
        require_bn_stats(mode, "BatchNorm mode", BN_STATS_MODES)
        if mode != self.bn_mode:
            self.set_train_config(self.train_config.with_eval_bn_stats(mode))

    # -- network ----------------------------------------------------------------------
    def rebuild_network(self, keep_weights: bool = True) -> None:
        """Build the engine network for the architecture and dataset.

        With ``keep_weights`` the old weights are carried over when the new network has the
        same layer types and shapes (a setting such as dropout rate changed); otherwise the
        weights are initialised from the training seed.
        """
        if self.dataset is None:
            return
        old = self.network
        try:
            network = build_network(self.architecture.make_layers(), self.dataset.n_features,
                                    self.dataset.task, self.dataset.n_outputs,
                                    seed=self.train_config.seed)
        except ValueError as exc:
            self.network, self.network_error = None, str(exc)
            self.problem.emit(f"The network cannot be built: {exc}")
            self.network_changed.emit(True)
            return
        self.network, self.network_error = network, None
        fresh = not (keep_weights and old is not None and _carry_weights(old, network))
        self.network_changed.emit(fresh)

    def mark_weights_changed(self) -> None:
        """The network's weights or statistics changed in place (e.g. a training run ended):
        tell every view (``weights_changed``)."""
        self.weights_changed.emit()

    def reset_weights(self) -> None:
        self.rebuild_network(keep_weights=False)
        self.set_modified()

    def adopt(self, network: Network, dataset, train_config: TrainConfig) -> None:
        """Take over a loaded project's network, dataset and settings as they are."""
        self._adopting = True
        try:
            hidden = network.layers[:-1]  # build_network appended the output layer
            self.architecture.replace_all(
                [LayerEntry(layer.type_name, layer.config()) for layer in hidden])
        finally:
            self._adopting = False
        self.undo_stack.clear()
        self.set_train_config(train_config, modified=False)
        self.dataset = dataset
        self.dataset_changed.emit()
        self.network, self.network_error = network, None
        self.network_changed.emit(True)

    def recompute_population_statistics(self) -> dict[int, tuple[float, float]]:
        """Set every BatchNorm's running statistics to those of the training set (engine);
        returns how far they moved per layer (``Network.recompute_population_statistics``)."""
        if self.network is None or self.dataset is None:
            raise ValueError("load a dataset and build a network first")
        refusal = self.edit_refusal("recompute population statistics")
        if refusal:
            raise ValueError(refusal)
        moved = self.network.recompute_population_statistics(self.dataset.x_train)
        self.mark_weights_changed()
        self.set_modified()
        return moved

    def start_new(self, dataset) -> None:
        """A new session: default layers and settings on ``dataset``, no file, no history."""
        self._adopting = True
        try:
            self.architecture.replace_all(default_entries())
        finally:
            self._adopting = False
        self.undo_stack.clear()
        self.set_train_config(TrainConfig(), modified=False)
        self.dataset = dataset
        self.dataset_changed.emit()
        self.rebuild_network(keep_weights=False)
        self.set_path(None)
        self.set_modified(False)

    def snapshot(self) -> SessionSnapshot:
        """An independent copy of the network with the dataset, BatchNorm mode and settings."""
        network = self.network.copy() if self.network is not None else None
        return SessionSnapshot(network, self.dataset, self.bn_mode, self.train_config)

    def _on_architecture_changed(self) -> None:
        if self._adopting:
            return
        self.rebuild_network(keep_weights=True)
        self.set_modified()


def _carry_weights(old: Network, new: Network) -> bool:
    """Copy ``old``'s parameters and buffers into ``new`` if the layers line up exactly."""
    if [layer.type_name for layer in old.layers] != [layer.type_name for layer in new.layers]:
        return False
    try:
        new.load_state_dict(old.state_dict())
    except ValueError:
        return False
    return True
