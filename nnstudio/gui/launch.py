"""Start the studio: ``python app.py [project.nnproj | data.csv]`` and ``nnstudio gui``.

With no argument the window opens on the built-in Iris dataset with a default network,
ready to press Train. Before Qt is imported, the desktop platform's system libraries are
checked (``nnstudio.system_libs``): a missing one is named with the command that installs
it (exit 2) instead of Qt's abort. A path that cannot be opened is reported in a dialog
(a user who started the app from a launcher sees no terminal) and the default session
opens.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_SUFFIX = ".nnproj"
EXIT_BAD_INPUT = 2
#: after the window is shown, wait this long for it to paint before a --screenshot
SCREENSHOT_DELAY_MS = 1500


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
    already loaded custom ``layer_classes`` in its palette.

    A path that does not exist (or cannot be opened) leaves the default session open and is
    reported in a dialog.
    """
    from .main_window import MainWindow

    window = MainWindow(settings=settings)
    for cls in layer_classes:
        window.palette.add_layer_type(cls)
    window.data_panel.load_builtin("iris")
    window.session.set_modified(False)
    window.show()
    problem = check_path(path)
    if problem:
        from PySide6.QtCore import QTimer

        # once the event loop runs: the window is on screen behind the dialog
        QTimer.singleShot(0, window, lambda: window.show_error(
            "Cannot open the file",
            f"{problem}\n\nThe studio opened on the built-in Iris dataset."))
    elif path is not None:
        if path.lower().endswith(PROJECT_SUFFIX):
            window.files.open_project(path)
        elif window.data_panel.set_file(path):
            window.data_panel.load()
    return window


def save_screenshot_and_quit(window, path: str) -> None:
    """Grab what the display shows of ``window`` (the platform's own pixels) and quit."""
    from PySide6.QtWidgets import QApplication

    screen = window.screen()
    image = screen.grabWindow(window.winId()) if screen is not None else window.grab()
    if image.isNull() or image.width() < 100:
        image = window.grab()
    ok = image.save(path, "PNG")
    print(f"screenshot {'saved to' if ok else 'could not be written to'} {path} "
          f"({image.width()}x{image.height()}, platform {QApplication.platformName()})")
    window.session.set_modified(False)
    window.close()
    QApplication.exit(0 if ok else 1)


def run_app(path: str | None = None, custom_layers=(), platform: str | None = None,
            screenshot: str | None = None) -> int:
    """Check the display, load ``--custom-layer`` files, open the window, run the loop.

    Exit code 2 when Qt's desktop platform cannot start (the message names the packages) or
    a custom layer file cannot be loaded. A path that cannot be opened is reported in a
    dialog (and here) and the default session opens.
    """
    from nnstudio.system_libs import desktop_problem

    argv = [sys.argv[0]] + (["-platform", platform] if platform else [])
    problem = desktop_problem(argv=argv)
    if problem:
        print(f"nnstudio gui: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        classes = load_layer_files(custom_layers)
    except (ValueError, OSError) as exc:
        print(f"nnstudio gui: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path_problem = check_path(path)
    if path_problem:  # also in the dialog: this is for a terminal
        print(f"nnstudio gui: {path_problem}; opening the default session", file=sys.stderr)
    app = make_application(argv)
    window = open_window(path, layer_classes=classes)
    if screenshot:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: save_screenshot_and_quit(window, screenshot))
    return int(app.exec())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="app.py", description="Open the NN Studio window.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_app(args.path, args.custom_layer, args.platform, args.screenshot)


def add_arguments(parser) -> None:
    parser.add_argument("path", nargs="?", default=None,
                        help="a .nnproj project or a .csv file to open (default: the Iris dataset)")
    parser.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                        help="load layers from a Python file first (runs its code); repeatable")
    parser.add_argument("-platform", "--platform", default=None, metavar="NAME",
                        help="Qt platform plugin (xcb, wayland, offscreen, ...)")
    parser.add_argument("--screenshot", default=None, metavar="FILE.png",
                        help="once the window has painted, save what the display shows of it "
                             "to this PNG and quit (exit 0): a check that the app starts")
