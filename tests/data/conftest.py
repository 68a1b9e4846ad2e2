"""Helpers for the data tests: writing small CSV files."""
from pathlib import Path

import pytest


@pytest.fixture
def write_csv(tmp_path):
    """Write text (or bytes) to a CSV file in a temporary folder and return its path."""

    def write(content, name: str = "data.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return write
