"""The layer builder: palette, ordered stack, property editor, undoable edits."""
from .panel import BuilderPanel

__all__ = ["BuilderPanel"]
