"""Shared fixtures for user-code tests: registered layers are forgotten after each test."""
import sys

import pytest

from nnstudio.engine import LAYER_TYPES


@pytest.fixture(autouse=True)
def _forget_registered_layers():
    before = dict(LAYER_TYPES)
    modules = set(sys.modules)
    yield
    LAYER_TYPES.clear()
    LAYER_TYPES.update(before)
    for name in set(sys.modules) - modules:  # cs231n packages imported by a test
        if name.split(".")[0] in ("cs231n", "pkg"):
            del sys.modules[name]
