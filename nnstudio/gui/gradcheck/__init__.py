"""The gradient-check view: step through a network's parameters and see mismatches where
they are. ``install_gradcheck(window)`` adds it to the main window (see ``install``)."""
from .install import GradCheckParts, install_gradcheck

__all__ = ["GradCheckParts", "install_gradcheck"]
