"""Test-wide setup. Qt aborts the process without a display unless the offscreen
platform is chosen before anything imports Qt, so it is set here, first."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
