"""Errors raised by :mod:`nnstudio.data`.

Every problem with a user's file is a :class:`DataError` whose message starts with
where the problem is (file name, data row and file line, column, value) and ends
with what the user can do about it. The GUI shows the message as it is.
"""
from __future__ import annotations

from pathlib import Path

_MAX_VALUE_CHARS = 40


class DataError(ValueError):
    """A file or array cannot be turned into a dataset.

    The attributes repeat what the message says, so that a GUI can highlight the
    place: ``path`` (str or None), ``row`` (1-based data row, header not counted),
    ``line`` (1-based line of the file), ``column`` (name) and ``value`` (text).
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 line: int | None = None, column: str | None = None,
                 value: str | None = None, problem: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.row = row
        self.line = line
        self.column = column
        self.value = value
        self.problem = problem if problem is not None else message

    def without_contents(self) -> str:
        """The message without the cell, column names or hint: for a file the user did not
        choose (a path recorded in someone's project), whose contents are not to be shown."""
        place = [Path(self.path).name] if self.path else []
        if self.line is not None:
            place.append(f"line {self.line}")
        return ", ".join(place + [f"cannot be read as a dataset ({self.problem_kind()})"])

    def problem_kind(self) -> str:
        """The problem's wording up to the first quoted text or parenthesis."""
        text = self.problem
        for mark in ("'", '"', "("):
            if mark in text:
                text = text[:text.index(mark)]
        return text.strip().rstrip(":;,") or "not a CSV file"


class PieceProblem(Exception):
    """A problem found inside one piece; positions are relative to the piece.

    ``record`` is the 0-based record (data row) counted from the start of the
    stream or buffer that was parsed, ``line`` a 1-based line from there; the
    reader turns it into a :class:`DataError` with file-wide row and line numbers
    and, when a column is named, the cell as written.
    """

    def __init__(self, problem: str, *, record: int | None = None, line: int | None = None,
                 column: str | None = None, value: str | None = None, hint: str | None = None,
                 describe=None):
        super().__init__(problem)
        self.problem, self.record, self.line = problem, record, line
        self.column, self.value, self.hint = column, value, hint
        # describe(cell_text) -> (problem, hint): wording that depends on the cell as written
        self.describe = describe
        self.open_quote = False  # the parser reached the end inside a quoted value


class Cancelled(Exception):
    """Loading was cancelled by the caller's ``cancel()`` callback.

    Deliberately not a :class:`DataError`: nothing is wrong with the file.
    """


def show_names(names) -> str:
    """Column names for a hint: each shortened, at most 20 of them."""
    names = list(names)
    shown = ", ".join(show_value(name) for name in names[:20])
    return shown + (f", ... ({len(names)} columns)" if len(names) > 20 else "")


def show_value(value: object) -> str:
    """Quote a cell value for a message, shortened so one message stays one line."""
    text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS - 3] + "..."
    return repr(text)


def data_error(problem: str, *, path: str | Path | None = None, row: int | None = None,
               line: int | None = None, column: str | None = None,
               value: object | None = None, hint: str | None = None) -> DataError:
    """Build a :class:`DataError` whose message names where the problem is.

    The message reads ``"<file>, row R (line L), column 'c', value 'v': problem. hint"``
    with the parts that do not apply left out.
    """
    place = []
    if path is not None:
        place.append(Path(path).name)
    if row is not None:
        place.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
    elif line is not None:
        place.append(f"line {line}")
    if column is not None:
        place.append(f"column {column!r}")
    if value is not None:
        place.append(f"value {show_value(value)}")
    message = (", ".join(place) + ": " + problem) if place else problem
    if hint:
        message = message.rstrip(".") + ". " + hint
    return DataError(message, path=None if path is None else str(path), row=row, line=line,
                     column=column, value=None if value is None else str(value), problem=problem)
