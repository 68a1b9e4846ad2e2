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


def use_small_pieces(monkeypatch, size: int = 4096) -> None:
    """Make the reader use chunks and streams of ``size`` bytes and sniff only that much,
    so that small test files exercise the multi-stream, multi-chunk path."""
    import nnstudio.data.pieces as pieces
    import nnstudio.data.sniff as sniff

    monkeypatch.setattr(pieces, "CHUNK_BYTES", size)
    monkeypatch.setattr(pieces, "MIN_STREAM_BYTES", size)
    monkeypatch.setattr(pieces, "MAX_WORKERS", 3)
    monkeypatch.setattr(pieces, "default_workers", lambda: 3)
    monkeypatch.setattr(sniff, "HEAD_BYTES", size)


@pytest.fixture
def small_pieces(monkeypatch):
    """See :func:`use_small_pieces`."""
    use_small_pieces(monkeypatch)
