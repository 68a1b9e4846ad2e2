"""Test-wide setup. Qt aborts the process without a display unless the offscreen
platform is chosen before anything imports Qt, so it is set here, first."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402  (after the environment is set)


@pytest.fixture(scope="session")
def torch():
    """PyTorch as a test oracle. CI sets NNSTUDIO_REQUIRE_TORCH so that a missing torch
    fails the run instead of silently skipping the oracle tests."""
    if os.environ.get("NNSTUDIO_REQUIRE_TORCH"):
        import torch as torch_module

        return torch_module
    return pytest.importorskip("torch")


@pytest.fixture
def forget_custom_layers():
    """Custom layers register globally (types and their source files): leave both
    registries as the test found them."""
    from nnstudio.engine import LAYER_TYPES, custom_layers

    types, sources = dict(LAYER_TYPES), dict(custom_layers._SOURCES)
    yield
    LAYER_TYPES.clear()
    LAYER_TYPES.update(types)
    custom_layers._SOURCES.clear()
    custom_layers._SOURCES.update(sources)
