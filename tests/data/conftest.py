"""Helpers for the data tests: writing small CSV files and loading them."""
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


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


@pytest.fixture
def small_pieces(monkeypatch):
    """Make the reader cut files into 4 KB pieces and its sniffer read only 4 KB,
    so that small test files exercise the multi-piece, multi-thread path."""
    import nnstudio.data.pieces as pieces
    import nnstudio.data.sniff as sniff

    monkeypatch.setattr(pieces, "PIECE_BYTES", 4096)
    monkeypatch.setattr(sniff, "HEAD_BYTES", 4096)
