"""Shared fixtures for user-code tests: registered layers are forgotten after each test."""
import sys

import pytest



@pytest.fixture(autouse=True)
def _forget_registered_layers(forget_custom_layers):
    modules = set(sys.modules)
    yield
    for name in set(sys.modules) - modules:  # cs231n packages imported by a test
        if name.split(".")[0] in ("cs231n", "pkg"):
            del sys.modules[name]
