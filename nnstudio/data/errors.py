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
                 value: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.row = row
        self.line = line
        self.column = column
        self.value = value


class Cancelled(Exception):
    """Loading was cancelled by the caller's ``cancel()`` callback.

    Deliberately not a :class:`DataError`: nothing is wrong with the file.
    """


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
                     column=column, value=None if value is None else str(value))
