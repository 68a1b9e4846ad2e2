"""The one door through which panels change the architecture.

Every edit becomes an undo command on the session's QUndoStack, unless the session is busy
(training runs): then the edit is refused and ``refused`` carries the message to show.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from ..architecture import entry_for_type
from ..session import Session
from . import commands


class ArchitectureEditor(QObject):
    """Guarded, undoable edits of ``session.architecture``."""

    refused = Signal(str)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = session.architecture
        self.undo_stack = session.undo_stack

    def allowed(self, what: str = "edit the architecture") -> bool:
        """True if edits are allowed now; otherwise emit ``refused`` and return False."""
        reason = self.session.edit_refusal(what)
        if reason:
            self.refused.emit(reason)
            return False
        return True

    def add(self, type_name: str, index: int | None = None) -> bool:
        """Insert a new layer of ``type_name`` at ``index`` (default: at the end)."""
        if not self.allowed("add a layer"):
            return False
        try:
            entry = entry_for_type(type_name)
        except ValueError as exc:
            self.refused.emit(str(exc))
            return False
        index = len(self.model) if index is None else max(0, min(index, len(self.model)))
        self.undo_stack.push(commands.AddLayer(self.model, index, entry))
        return True

    def remove(self, index: int) -> bool:
        if not 0 <= index < len(self.model):
            return False
        return self._push(lambda: commands.RemoveLayer(self.model, index), "delete a layer")

    def duplicate(self, index: int) -> bool:
        if not 0 <= index < len(self.model):
            return False
        return self._push(lambda: commands.DuplicateLayer(self.model, index), "duplicate a layer")

    def move(self, source: int, destination: int) -> bool:
        """Move a layer so that it ends at ``destination`` (both are hidden-layer indices)."""
        count = len(self.model)
        destination = max(0, min(destination, count - 1))
        if not 0 <= source < count or source == destination:
            return False
        return self._push(lambda: commands.MoveLayer(self.model, source, destination),
                          "move a layer")

    def set_setting(self, index: int, key: str, value: Any) -> bool:
        """Change one setting; the caller has validated it with the engine."""
        if self.model.entry(index).config.get(key) == value:
            return True
        return self._push(lambda: commands.ChangeLayerSetting(self.model, index, key, value),
                          "change a layer setting")

    def undo(self) -> bool:
        if not self.undo_stack.canUndo() or not self.allowed("undo an edit"):
            return False
        self.undo_stack.undo()
        return True

    def redo(self) -> bool:
        if not self.undo_stack.canRedo() or not self.allowed("redo an edit"):
            return False
        self.undo_stack.redo()
        return True

    def _push(self, make_command: Callable[[], QUndoCommand], what: str) -> bool:
        if not self.allowed(what):
            return False
        self.undo_stack.push(make_command())
        return True
