"""Read a CSV file's data region in a few parallel streams of chunks, handed back in order.

The data region is cut at record boundaries into one stream per thread. Each
thread runs one chunked ``pandas.read_csv`` over its stream (one parser, whose
buffers are reused from chunk to chunk; pandas' tokenizer and number conversion
release the GIL) and converts every chunk right away (see
:mod:`nnstudio.data.reader`). The calling thread takes the chunks in file order,
reports ``progress`` and polls ``cancel`` while it waits.
"""
from __future__ import annotations

import codecs
import io
import mmap
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .errors import Cancelled, DataError, data_error
from .locate import count_newlines, located_error
from .reader import (PARSER_ERRORS, PieceProblem, PieceResult, check_first_record,
                     convert_checked, parse_piece, parser_problem, read_options)
from .sniff import ENCODING_HINT, CsvFormat, bad_byte_problem

CHUNK_BYTES = 16 * 2**20
MIN_STREAM_BYTES = 8 * 2**20
MAX_WORKERS = 4
#: Budget of chunks x columns. pandas spends a fixed time per column of every
#: chunk, so wide files get fewer, larger chunks (a 5000-column file: one chunk).
COLUMN_PIECES = 2000
_POLL_SECONDS = 0.05
_END = object()


def default_workers() -> int:
    """Threads to parse with: the CPUs this process may use, at most :data:`MAX_WORKERS`."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, available))


def chunk_bytes(fmt: CsvFormat) -> int:
    """Text per chunk: :data:`CHUNK_BYTES`, or more for wide files (see COLUMN_PIECES)."""
    data_bytes = fmt.size - fmt.data_start
    return max(CHUNK_BYTES, -(-data_bytes * len(fmt.names) // COLUMN_PIECES))


def chunk_rows(fmt: CsvFormat) -> int:
    """Rows per chunk, from the size of the rows in the sample."""
    bytes_per_row = max(1, len(fmt.sample) // max(1, fmt.sample.count(b"\n")))
    return max(1, chunk_bytes(fmt) // bytes_per_row)


def iter_pieces(fmt: CsvFormat, text_columns: frozenset[str] | None, target: str | None, *,
                progress: Callable[[float], None] | None = None,
                cancel: Callable[[], bool] | None = None,
                rows: int | None = None, workers: int | None = None,
                ) -> Iterator[PieceResult]:
    """Yield the file's data region as :class:`PieceResult` chunks, in file order.

    Parameters
    ----------
    fmt : CsvFormat
        How the file is written (from :func:`nnstudio.data.sniff.sniff`).
    text_columns : frozenset of str or None
        Columns to keep as text in every chunk (those that hold text in the
        sample), so that a column is not numbers in one chunk and text in another.
    target : str or None
        Target column, whose distinct numbers are collected for task inference.
    progress : callable(float) or None
        Told the fraction of the data region parsed so far, as chunks arrive.
    cancel : callable() -> bool or None
        Polled while waiting for chunks; when it returns True, :class:`Cancelled`
        is raised and the threads stop after their current chunk.
    rows, workers : int, optional
        Rows per chunk (default :func:`chunk_rows`) and threads (default
        :func:`default_workers`), which is also the number of streams.

    Raises
    ------
    DataError
        The first problem in file order, with file-wide row and line numbers.
    Cancelled
        When ``cancel()`` returned True.
    """
    if fmt.sample_is_whole_file:
        try:
            piece = parse_piece(fmt.sample, fmt, None, target)
        except PieceProblem as problem:
            raise located_error(fmt, problem, fmt.data_start, 0) from None
        piece.start = fmt.data_start
        yield piece
        return
    workers = workers or default_workers()
    data_bytes = fmt.size - fmt.data_start
    bounds = stream_bounds(fmt, max(1, min(workers, data_bytes // MIN_STREAM_BYTES)))
    streams = [_Stream(fmt, start, stop) for start, stop in zip(bounds, bounds[1:])]
    stop = threading.Event()
    with ThreadPoolExecutor(len(streams)) as pool:
        for stream in streams:
            pool.submit(stream.run, text_columns, target, rows or chunk_rows(fmt), stop)
        try:
            yield from _in_order(fmt, streams, progress, cancel)
        finally:
            stop.set()


def _in_order(fmt: CsvFormat, streams: list["_Stream"], progress, cancel
              ) -> Iterator[PieceResult]:
    """Take each stream's chunks in turn; number their rows; raise the first problem."""
    rows = 0
    for stream in streams:
        rows_before = rows
        while True:
            item = _next(stream.sink, cancel)
            if item is _END:
                break
            if isinstance(item, PieceProblem):
                raise located_error(fmt, item, stream.start, rows_before)
            if isinstance(item, BaseException):
                raise item
            item.first_row = rows_before + item.stream_row
            rows += item.n_rows
            yield item
            if progress is not None:
                done = sum(s.consumed for s in streams)
                progress(min(1.0, done / max(1, fmt.size - fmt.data_start)))


def _next(sink: queue.SimpleQueue, cancel: Callable[[], bool] | None):
    """The next item of a stream, polling ``cancel`` while waiting."""
    while True:
        if cancel is not None and cancel():
            raise Cancelled("loading was cancelled")
        try:
            return sink.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue


class _Stream:
    """One thread's share of the file: bytes ``[start, stop)``, parsed chunk by chunk.

    Chunks, then :data:`_END`, go to ``sink``; a problem goes there instead of
    the rest, to be raised by the calling thread in file order.
    """

    def __init__(self, fmt: CsvFormat, start: int, stop: int) -> None:
        self.fmt, self.start, self.stop = fmt, start, stop
        self.sink: queue.SimpleQueue = queue.SimpleQueue()
        self.consumed = 0

    def run(self, text_columns, target, rows: int, stop: threading.Event) -> None:
        try:
            self._parse(text_columns, target, rows, stop)
        except PieceProblem as problem:
            self.sink.put(problem)
        except UnicodeDecodeError:
            self.sink.put(undecodable_in(self.fmt, self.start, self.stop))
        except PARSER_ERRORS as exc:
            self.sink.put(parser_problem(exc))
        except BaseException as exc:  # a bug: hand it to the calling thread as it is
            self.sink.put(exc)
        finally:
            self.sink.put(_END)

    def _parse(self, text_columns, target, rows: int, stop: threading.Event) -> None:
        with open(self.fmt.path, "rb") as handle:
            handle.seek(self.start)
            check_first_record(handle.read(min(1 << 16, self.stop - self.start)), self.fmt)
        raw = _Range(self.fmt.path, self.start, self.stop)
        options = read_options(self.fmt, text_columns)
        row = 0
        with io.BufferedReader(raw, 1 << 20) as stream, pd.read_csv(
                stream, chunksize=rows, encoding=self.fmt.encoding, **options) as chunks:
            for frame in chunks:
                if stop.is_set():
                    return
                try:
                    piece = convert_checked(frame, target)
                except PieceProblem as problem:
                    problem.record += row
                    raise
                piece.start, piece.stream_row = self.start, row
                row += piece.n_rows
                self.consumed = (self.stop - self.start) - raw.left
                self.sink.put(piece)


class _Range(io.RawIOBase):
    """Bytes ``[start, stop)`` of a file as a readable stream."""

    def __init__(self, path: str, start: int, stop: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)
        self._file.seek(start)
        self.left = stop - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.left)
        if size <= 0:
            return 0
        got = self._file.readinto(memoryview(buffer)[:size]) or 0
        self.left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def stream_bounds(fmt: CsvFormat, count: int) -> list[int]:
    """Offsets cutting the data region into ``count`` streams at record boundaries.

    A cut goes after a newline; when quotes occur, it moves on to later newlines
    until the quotes before it are even in number (it is then outside any quoted
    value, a doubled quote counting twice).
    """
    bounds = [fmt.data_start]
    if count > 1:
        with open(fmt.path, "rb") as handle:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            try:
                # Quotes after the last cut cannot move any cut: look no further.
                last = fmt.data_start + (fmt.size - fmt.data_start) * (count - 1) // count
                quoted = view.find(b'"', fmt.data_start, _line_end(view, last, fmt.size)) >= 0
                for k in range(1, count):
                    nominal = fmt.data_start + (fmt.size - fmt.data_start) * k // count
                    cut = _line_end(view, max(nominal, bounds[-1]), fmt.size)
                    if quoted:
                        cut = _outside_quotes(view, bounds[-1], cut, fmt.size)
                    if bounds[-1] < cut < fmt.size:
                        bounds.append(cut)
            finally:
                view.close()
    return bounds + [fmt.size]


def _line_end(view: mmap.mmap, position: int, size: int) -> int:
    """Offset just past the first newline at or after ``position`` (``size`` if none)."""
    newline = view.find(b"\n", position)
    return size if newline < 0 else newline + 1


def _outside_quotes(view: mmap.mmap, start: int, cut: int, size: int) -> int:
    """Move ``cut`` to later line ends until ``[start, cut)`` holds an even number of quotes."""
    quotes = _count_quotes(view, start, cut)
    while quotes % 2 and cut < size:
        following = _line_end(view, cut, size)
        quotes += _count_quotes(view, cut, following)
        cut = following
    return cut


def _count_quotes(view: mmap.mmap, start: int, stop: int) -> int:
    if stop <= start:
        return 0
    data = np.frombuffer(view, dtype=np.uint8, count=stop - start, offset=start)
    try:
        return int(np.count_nonzero(data == ord('"')))
    finally:
        del data  # the mmap cannot close while a view of it exists


def undecodable_in(fmt: CsvFormat, start: int, stop: int) -> DataError:
    """DataError naming the line, column and cell of the first byte in ``[start, stop)``
    that is not valid text (the parser's error does not say where it is)."""
    decoder = codecs.getincrementaldecoder(fmt.encoding)()
    with open(fmt.path, "rb") as handle:
        handle.seek(start)
        position = start
        while position < stop:
            block = handle.read(min(1 << 20, stop - position))
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the last block
            try:
                decoder.decode(block, final=position + len(block) >= stop)
            except UnicodeDecodeError as exc:
                offset = position - pending + exc.start
                handle.seek(max(start, offset - (1 << 16)))
                window = handle.read(1 << 17)
                local = offset - max(start, offset - (1 << 16))
                problem, line, column, value = bad_byte_problem(
                    window, local, fmt.encoding, fmt.delimiter, fmt.names)
                return data_error(problem, path=fmt.path, column=column, value=value,
                                  line=count_newlines(fmt.path, 0, offset) + 1,
                                  hint=ENCODING_HINT)
            position += len(block)
    return data_error(f"the text is not valid {fmt.encoding.upper()}", path=fmt.path,
                      hint=ENCODING_HINT)
