"""Start the studio: ``python app.py [project.nnproj | data.csv]`` and ``nnstudio gui``.

With no argument the window opens on the built-in Iris dataset with a default network,
ready to press Train.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_SUFFIX = ".nnproj"
EXIT_BAD_INPUT = 2


def check_path(path: str | None) -> str | None:
    """An error message for a path the window cannot open, or None."""
    if path is None:
        return None
    file = Path(path)
    if not file.exists():
        return f"no such file: {path}"
    if file.is_dir():
        return f"{path} is a directory; give a .nnproj project or a .csv file"
    return None


def make_application(argv: list[str] | None = None):
    """The QApplication (created once), with name, icon and style sheet."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtWidgets import QApplication

    from .style import apply_style

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or [sys.argv[0]]))
    app.setApplicationName("NN Studio")
    app.setOrganizationName("nnstudio")
    apply_style(app)
    return app


def load_layer_files(files) -> list[type]:
    """Load ``--custom-layer`` files (given explicitly: no question asked); the classes."""
    from nnstudio.engine.custom_layers import load_custom_layers

    classes: list[type] = []
    for file in files or ():
        classes += load_custom_layers(file)
    return classes


def open_window(path: str | None = None, settings=None, layer_classes=()):
    """A shown main window on ``path`` (project or CSV) or on the Iris dataset, with
    already loaded custom ``layer_classes`` in its palette."""
    from .main_window import MainWindow

    window = MainWindow(settings=settings)
    for cls in layer_classes:
        window.palette.add_layer_type(cls)
    window.data_panel.load_builtin("iris")
    window.session.set_modified(False)
    if path is not None:
        if path.lower().endswith(PROJECT_SUFFIX):
            window.files.open_project(path)
        elif window.data_panel.set_file(path):
            window.data_panel.load()
    window.show()
    return window


def run_app(path: str | None = None, custom_layers=()) -> int:
    """Open the window and run the event loop; exit code 2 for a path that cannot be opened
    or a ``--custom-layer`` file that cannot be loaded."""
    problem = check_path(path)
    if problem:
        print(f"nnstudio gui: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        classes = load_layer_files(custom_layers)
    except (ValueError, OSError) as exc:
        print(f"nnstudio gui: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    app = make_application()
    window = open_window(path, layer_classes=classes)  # noqa: F841 - kept alive while the loop runs
    return int(app.exec())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="app.py", description="Open the NN Studio window.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_app(args.path, args.custom_layer)


def add_arguments(parser) -> None:
    parser.add_argument("path", nargs="?", default=None,
                        help="a .nnproj project or a .csv file to open (default: the Iris dataset)")
    parser.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                        help="load layers from a Python file first (runs its code); repeatable")
