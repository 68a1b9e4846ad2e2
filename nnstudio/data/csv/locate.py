"""Turn a position found while parsing into a DataError naming row, line, column and cell.

Only used when something is wrong, so it may re-read part of the file: the csv
module walks the records from the start of the stream that was parsed, which
gives the exact line even when quoted values span several lines.
"""
from __future__ import annotations

import io

from ..columns import PieceResult
from ..errors import DataError, PieceProblem, data_error
from .reader import find_record
from .sniff import CsvFormat


def located_error(fmt: CsvFormat, problem: PieceProblem, stream_start: int,
                  rows_before: int) -> DataError:
    """A DataError for a problem whose record/line count from byte ``stream_start``.

    ``rows_before`` is the number of data rows in the file before that byte.
    """
    lines_before = fmt.lines_before_data + count_newlines(fmt.path, fmt.data_start, stream_start)
    row = line = None
    value, text, wording = problem.value, None, (problem.problem, problem.hint)
    if problem.record is not None:
        row = rows_before + problem.record + 1
        found = walk_file_records(fmt, stream_start, problem.record)
        if found is not None:
            fields, line = found[0], lines_before + found[1]
            j = fmt.names.index(problem.column) if problem.column in fmt.names else None
            text = fields[j] if j is not None and j < len(fields) else None
    elif problem.line is not None:
        line = lines_before + problem.line
    if value is None and text is not None:
        value = text
        if problem.describe is not None:
            wording = problem.describe(text)
    return data_error(wording[0], path=fmt.path, row=row, line=line, column=problem.column,
                      value=value, hint=wording[1])


def piece_error(fmt: CsvFormat, piece: PieceResult, record: int, problem: str, *,
                column: str | None = None, value: object | None = None,
                hint: str | None = None) -> DataError:
    """A DataError about ``record`` (0-based, within the piece) of an already parsed piece."""
    found = PieceProblem(problem, record=piece.stream_row + record, column=column,
                         value=None if value is None else str(value), hint=hint)
    return located_error(fmt, found, piece.start, piece.first_row - piece.stream_row)


def walk_file_records(fmt: CsvFormat, start: int, record: int) -> tuple[list[str], int] | None:
    """Fields and 1-based line (counted from ``start``) of the 0-based ``record`` there.

    Blank lines count as records, as they do for the parser (``skip_blank_lines=False``).
    """
    with open(fmt.path, "rb") as raw:
        raw.seek(start)
        text = io.TextIOWrapper(raw, encoding=fmt.encoding, errors="replace", newline="")
        return find_record(text, fmt.delimiter, record)


def count_newlines(path: str, start: int, stop: int) -> int:
    """Number of newline bytes in ``path[start:stop]``."""
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
