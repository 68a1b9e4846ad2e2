"""Read a CSV file's data region in a few parallel streams of chunks, handed back in order.

The data region is cut at newlines into one stream per thread (a cut that falls
inside a quoted value is noticed and mended, see :class:`_InOrder`). Each thread
runs one chunked ``pandas.read_csv`` over its stream (one parser, whose buffers
are reused from chunk to chunk; pandas' tokenizer and number conversion release
the GIL) and converts every chunk right away (see :mod:`nnstudio.data.csv.reader`).
The calling thread takes the chunks in file order, reports ``progress`` and polls
``cancel`` while it waits.

The streams pay on two CPUs: ``bench/csv_load.py`` (1,000,000 rows x 21 columns, 171 MB)
loads in 0.39-0.42 s median with two streams against 0.60-0.67 s with one (three runs of
five, December 2026), so keep them unless that benchmark's "ratio ours / one stream" says
otherwise.
"""
from __future__ import annotations

import codecs
import io
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from ..columns import PieceResult
from ..errors import Cancelled, DataError, PieceProblem, data_error
from .locate import count_newlines, located_error
from .reader import (PARSER_ERRORS, check_first_record,
                     convert_checked, parse_piece, parser_problem, read_options)
from .sniff import ENCODING_HINT, CsvFormat, bad_byte_problem

CHUNK_BYTES = 16 * 2**20
MIN_STREAM_BYTES = 8 * 2**20
MAX_WORKERS = 4
#: Budget of chunks x columns. pandas spends a fixed time per column of every
#: chunk, so wide files get fewer, larger chunks (a 5000-column file: one chunk).
COLUMN_PIECES = 2000
_POLL_SECONDS = 0.05
_WIDE = 100  # columns from which pandas' low-memory batching is turned off
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
        How the file is written (from :func:`nnstudio.data.csv.sniff.sniff`).
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
    bounds = stream_bounds(fmt, max(1, min(workers, (fmt.size - fmt.data_start)
                                           // MIN_STREAM_BYTES)))
    streams = [_Stream(fmt, start, stop) for start, stop in zip(bounds, bounds[1:])]
    with ThreadPoolExecutor(len(streams)) as pool:
        def submit(stream: _Stream) -> None:
            pool.submit(stream.run, text_columns, target, rows or chunk_rows(fmt))

        for stream in streams:
            submit(stream)
        try:
            yield from _InOrder(fmt, streams, submit, progress, cancel).pieces()
        finally:
            for stream in streams:
                stream.stop.set()


class _InOrder:
    """Takes each stream's chunks in turn, numbers their rows, raises the first problem.

    Streams are cut at newlines without knowing whether a quoted value spans
    the cut. If it does, the stream before the cut ends inside quotes and the
    parser says so; that stream is then read again from its start to the end
    of the file as one stream (the rows already taken are skipped) and the
    later streams are dropped. Files without multi-line quoted values never
    pay for this.
    """

    def __init__(self, fmt: CsvFormat, streams: list["_Stream"], submit, progress, cancel):
        self.fmt, self.streams, self.submit = fmt, streams, submit
        self.progress, self.cancel, self.reported = progress, cancel, 0.0

    def pieces(self) -> Iterator[PieceResult]:
        rows, index = 0, 0
        while index < len(self.streams):
            stream, rows_before = self.streams[index], rows
            while True:
                item = _next(stream.sink, self.cancel)
                if item is _END:
                    break
                if isinstance(item, PieceProblem):
                    if item.open_quote and index + 1 < len(self.streams):
                        stream = self._read_on(index, rows - rows_before)
                        continue
                    raise located_error(self.fmt, item, stream.start, rows_before)
                if isinstance(item, _NulAt):  # its line is counted only if it is reported
                    raise nul_error(self.fmt, item.offset)
                if isinstance(item, BaseException):
                    raise item
                item.first_row = rows_before + item.stream_row
                rows += item.n_rows
                yield item
                self._report()
            index += 1

    def _read_on(self, index: int, rows_taken: int) -> "_Stream":
        """Replace streams ``index`` and later by one stream from there to the end."""
        for later in self.streams[index:]:
            later.stop.set()
        stream = _Stream(self.fmt, self.streams[index].start, self.fmt.size, skip_rows=rows_taken)
        self.streams[index:] = [stream]
        self.submit(stream)
        return stream

    def _report(self) -> None:
        if self.progress is not None:
            done = sum(s.consumed for s in self.streams)
            self.reported = max(self.reported, min(1.0, done / max(1, self.fmt.size -
                                                                    self.fmt.data_start)))
            self.progress(self.reported)


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
    the rest, to be raised by the calling thread in file order. The first
    ``skip_rows`` rows are parsed but not handed on.
    """

    def __init__(self, fmt: CsvFormat, start: int, stop: int, skip_rows: int = 0) -> None:
        self.fmt, self.start, self.end, self.skip_rows = fmt, start, stop, skip_rows
        self.range = _Range(fmt.path, start, stop)
        self.sink: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = threading.Event()

    @property
    def consumed(self) -> int:
        return self.range.position - self.start

    def run(self, text_columns, target, rows: int) -> None:
        # A NUL byte ends the stream where it is (see _Range); whatever the parser made
        # of the cut-off text, the NUL is the problem to report.
        try:
            self._parse(text_columns, target, rows)
            if self.range.nul_at is not None:
                self.sink.put(_NulAt(self.range.nul_at))
        except PieceProblem as problem:
            self.sink.put(self._nul_or(problem))
        except UnicodeDecodeError:
            self.sink.put(self._nul_or(undecodable_in(self.fmt, self.start, self.end)))
        except PARSER_ERRORS as exc:
            self.sink.put(self._nul_or(parser_problem(exc)))
        except BaseException as exc:  # a bug: hand it to the calling thread as it is
            self.sink.put(exc)
        finally:
            self.range.close()
            self.sink.put(_END)

    def _nul_or(self, problem):
        return problem if self.range.nul_at is None else _NulAt(self.range.nul_at)

    def _parse(self, text_columns, target, rows: int) -> None:
        with open(self.fmt.path, "rb") as handle:
            handle.seek(self.start)
            check_first_record(handle.read(min(1 << 16, self.end - self.start)), self.fmt)
        options = read_options(self.fmt, text_columns)
        row = 0
        stream = io.BufferedReader(self.range, 1 << 20)
        # pandas' low-memory mode parses a chunk in batches of rows, about 2**18
        # cells each; with thousands of columns those batches are a few rows and
        # the per-column cost of each batch dominates, so wide files skip it.
        low_memory = len(self.fmt.names) <= _WIDE
        with pd.read_csv(stream, chunksize=rows, encoding=self.fmt.encoding,
                         low_memory=low_memory, **options) as chunks:
            for frame in chunks:
                if self.stop.is_set():
                    return
                if row + len(frame) <= self.skip_rows:  # taken from an earlier attempt
                    row += len(frame)
                    continue
                if row < self.skip_rows:
                    frame = frame.iloc[self.skip_rows - row:]
                    row = self.skip_rows
                try:
                    piece = convert_checked(frame, target)
                except PieceProblem as problem:
                    assert problem.record is not None  # problems inside a piece name their record
                    problem.record += row
                    raise
                piece.start, piece.stream_row = self.start, row
                row += piece.n_rows
                self.sink.put(piece)


class _Range(io.RawIOBase):
    """Bytes ``[start, stop)`` of a file as a readable stream, ending at a NUL byte.

    Text files hold no NUL; a run of them (a sparse or damaged file) would be parsed
    into gigabytes of nonsense, so the stream ends before the first one and
    ``nul_at`` says where it is. The check runs on every block the parser reads.
    """

    def __init__(self, path: str, start: int, stop: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)
        self._file.seek(start)
        self.position, self.stop = start, stop
        self.nul_at: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.stop - self.position)
        if size <= 0:
            return 0
        view = memoryview(buffer)[:size]
        got = self._file.readinto(view) or 0
        nul = view[:got].tobytes().find(b"\x00") if got else -1
        if nul >= 0:
            self.nul_at, self.stop, got = self.position + nul, self.position + nul, nul
        self.position += got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def stream_bounds(fmt: CsvFormat, count: int) -> list[int]:
    """Offsets cutting the data region into ``count`` streams, each after a newline.

    A cut may fall inside a quoted value that spans lines; the reader notices
    and reads on (see :class:`_InOrder`).
    """
    bounds = [fmt.data_start]
    with open(fmt.path, "rb") as handle:
        for k in range(1, count):
            nominal = fmt.data_start + (fmt.size - fmt.data_start) * k // count
            cut = _line_end(handle, max(nominal, bounds[-1] + 1), fmt.size)
            if cut < fmt.size:
                bounds.append(cut)
    return bounds + [fmt.size]


def _line_end(handle, position: int, size: int) -> int:
    """Offset just past the first newline at or after ``position`` (``size`` if none)."""
    while position < size:
        handle.seek(position)
        window = handle.read(1 << 16)
        newline = window.find(b"\n")
        nul = window.find(b"\x00", 0, None if newline < 0 else newline)
        if nul >= 0:  # a run of NULs: cut at it, the stream from there reports it at once
            return position + nul
        if newline >= 0:
            return position + newline + 1
        position += len(window)
    return size


class _NulAt:
    """A stream met a NUL byte at ``offset``."""

    def __init__(self, offset: int) -> None:
        self.offset = offset


def nul_error(fmt: CsvFormat, offset: int) -> DataError:
    """DataError for a NUL byte at ``offset``: the file is binary or damaged there."""
    return data_error(f"byte {offset} is a NUL (0x00): this part of the file is binary "
                      "(or zeroed) data, not CSV text", path=fmt.path,
                      line=count_newlines(fmt.path, 0, offset) + 1,
                      hint="Repair or re-export the file as CSV text")


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
