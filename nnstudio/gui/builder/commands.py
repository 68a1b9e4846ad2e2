"""Undoable edits of the architecture (QUndoCommand subclasses).

Every change the builder, the property editor or the BatchNorm panel makes to the layer list
goes through one of these, so Ctrl+Z undoes it and the Edit menu names it. Consecutive edits
of the same setting of the same layer merge into one step (typing "128" is one undo).
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from ..architecture import ArchitectureModel, LayerEntry

CONFIG_EDIT_ID = 1001


class AddLayer(QUndoCommand):
    """Insert ``entry`` at ``index``."""

    def __init__(self, model: ArchitectureModel, index: int, entry: LayerEntry) -> None:
        super().__init__(f"Add {entry.label()}")
        self.model, self.index, self.entry = model, index, entry.copy()

    def redo(self) -> None:
        self.model.insert(self.index, self.entry)

    def undo(self) -> None:
        self.model.remove(self.index)


class DuplicateLayer(AddLayer):
    """Insert a copy of the layer at ``index`` right after it."""

    def __init__(self, model: ArchitectureModel, index: int) -> None:
        super().__init__(model, index + 1, model.entry(index))
        self.setText(f"Duplicate {self.entry.label()}")


class RemoveLayer(QUndoCommand):
    """Delete the layer at ``index``."""

    def __init__(self, model: ArchitectureModel, index: int) -> None:
        self.model, self.index = model, index
        self.entry = model.entry(index).copy()
        super().__init__(f"Delete {self.entry.label()}")

    def redo(self) -> None:
        self.model.remove(self.index)

    def undo(self) -> None:
        self.model.insert(self.index, self.entry)


class MoveLayer(QUndoCommand):
    """Move the layer at ``source`` so that it ends up at ``destination``."""

    def __init__(self, model: ArchitectureModel, source: int, destination: int) -> None:
        super().__init__(f"Move {model.entry(source).label()}")
        self.model, self.source, self.destination = model, source, destination

    def redo(self) -> None:
        self.model.move(self.source, self.destination)

    def undo(self) -> None:
        self.model.move(self.destination, self.source)


class ChangeLayerSetting(QUndoCommand):
    """Set one constructor setting of the layer at ``index``; merges with the next edit of it."""

    def __init__(self, model: ArchitectureModel, index: int, key: str, value: Any) -> None:
        entry = model.entry(index)
        self.model, self.index, self.key = model, index, key
        self.old_config = copy.deepcopy(entry.config)
        self.new_config = {**copy.deepcopy(entry.config), key: value}
        super().__init__(f"Set {key} of {entry.label()} to {value!r}")

    def id(self) -> int:  # noqa: A003 - Qt override
        return CONFIG_EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, ChangeLayerSetting):
            return False
        if (other.index, other.key) != (self.index, self.key):
            return False
        self.new_config = copy.deepcopy(other.new_config)
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self.model.set_config(self.index, self.new_config)

    def undo(self) -> None:
        self.model.set_config(self.index, self.old_config)
