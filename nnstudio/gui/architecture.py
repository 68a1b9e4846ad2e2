"""The hidden layers being designed: an ordered list of (type name, settings) entries.

The builder edits this list only through the undo commands in ``builder/commands.py``; each
edit emits ``changed``. Layers are plain data here; engine objects are made from them by
:meth:`ArchitectureModel.make_layers`. The output layer is not part of the list: the engine's
``build_network`` adds it to fit the dataset.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from nnstudio.engine import LAYER_TYPES, Layer, layer_from_config

DEFAULT_HIDDEN = (("dense", {"units": 16}), ("batchnorm", {}), ("relu", {}),
                  ("dense", {"units": 16}), ("relu", {}))


@dataclass
class LayerEntry:
    """One hidden layer as data: its registered type name and constructor settings."""

    type_name: str
    config: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> "LayerEntry":
        return LayerEntry(self.type_name, copy.deepcopy(self.config))

    def make_layer(self) -> Layer:
        """A fresh, unbuilt engine layer; raises ValueError on bad settings."""
        return layer_from_config(self.type_name, self.config)

    def full_config(self) -> dict[str, Any]:
        """Settings with the layer's defaults filled in (what the property editor shows)."""
        return self.make_layer().config()

    def label(self) -> str:
        try:
            return self.make_layer().describe()
        except ValueError:
            return f"{self.type_name} (invalid settings)"


def default_entries() -> list[LayerEntry]:
    """The network a new session starts with: Dense(16), BatchNorm, ReLU, Dense(16), ReLU."""
    return [LayerEntry(name, dict(config)) for name, config in DEFAULT_HIDDEN]


def entry_for_type(type_name: str) -> LayerEntry:
    """A new entry of ``type_name`` with default settings (Dense gets 16 units)."""
    if type_name not in LAYER_TYPES:
        raise ValueError(f"unknown layer type {type_name!r}")
    config: dict[str, Any] = ({"units": 16} if type_name == "dense" else
                              dict(getattr(LAYER_TYPES[type_name], "palette_settings", {})))
    entry = LayerEntry(type_name, config)
    try:
        entry.config = entry.full_config()
    except ValueError:
        # A custom layer whose constructor needs arguments: keep the empty settings and
        # let the property editor ask for them.
        entry.config = config
    return entry


class ArchitectureModel(QObject):
    """The ordered hidden layers. Mutators are called by undo commands only."""

    changed = Signal()

    def __init__(self, entries=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if entries is None:
            entries = default_entries()
        self._entries: list[LayerEntry] = [e.copy() for e in entries]

    # -- reading --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, index: int) -> LayerEntry:
        return self._entries[index]

    def entries(self) -> list[LayerEntry]:
        """Copies of the entries, in order."""
        return [e.copy() for e in self._entries]

    def make_layers(self) -> list[Layer]:
        """Fresh engine layers for the whole list (raises ValueError naming the bad one)."""
        layers = []
        for index, entry in enumerate(self._entries):
            try:
                layers.append(entry.make_layer())
            except ValueError as exc:
                raise ValueError(f"layer {index} ({entry.type_name}): {exc}") from None
        return layers

    # -- mutation (undo commands only) ----------------------------------------------
    def insert(self, index: int, entry: LayerEntry) -> None:
        self._entries.insert(index, entry.copy())
        self.changed.emit()

    def remove(self, index: int) -> LayerEntry:
        entry = self._entries.pop(index)
        self.changed.emit()
        return entry

    def move(self, source: int, destination: int) -> None:
        entry = self._entries.pop(source)
        self._entries.insert(destination, entry)
        self.changed.emit()

    def set_config(self, index: int, config: dict[str, Any]) -> None:
        self._entries[index].config = copy.deepcopy(config)
        self.changed.emit()

    def replace_all(self, entries: list[LayerEntry]) -> None:
        self._entries = [e.copy() for e in entries]
        self.changed.emit()
