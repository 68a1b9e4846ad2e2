"""Detect how a CSV file is written: encoding, delimiter, header and column names.

Only the head of the file is examined here (see :data:`HEAD_BYTES`); the data
itself is parsed by pandas in :mod:`nnstudio.data.csv.reader`.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from ..errors import data_error
from ..filecheck import file_problem, os_error_text
from ..number_text import is_number, looks_like_decimal
from ..options import DELIMITERS, LoadOptions, check_encoding, is_missing

HEAD_BYTES = 256 * 1024
MAX_HEAD_BYTES = 64 * 2**20
# The csv module refuses fields over 131,072 characters by default; a valid CSV may have
# longer ones (a long text cell), and the head is bounded anyway. Only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), MAX_HEAD_BYTES))
_SNIFF_RECORDS = 50
_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


@dataclass(frozen=True)
class CsvFormat:
    """How a file is written, as needed to parse its data region with pandas.

    ``data_start`` is the byte offset of the first data row and ``lines_before_data``
    the number of file lines before it; ``sample`` holds the complete data rows
    at the start of the file (all of them when ``sample_is_whole_file``).
    """

    path: str
    size: int
    encoding: str
    delimiter: str
    decimal: str
    header: bool
    names: tuple[str, ...]
    data_start: int
    lines_before_data: int
    sample: bytes
    sample_is_whole_file: bool


def record_end(buf: bytes, start: int) -> int:
    """Offset just past the record starting at ``start``: the first newline outside quotes.

    Quotes are balanced within a record (a doubled quote counts twice), so a
    newline ends the record when the quotes before it are even in number.
    Returns ``len(buf)`` when the record is not complete in ``buf``.
    """
    pos = start
    while True:
        newline = buf.find(b"\n", pos)
        if newline < 0:
            return len(buf)
        if buf.count(b'"', start, newline) % 2 == 0:
            return newline + 1
        pos = newline + 1


def last_record_end(buf: bytes) -> int:
    """Offset just past the last complete record in ``buf`` (0 if there is none).

    ``buf`` must start at a record boundary; see :func:`record_end` for the rule.
    """
    newline = buf.rfind(b"\n")
    if b'"' not in buf:
        return newline + 1
    total = buf.count(b'"')
    while newline >= 0:
        if (total - buf.count(b'"', newline + 1)) % 2 == 0:
            return newline + 1
        newline = buf.rfind(b"\n", 0, newline)
    return 0


def sniff(path: str | Path, opts: LoadOptions) -> CsvFormat:
    """Examine the head of ``path`` and return its :class:`CsvFormat`.

    Raises
    ------
    DataError
        Missing, empty, binary or wrongly encoded file, duplicate column names,
        or a header without data rows.
    """
    path = str(path)
    head, size = _read_head(path)
    start = _check_bytes(head, path)
    encoding = "utf-8" if opts.encoding is None else check_encoding(opts.encoding)
    cut = len(head) if len(head) == size else last_record_end(head)
    text, bad_offset = _decode(head, start, cut, encoding)
    if not text.strip():
        raise data_error("the file has no data (only blank lines)", path=path,
                         hint="Choose a CSV file with a header row and data rows")
    delimiter = opts.delimiter or detect_delimiter(text)
    records = _records(text, delimiter, path)
    header = detect_header(records) if opts.header is None else opts.header
    start = _skip_blank_lines(head, start)
    data_start = record_end(head, start) if header else start
    names = _column_names(records[0], header, path, head.count(b"\n", 0, start) + 1)
    if bad_offset is not None:
        in_data = names if bad_offset >= data_start else None
        problem, line, column, value = bad_byte_problem(head, bad_offset, encoding, delimiter,
                                                        in_data)
        raise data_error(problem, path=path, line=line, column=column, value=value,
                         hint=ENCODING_HINT)
    _check_quotes_closed(head, data_start, cut, size, path)
    sample = head[data_start:cut]
    if header and not sample.strip() and cut == size:
        raise data_error(f"the file has a header ({len(names)} columns) but no data rows",
                         path=path, hint="Add data rows below the header")
    return CsvFormat(path=path, size=size, encoding=encoding, delimiter=delimiter,
                     decimal=_detect_decimal(records, delimiter), header=header, names=names,
                     data_start=data_start, lines_before_data=head.count(b"\n", 0, data_start),
                     sample=sample, sample_is_whole_file=cut == size)


def _read_head(path: str) -> tuple[bytes, int]:
    """The first bytes of the file: enough for the header and at least one data row.

    Only a regular file is opened: a FIFO without a writer would block forever, a
    device never end.
    """
    problem = file_problem(path)
    if problem is not None:
        raise data_error(problem[0], path=path)
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, io.SEEK_END)
            handle.seek(0)
            head = handle.read(HEAD_BYTES)
            # A header wider than HEAD_BYTES (thousands of columns) needs a longer head.
            while len(head) < size and record_end(head, record_end(head, 0)) >= len(head):
                if len(head) >= MAX_HEAD_BYTES:
                    raise data_error("the first rows are longer than 64 MB; this is not a "
                                     "CSV file the app can read", path=path)
                head += handle.read(len(head) * 3)
    except FileNotFoundError:
        raise data_error("file not found", path=path) from None
    except IsADirectoryError:
        raise data_error("this is a folder, not a CSV file", path=path) from None
    except PermissionError:
        raise data_error("permission denied when opening the file", path=path) from None
    except OSError as exc:  # EIO, EINVAL (/proc/self/mem), a file that vanished meanwhile
        raise data_error(f"cannot read the file: {os_error_text(exc)}", path=path) from None
    except MemoryError:
        raise data_error("not enough memory to read the first rows", path=path) from None
    if size == 0:
        raise data_error("the file is empty (0 bytes)", path=path,
                         hint="Choose a CSV file with a header row and data rows")
    return head, size


def _check_bytes(head: bytes, path: str) -> int:
    """Reject binary and UTF-16/32 files; return the offset after a UTF-8 BOM (0 without one)."""
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            raise data_error(f"the file is encoded as {name}, which the reader does not accept",
                             path=path, hint="Save it as UTF-8 (in Excel: 'CSV UTF-8')")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise data_error(f"byte {nul} is a NUL (0x00): this looks like a binary file, "
                         "not CSV text",
                         path=path, line=head.count(b"\n", 0, nul) + 1,
                         hint="Choose a CSV text file (spreadsheets: save as 'CSV UTF-8')")
    if b"\n" not in head and b"\r" in head.rstrip(b"\r"):
        raise data_error("lines end with a carriage return only (old Mac format), which the "
                         "reader does not accept", path=path,
                         hint="Save the file with Windows or Unix line endings "
                              "(in Excel: 'CSV UTF-8')")
    return len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0


def _decode(head: bytes, start: int, cut: int, encoding: str) -> tuple[str, int | None]:
    """Decode the complete records of the head.

    Returns the text (bad bytes replaced, so detection can go on) and the
    offset of the first byte that is not valid text, or None.
    """
    try:
        return head[start:cut].decode(encoding), None
    except UnicodeDecodeError as exc:
        return head[start:cut].decode(encoding, errors="replace"), start + exc.start


def bad_byte_problem(data: bytes, offset: int, encoding: str, delimiter: str,
                     names: tuple[str, ...] | None) -> tuple[str, int, str | None, str | None]:
    """Describe a byte that is not valid text: (problem, 1-based line, column, cell text).

    The line holding the byte is split with the delimiter to find the column;
    the cell text shows the bad byte as U+FFFD.
    """
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    text = data[line_start:line_end if line_end >= 0 else len(data)].decode(
        encoding, errors="replace").rstrip("\r")
    column = value = None
    try:
        fields = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:  # an odd line; the message still names the line and byte
        fields = []
    for j, field in enumerate(fields):
        if "\ufffd" in field:
            value = field
            column = names[j] if names is not None and j < len(names) else None
            break
    bad = data[offset:offset + 1].hex().upper()
    problem = f"byte 0x{bad} is not valid {encoding.upper()} text"
    return problem, data.count(b"\n", 0, offset) + 1, column, value


ENCODING_HINT = ("Save the file as UTF-8 (in Excel: 'CSV UTF-8'), or choose its encoding in "
                 "the load options, e.g. 'latin-1' or 'cp1252'")


def detect_delimiter(text: str) -> str:
    """The candidate delimiter that splits the first lines into the most, equally many fields.

    Ties go to the earlier of ``, ; tab |``; a file with one column gets ``,``.
    """
    sample = text[:64 * 1024]
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            rows = [r for r in islice(reader, 30) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        width, count = Counter(len(r) for r in rows).most_common(1)[0]
        score = (round(count / len(rows), 2), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def detect_header(records: list[list[str]]) -> bool:
    """Guess whether the first record holds column names.

    Names are not numbers; below a name there are numbers, or, in all-text
    files, values that differ from the name.
    """
    first, rest = records[0], records[1:_SNIFF_RECORDS]
    if any(is_number(v) for v in first if not is_missing(v)):
        return False
    if not rest:
        return True
    for j, name in enumerate(first):
        below = [r[j] for r in rest if j < len(r) and not is_missing(r[j])]
        if below and sum(map(is_number, below)) * 2 > len(below):
            return True
    return not any(first[j].strip() in {r[j].strip() for r in rest if j < len(r)}
                   for j in range(len(first)) if not is_missing(first[j]))


def _records(text: str, delimiter: str, path: str) -> list[list[str]]:
    """The first non-blank records of the sample, split with the csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = [r for r in islice(reader, _SNIFF_RECORDS * 2) if r]
    except csv.Error as exc:
        raise data_error(f"cannot split the line into fields ({exc})", path=path,
                         line=reader.line_num) from None
    return records[:_SNIFF_RECORDS]


def _check_quotes_closed(head: bytes, data_start: int, cut: int, size: int, path: str) -> None:
    """Reject a header whose quote never closes (it would swallow the whole file)."""
    if data_start >= cut == size and head.count(b'"', 0, data_start) % 2:
        raise data_error("a quoted value in the first row is never closed", path=path, line=1,
                         hint='Close the quote, or double quotes that are part of a name ("")')


def _skip_blank_lines(head: bytes, pos: int) -> int:
    """Offset of the first line at or after ``pos`` that is not empty."""
    while pos < len(head) and head[pos:pos + 1] in (b"\n", b"\r"):
        pos += 1
    return pos


def _column_names(first: list[str], header: bool, path: str, line: int) -> tuple[str, ...]:
    """Column names from the header (blank ones become ``column_<n>``), or generated ones."""
    if not header:
        return tuple(f"column_{j + 1}" for j in range(len(first)))
    names = [name.strip() or f"column_{j + 1}" for j, name in enumerate(first)]
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise data_error(f"columns {seen[name] + 1} and {j + 1} are both named {name!r}",
                             path=path, line=line, column=name,
                             hint="Rename one of them so every column name is unique")
        seen[name] = j
    return tuple(names)


def _detect_decimal(records: list[list[str]], delimiter: str) -> str:
    """``","`` for semicolon files whose numbers use a decimal comma (1,5), else ``"."``."""
    if delimiter != ";":
        return "."
    cells = [v for r in records for v in r]
    commas = sum(1 for v in cells if looks_like_decimal(v, ","))
    points = sum(1 for v in cells if looks_like_decimal(v, "."))
    return "," if commas > points else "."
