"""Cut a CSV file into pieces, parse them in a thread pool, hand them back in order.

Pieces of about :data:`PIECE_BYTES` end at record boundaries and are parsed by a
few threads (pandas' tokenizer and number conversion release the GIL), so a
large file loads about as fast as one ``pandas.read_csv`` call while the caller
still gets ``progress`` reports and a ``cancel`` check between pieces.
"""
from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from .errors import Cancelled, DataError, data_error
from .reader import PieceProblem, PieceResult, parse_piece, walk_records
from .sniff import CsvFormat

PIECE_BYTES = 4 * 2**20
MAX_WORKERS = 4
#: Budget of pieces x columns. pandas spends a fixed time per column of every
#: parse, so wide files get fewer, larger pieces (a 5000-column file: one piece).
COLUMN_PIECES = 2000


def piece_size(fmt: CsvFormat) -> int:
    """Bytes per piece: :data:`PIECE_BYTES`, or more for wide files (see COLUMN_PIECES)."""
    data_bytes = fmt.size - fmt.data_start
    return max(PIECE_BYTES, -(-data_bytes * len(fmt.names) // COLUMN_PIECES))


def default_workers() -> int:
    """Threads to parse with: the CPUs this process may use, at most :data:`MAX_WORKERS`."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, available))


def iter_pieces(fmt: CsvFormat, text_columns: frozenset[str] | None, target: str | None, *,
                progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None,
                piece_bytes: int | None = None, workers: int | None = None,
                ) -> Iterator[PieceResult]:
    """Yield the file's data region as :class:`PieceResult` objects, in file order.

    Parameters
    ----------
    fmt : CsvFormat
        How the file is written (from :func:`nnstudio.data.sniff.sniff`).
    text_columns : frozenset of str or None
        Columns to keep as text in every piece (those that hold text in the
        sample), so that a column is not numbers in one piece and text in another.
    target : str or None
        Target column, whose distinct numbers are collected for task inference.
    progress : callable(float) or None
        Told the fraction of the data region parsed so far after each piece.
    cancel : callable() -> bool or None
        Polled between pieces; when it returns True, :class:`Cancelled` is raised.
    piece_bytes, workers : int, optional
        Piece size (default :func:`piece_size`) and threads (default
        :func:`default_workers`).

    Raises
    ------
    DataError
        A problem in the file, with file-wide row and line numbers.
    Cancelled
        When ``cancel()`` returned True.
    """
    if fmt.sample_is_whole_file:
        yield _finish(fmt, fmt.data_start, fmt.sample, 0, lambda: parse_piece(
            fmt.sample, fmt, None, target))
        return
    workers = workers or default_workers()
    with open(fmt.path, "rb") as handle, ThreadPoolExecutor(workers) as pool:
        queue = _InOrder(fmt, progress)
        try:
            size = piece_bytes or piece_size(fmt)
            for start, data in _byte_pieces(handle, fmt.data_start, size):
                _poll(cancel)
                queue.add(start, data, pool.submit(parse_piece, data, fmt, text_columns, target))
                # Keep a few pieces in flight: enough to use every thread, few
                # enough that memory holds only a handful of pandas frames.
                while len(queue) > workers or queue.first_done():
                    yield queue.pop()
            while len(queue):
                _poll(cancel)
                yield queue.pop()
        finally:
            queue.cancel()


class _InOrder:
    """Pieces being parsed, handed back in file order with their row offsets."""

    def __init__(self, fmt: CsvFormat, progress: Callable[[float], None] | None) -> None:
        self.fmt, self.progress = fmt, progress
        self.pending: deque = deque()
        self.rows = 0

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, start: int, data: bytes, future) -> None:
        self.pending.append((start, data, future))

    def first_done(self) -> bool:
        return bool(self.pending) and self.pending[0][2].done()

    def pop(self) -> PieceResult:
        """Wait for the oldest piece; raise its problem as a DataError, report progress."""
        start, data, future = self.pending.popleft()
        piece = _finish(self.fmt, start, data, self.rows, future.result)
        self.rows += piece.n_rows
        done = start + len(data) - self.fmt.data_start
        _report(self.progress, done / max(1, self.fmt.size - self.fmt.data_start))
        return piece

    def cancel(self) -> None:
        for *_, future in self.pending:
            future.cancel()


def _finish(fmt: CsvFormat, start: int, data: bytes, rows_before: int,
            result: Callable[[], PieceResult]) -> PieceResult:
    """Run ``result()`` and stamp the piece's place; turn a PieceProblem into a DataError."""
    try:
        piece = result()
    except PieceProblem as problem:
        raise located_error(fmt, problem, start, data, rows_before) from None
    piece.start, piece.length, piece.first_row = start, len(data), rows_before
    return piece


def located_error(fmt: CsvFormat, problem: PieceProblem, start: int, data: bytes,
                  rows_before: int) -> DataError:
    """A DataError with the file-wide row and line of a problem found in one piece."""
    lines_before = fmt.lines_before_data + count_newlines(fmt.path, fmt.data_start, start)
    row = line = None
    if problem.record is not None:
        row = rows_before + problem.record + 1
        found = walk_records(data, fmt.delimiter, problem.record)
        line = lines_before + (found[1] if found else problem.record + 1)
    elif problem.line is not None:
        line = lines_before + problem.line
    return data_error(problem.problem, path=fmt.path, row=row, line=line,
                      column=problem.column, value=problem.value, hint=problem.hint)


def piece_error(fmt: CsvFormat, piece: PieceResult, record: int, problem: str, *,
                column: str | None = None, value: object | None = None,
                hint: str | None = None) -> DataError:
    """A DataError about ``record`` (0-based) of an already parsed piece."""
    with open(fmt.path, "rb") as handle:
        handle.seek(piece.start)
        data = handle.read(piece.length)
    found = PieceProblem(problem, record=record, column=column,
                         value=None if value is None else str(value), hint=hint)
    return located_error(fmt, found, piece.start, data, piece.first_row)


def count_newlines(path: str, start: int, stop: int) -> int:
    """Number of newline bytes in ``path[start:stop]`` (used only to report errors)."""
    count = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        while start < stop:
            block = handle.read(min(1 << 20, stop - start))
            if not block:
                break
            count += block.count(b"\n")
            start += len(block)
    return count


def _byte_pieces(handle, start: int, piece_bytes: int) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, bytes) runs of complete records from ``start`` to the end of file.

    The end of each run is found first (the newline after ``piece_bytes``, moved
    on while the run holds an odd number of quotes, i.e. ends inside a quoted
    value), then the run is read in one call: no joining or slicing of big buffers
    on the reading thread, which holds the GIL the parsing threads also need.
    """
    size = handle.seek(0, io.SEEK_END)
    while start < size:
        end = _line_end(handle, min(size, start + piece_bytes), size)
        handle.seek(start)
        data = handle.read(end - start)
        while end < size and b'"' in data and data.count(b'"') % 2:
            grown = _line_end(handle, end + 1, size)
            handle.seek(end)
            data += handle.read(grown - end)
            end = grown
        yield start, data
        start = end


def _line_end(handle, position: int, size: int) -> int:
    """Offset just past the first newline at or after ``position`` (``size`` if none)."""
    while position < size:
        handle.seek(position)
        window = handle.read(1 << 16)
        newline = window.find(b"\n")
        if newline >= 0:
            return position + newline + 1
        position += len(window)
    return size


def _poll(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("loading was cancelled")


def _report(progress: Callable[[float], None] | None, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, fraction)))
