"""``nnstudio gui [project.nnproj | data.csv]``: open the studio window (same as app.py)."""
from __future__ import annotations


def add_arguments(parser) -> None:
    # one definition of the window's options (launch imports no Qt at module level)
    from nnstudio.gui.launch import add_arguments as add_window_arguments

    add_window_arguments(parser)


def run(args) -> int:
    # Qt is imported only when the window is really wanted, never by the other commands.
    from nnstudio.gui.launch import run_app

    return run_app(args.path, args.custom_layer, args.platform, args.screenshot)
