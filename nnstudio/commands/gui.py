"""``nnstudio gui [project.nnproj | data.csv]``: open the studio window (same as app.py)."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("path", nargs="?", default=None,
                        help="a .nnproj project or a .csv file to open (default: the Iris dataset)")
    parser.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                        help="load layers from a Python file first (runs its code); repeatable")


def run(args) -> int:
    # Qt is imported only when the window is really wanted, never by the other commands.
    from nnstudio.gui.launch import run_app

    return run_app(args.path, args.custom_layer)
