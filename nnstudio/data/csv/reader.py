"""Parse one piece of a CSV file's data region with pandas' C engine and convert it.

A piece is a run of complete records (see :mod:`nnstudio.data.csv.pieces` for how a
file is cut). Each piece becomes a :class:`~nnstudio.data.columns.PieceResult` right
away: numbers as one float32 block, text as integer codes; the pandas frame is dropped,
so memory stays near the size of the float32 data.
"""
from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from ..columns import MAX_CLASSES, PieceResult
from ..errors import PieceProblem
from ..options import MISSING_TOKENS
from .sniff import ENCODING_HINT, CsvFormat, bad_byte_problem

#: What pandas raises for malformed text (turned into PieceProblem by parser_problem).
PARSER_ERRORS = (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError)
_EXPECTED_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def read_options(fmt: CsvFormat, text_columns: frozenset[str] | None) -> dict:
    """Keyword arguments of ``pandas.read_csv`` for the data region (no header).

    Columns in ``text_columns`` are kept as text (categorical); the rest get
    pandas' inference. Every record is one row: blank lines become rows of
    missing values, so row numbers match records in the file.
    """
    dtype = {name: "category" for name in text_columns} if text_columns else None
    return dict(sep=fmt.delimiter, decimal=fmt.decimal, header=None, names=list(fmt.names),
                index_col=False, dtype=dtype, engine="c", na_values=list(MISSING_TOKENS),
                keep_default_na=False, skip_blank_lines=False, quotechar='"')


def parse_bytes(data: bytes, fmt: CsvFormat, text_columns: frozenset[str] | None) -> pd.DataFrame:
    """Parse complete records (UTF-8, no header) into a frame with ``fmt.names`` columns."""
    return pd.read_csv(io.BytesIO(data), low_memory=False, encoding="utf-8",
                       **read_options(fmt, text_columns))


def parse_frame(data: bytes, fmt: CsvFormat,
                text_columns: frozenset[str] | None) -> tuple[pd.DataFrame, bytes]:
    """Parse complete records into a frame; returns it with the UTF-8 bytes parsed.

    Raises
    ------
    PieceProblem
        Undecodable bytes, a record with too many fields, an unclosed quote.
    """
    if fmt.encoding != "utf-8":
        data = _transcode(data, fmt)
    check_first_record(data, fmt)
    try:
        return parse_bytes(data, fmt, text_columns), data
    except UnicodeDecodeError:
        raise _undecodable_problem(data, "utf-8", fmt) from None
    except PARSER_ERRORS as exc:
        raise parser_problem(exc) from None


def parse_piece(data: bytes, fmt: CsvFormat, text_columns: frozenset[str] | None,
                target: str | None) -> PieceResult:
    """Parse and convert one piece of complete records.

    Raises
    ------
    PieceProblem
        As :func:`parse_frame`, and for an infinite number; positions relative
        to the piece.
    """
    frame, _ = parse_frame(data, fmt, text_columns)
    return convert_checked(frame, target)


def convert_checked(frame: pd.DataFrame, target: str | None) -> PieceResult:
    """:func:`convert_frame`, raising PieceProblem for the first infinite number."""
    result = convert_frame(frame, target)
    infinite = find_infinite(result)
    if infinite is not None:
        problem, hint = infinite_problem("inf")
        raise PieceProblem(problem, record=infinite[0], column=infinite[1], hint=hint,
                           describe=infinite_problem)
    return result


def convert_frame(frame: pd.DataFrame, target: str | None = None) -> PieceResult:
    """Turn a parsed frame into a :class:`PieceResult` (see there for the layout).

    Numeric columns (not bool) go into the float32 block; everything else is
    text, coded per piece. Categorical columns keep their categories.
    """
    numeric, text = [], {}
    for name, dtype in frame.dtypes.items():  # one pass over dtypes: no Series per column
        if isinstance(dtype, pd.CategoricalDtype):
            column = frame[name]
            text[name] = (column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories])
        elif dtype.kind in "iuf":
            numeric.append(name)
        else:  # text, bool, or anything else pandas inferred: coded as text
            codes, labels = pd.factorize(frame[name], use_na_sentinel=True)
            text[name] = (codes.astype(np.int32), [str(u) for u in labels])
    with np.errstate(over="ignore", invalid="ignore"):
        block = (frame[numeric].to_numpy(dtype=np.float32) if numeric
                 else np.empty((len(frame), 0), np.float32))
    # pandas hands numbers back column-major, where the per-column statistics
    # are several times faster; rows are later gathered by split, which is
    # several times faster from a row-major copy, so the block is stored so.
    result = _numeric_stats(block, [str(n) for n in numeric])
    result.block = np.ascontiguousarray(block)
    result.text = {str(name): value for name, value in text.items()}
    if target in result.numeric:
        values = block[:, result.numeric.index(target)]
        uniques = np.unique(values[~np.isnan(values)])
        result.target_uniques = uniques if len(uniques) <= MAX_CLASSES else None
    return result


def _transcode(data: bytes, fmt: CsvFormat) -> bytes:
    """Re-encode a piece in UTF-8, the only encoding handed to the parser."""
    try:
        return data.decode(fmt.encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise _undecodable_problem(data, fmt.encoding, fmt) from None


def _undecodable_problem(data: bytes, encoding: str, fmt: CsvFormat) -> PieceProblem:
    """PieceProblem naming the line, column and cell of the first byte that is not valid text."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        problem, line, column, value = bad_byte_problem(data, exc.start, encoding,
                                                        fmt.delimiter, fmt.names)
        return PieceProblem(problem, line=line, column=column, value=value, hint=ENCODING_HINT)
    return PieceProblem("the parser could not decode the text as UTF-8", hint=ENCODING_HINT)


def check_first_record(data: bytes, fmt: CsvFormat) -> None:
    """Reject a first record wider than the header.

    pandas reports wider records as errors, except the first one of a buffer,
    whose extra fields it would silently drop; so that one is checked here.
    """
    end = data.find(b"\n", 0, 1 << 20)
    head = data[:1 << 20] if end < 0 or b'"' in data[:end] else data[:end + 1]
    found = walk_records(head, fmt.delimiter, 0)
    if found is not None and len(found[0]) > len(fmt.names):
        raise PieceProblem(too_many_fields(len(found[0]), len(fmt.names)), record=0,
                           hint=_FIELDS_HINT)


_FIELDS_HINT = ("Check for a delimiter inside a value that is not quoted, "
                "or an extra delimiter at the end of the line")


def too_many_fields(seen: int, expected: int) -> str:
    """The problem text for a record with more fields than there are columns."""
    return f"this row has {seen} fields but the file has {expected} columns"


def parser_problem(exc: Exception) -> PieceProblem:
    """Translate a pandas parser exception into a PieceProblem with its position."""
    message = str(exc)
    fields = _EXPECTED_FIELDS.search(message)
    if fields:
        expected, record, seen = (int(g) for g in fields.groups())
        return PieceProblem(too_many_fields(seen, expected), record=record - 1, hint=_FIELDS_HINT)
    quote = _OPEN_QUOTE.search(message)
    if quote:
        problem = PieceProblem("a quoted value starts here but its closing quote (\") is missing",
                               record=int(quote.group(1)),
                               hint='Close the quote, or double quotes inside a value ("")')
        problem.open_quote = True
        return problem
    if isinstance(exc, pd.errors.EmptyDataError):
        return PieceProblem("no columns could be read")
    return PieceProblem(f"the CSV parser failed: {message}")


def _numeric_stats(block: np.ndarray, numeric: list[str]) -> PieceResult:
    """Per-column missing counts, range and row-counter check of a float32 block."""
    n_rows, width = block.shape
    if n_rows == 0:
        nan = np.full(width, np.nan)
        return PieceResult(0, numeric, block, np.zeros(width, np.int64), nan, nan, nan, {})
    # np.minimum propagates NaN, so one cheap pass tells which columns need counting.
    has_missing = np.isnan(np.minimum.reduce(block, axis=0))
    n_missing = np.zeros(width, np.int64)
    if has_missing.any():
        n_missing[has_missing] = np.isnan(block[:, has_missing]).sum(axis=0)
    vmin = np.fmin.reduce(block, axis=0).astype(np.float64)
    vmax = np.fmax.reduce(block, axis=0).astype(np.float64)
    counter_first = np.full(width, np.nan)
    # A column 0,1,2,... (a saved row index) says nothing about the target; cheap
    # rejection on the first two rows keeps this check off the hot path.
    with np.errstate(invalid="ignore"):  # inf - inf: such columns are rejected anyway
        steps = block[1, :] - block[0, :] == 1 if n_rows > 1 else np.ones(width, bool)
    for j in np.flatnonzero(steps & (n_missing == 0)):
        expected = block[0, j] + np.arange(n_rows, dtype=np.float32)
        if np.array_equal(block[:, j], expected):
            counter_first[j] = block[0, j]
    return PieceResult(n_rows, numeric, block, n_missing, vmin, vmax, counter_first, {})


def find_infinite(result: PieceResult) -> tuple[int, str] | None:
    """(record, column) of the first infinite value in the block, or None.

    Infinite values come from ``inf`` in the file or from numbers beyond the
    float32 range; either way training would only produce NaN from them.
    """
    bad = np.flatnonzero(np.isinf(result.vmin) | np.isinf(result.vmax))
    if not len(bad):
        return None
    j = int(bad[0])
    return int(np.flatnonzero(np.isinf(result.block[:, j]))[0]), result.numeric[j]


def infinite_problem(text: str) -> tuple[str, str]:
    """Problem and hint for an infinite cell, depending on what was written."""
    try:
        written = float(text.replace(",", "."))
    except ValueError:
        written = float("inf")
    if np.isinf(written):
        return ("infinite values are not accepted",
                "Replace it with a finite number, or leave the cell empty to mark it missing")
    return ("the number is beyond the float32 range (+-3.4e38)", "Rescale the column")


def walk_records(data: bytes, delimiter: str, record: int) -> tuple[list[str], int] | None:
    """Fields and 1-based starting line of the 0-based ``record`` within ``data``.

    Blank lines count as records, as they do for the parser (``skip_blank_lines=False``).
    Used only to report problems, so speed does not matter here.
    """
    text = data.decode("utf-8", errors="replace")
    return find_record(io.StringIO(text, newline=""), delimiter, record)


def find_record(text: io.TextIOBase, delimiter: str, record: int) -> tuple[list[str], int] | None:
    """Fields and 1-based starting line of the 0-based ``record`` of a text stream, or None."""
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    line = 1
    try:
        for index, fields in enumerate(reader):
            if index == record:
                return fields, line
            line = reader.line_num + 1
    except csv.Error:
        return None
    return None
