"""Look and feel: the style sheet and icons under ``resources/``, pyqtgraph options."""
from __future__ import annotations

from nnstudio.resources import RESOURCES_DIR


def apply_style(app) -> None:
    """Load ``resources/style.qss`` and the window icon; keep pyqtgraph off OpenGL."""
    import pyqtgraph as pg
    from PySide6.QtGui import QIcon

    pg.setConfigOptions(useOpenGL=False, antialias=False, background="w", foreground="#222222")
    sheet = RESOURCES_DIR / "style.qss"
    if sheet.exists():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
    icon = RESOURCES_DIR / "icons" / "app.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def icon(name: str):
    """QIcon of ``resources/icons/<name>.svg`` (an empty icon if it is missing)."""
    from PySide6.QtGui import QIcon

    path = RESOURCES_DIR / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
