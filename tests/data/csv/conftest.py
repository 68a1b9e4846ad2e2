"""Helpers for the CSV reader's tests: the corpus of files, and small pieces."""
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


def use_small_pieces(monkeypatch, size: int = 4096) -> None:
    """Make the reader use chunks and streams of ``size`` bytes and sniff only that much,
    so that small test files exercise the multi-stream, multi-chunk path."""
    import nnstudio.data.csv.pieces as pieces
    import nnstudio.data.csv.sniff as sniff

    monkeypatch.setattr(pieces, "CHUNK_BYTES", size)
    monkeypatch.setattr(pieces, "MIN_STREAM_BYTES", size)
    monkeypatch.setattr(pieces, "MAX_WORKERS", 3)
    monkeypatch.setattr(pieces, "default_workers", lambda: 3)
    monkeypatch.setattr(sniff, "HEAD_BYTES", size)


@pytest.fixture
def small_pieces(monkeypatch):
    """See :func:`use_small_pieces`."""
    use_small_pieces(monkeypatch)
