"""tools/build_example_project.py builds the guided example that ships in resources/."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from nnstudio.gui.gradcheck.example import EXAMPLE_PROJECT
from nnstudio.project import load_project

TOOL = Path(__file__).resolve().parents[2] / "tools" / "build_example_project.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("build_example_project", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tool_builds_the_shipped_example_apart_from_the_trained_values(tmp_path):
    written = load_tool().main([str(tmp_path / "example.nnproj"), "--epochs", "2"])
    assert written == 0
    built, shipped = load_project(tmp_path / "example.nnproj"), load_project(EXAMPLE_PROJECT)
    assert ([(layer.type_name, layer.config()) for layer in built.network.layers]
            == [(layer.type_name, layer.config()) for layer in shipped.network.layers])
    assert built.description == shipped.description
    for field in ("kind", "source", "sizes"):
        assert getattr(built.data_source, field) == getattr(shipped.data_source, field)
    assert built.dataset.n_train == shipped.dataset.n_train
    assert len(built.history) == 2
