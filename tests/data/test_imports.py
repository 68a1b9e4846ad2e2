"""nnstudio.data stays free of Qt: the engine and the CLI use it headless."""
import subprocess
import sys


def test_importing_data_loads_no_gui_module():
    code = ("import sys, nnstudio.data\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'superqt') or m.startswith('nnstudio.gui')]\n"
            "print(bad)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
