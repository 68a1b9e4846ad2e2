"""What the reader learns about each column as pieces of a file arrive.

A :class:`PieceResult` is one piece as the reader converted it (from a CSV file, or
from a whole DataFrame for :func:`~nnstudio.data.infer_schema`). A :class:`ColumnState`
gathers, over all pieces, the numbers a schema decision needs (missing count, range,
distinct texts and their counts, whether the column counts rows) and, for text columns,
the per-piece integer codes into one list of distinct texts shared by the whole file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import PieceProblem
from .number_text import looks_like_number, parse_number
from .options import is_missing

#: A text column with more distinct values than this is identifier-like; its
#: codes are not kept (a one-hot encoding of it would be useless and huge).
MAX_TRACKED_TEXTS = 50_000
#: Most distinct values a target may have to be classes; a numeric column keeps its
#: distinct values only up to this many (more: it cannot be a class label).
MAX_CLASSES = 1000

_NUMBER_SAMPLE = 200  # distinct texts looked at before a column is taken for text


@dataclass
class PieceResult:
    """One piece of the file, converted: numbers in one float32 block, text as codes.

    Attributes
    ----------
    numeric : list[str]
        Columns held in ``block``, in file order.
    block : ndarray, float32 (n_rows, len(numeric))
        Their values; NaN where missing. Row-major.
    n_missing, vmin, vmax : ndarray (len(numeric),)
        Missing count, and smallest / largest value (NaN if none) per column.
    counter_first : ndarray, float64 (len(numeric),)
        First value of columns that go up by exactly 1 per row, NaN for others.
    text : dict[str, tuple[ndarray, list[str]]]
        Integer codes (n_rows,) into the piece's list of distinct texts; -1 is missing.
    target_uniques : ndarray or None
        Distinct values of a numeric target column (None if too many or not numeric).
    start, stream_row, first_row : int
        Byte offset where the stream holding this piece starts, the piece's first
        row counted in that stream, and counted in the whole file (0-based).
    """

    n_rows: int
    numeric: list[str]
    block: np.ndarray
    n_missing: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    counter_first: np.ndarray
    text: dict[str, tuple[np.ndarray, list[str]]]
    target_uniques: np.ndarray | None = None
    start: int = 0
    stream_row: int = 0
    first_row: int = 0

    def column_index(self) -> dict[str, int]:
        """Position of each numeric column in ``block``."""
        if getattr(self, "_index", None) is None:
            self._index = {name: j for j, name in enumerate(self.numeric)}
        return self._index


class ColumnState:
    """Everything learnt about one column so far.

    Attributes
    ----------
    kind : {"empty", "numeric", "text"}
        "empty" until a value arrives; then numbers or text, never both.
    n_rows, n_missing : int
        Rows seen, and rows without a value.
    vmin, vmax : float
        Range of a numeric column.
    counts_rows : bool
        True while the column reads 0, 1, 2, ... or 1, 2, 3, ... row by row.
    categories : list of str
        Distinct texts (spaces stripped) in order of first appearance.
    counts : ndarray of int64
        How often each category occurs.
    codes : dict[int, ndarray]
        Per piece index, int32 codes into ``categories`` (-1 missing).
    too_many : bool
        More than :data:`MAX_TRACKED_TEXTS` distinct texts; codes were dropped.
    number_values : int
        Values of a text column that look like numbers, while ``may_be_numbers``.
    first_text : tuple or None
        (piece index, record in the piece, text) of its first value that is not a number,
        so that a column of numbers with stray text is reported even when it has too many
        distinct values to keep its codes.
    grouped_example : str or None
        A value with thousands separators, when the column was read as numbers from them.
    numeric_uniques : ndarray or None
        Distinct values of a numeric target (None when there are too many).
    """

    def __init__(self, name: str, position: int) -> None:
        self.name, self.position = name, position
        self.kind = "empty"
        self.n_rows = self.n_missing = 0
        self.vmin, self.vmax = math.inf, -math.inf
        self.counts_rows = True
        self._next_count: float | None = None
        self.categories: list[str] = []
        self._lookup: dict[str, int] = {}
        self.counts = np.zeros(0, np.int64)
        self.codes: dict[int, np.ndarray] = {}
        self.too_many = False
        self.numeric_uniques: np.ndarray | None = np.zeros(0)
        self.first_value: tuple[int, int] | None = None  # (piece index, 0-based row)
        self.number_lut: np.ndarray | None = None
        self.extra_values: dict[int, np.ndarray] = {}  # numbers of pieces read as text
        self.may_be_numbers = True
        self.number_values = 0
        self.first_text: tuple[int, int, str] | None = None
        self.grouped_example: str | None = None

    def read_as_numbers(self, values: np.ndarray) -> None:
        """Treat a text column whose texts are all numbers as numeric.

        ``values`` (float64, one per category) is kept to look the codes up.
        """
        present = self.counts > 0
        self.kind, self.number_lut, self.counts_rows = "numeric", values, False
        self.vmin, self.vmax = float(values[present].min()), float(values[present].max())
        uniques = np.unique(values[present])
        self.numeric_uniques = uniques if len(uniques) <= MAX_CLASSES else None

    @property
    def n_values(self) -> int:
        """Rows that have a value."""
        return self.n_rows - self.n_missing

    def add_numbers(self, index: int, piece: PieceResult, j: int) -> None:
        """Take column ``j`` of the piece's float32 block.

        Raises
        ------
        PieceProblem
            If the column held text in earlier pieces.
        """
        n_missing = int(piece.n_missing[j])
        self.n_rows += piece.n_rows
        self.n_missing += n_missing
        if n_missing == piece.n_rows:
            self.counts_rows = self.counts_rows and piece.n_rows == 0
            return
        if self.kind != "numeric":
            record = int(np.flatnonzero(~np.isnan(piece.block[:, j]))[0])
            if self.kind == "text":
                assert self.first_value is not None  # set with the kind
                raise PieceProblem(f"a number in a column of text (the first text is in row "
                                   f"{self.first_value[1] + 1})", record=record,
                                   column=self.name, value=f"{piece.block[record, j]:g}",
                                   hint="Make the column all numbers or all text")
            self.kind, self.first_value = "numeric", (index, piece.first_row + record)
        self.vmin = min(self.vmin, float(piece.vmin[j]))
        self.vmax = max(self.vmax, float(piece.vmax[j]))
        self._track_counter(float(piece.counter_first[j]), piece.n_rows)
        if self.numeric_uniques is not None:
            self.numeric_uniques = (None if piece.target_uniques is None
                                    else np.union1d(self.numeric_uniques, piece.target_uniques))

    def _track_counter(self, first: float, n_rows: int) -> None:
        """Follow whether the column keeps counting rows across pieces."""
        expected = self._next_count
        starts_ok = first in (0.0, 1.0) if expected is None else first == expected
        self.counts_rows = self.counts_rows and not math.isnan(first) and starts_ok
        self._next_count = first + n_rows

    def add_texts(self, index: int, piece: PieceResult, codes: np.ndarray,
                  uniques: list[str]) -> None:
        """Take a text column of a piece: per-piece codes into ``uniques``.

        Raises
        ------
        PieceProblem
            If the column held numbers in earlier pieces.
        """
        if self.kind == "numeric":
            self._add_texts_to_numbers(index, piece, codes, uniques)
            return
        self.n_rows += piece.n_rows
        self.counts_rows = False
        lut = self._global_codes(uniques)
        shared = lut[codes.astype(np.intp, copy=False)] if len(codes) else codes.astype(np.int32)
        present = shared != -1
        n_values = int(np.count_nonzero(present))
        self.n_missing += piece.n_rows - n_values
        if n_values == 0:
            return
        record = int(np.argmax(present))
        if self.kind == "empty":
            self.kind, self.first_value = "text", (index, piece.first_row + record)
        self._count_numbers(index, codes, uniques)
        if self.too_many:
            return
        counts = np.bincount(shared[present], minlength=len(self.categories))
        counts[:len(self.counts)] += self.counts
        self.counts = counts
        self.codes[index] = shared
        if len(self.categories) > MAX_TRACKED_TEXTS:
            self.too_many, self.codes, self._lookup = True, {}, {}

    def _count_numbers(self, index: int, codes: np.ndarray, uniques: list[str]) -> None:
        """Follow how many values look like numbers, and where the first one that does not
        is; given up (cheaply) as soon as a sample of the texts is mostly not numbers."""
        if not self.may_be_numbers:
            return
        flags = [looks_like_number(u) for u in uniques[:_NUMBER_SAMPLE]]
        if sum(flags) * 2 < len(flags):
            self.may_be_numbers = False
            return
        flags += [looks_like_number(u) for u in uniques[_NUMBER_SAMPLE:]]
        number = np.array(flags + [False])
        text = np.array([not f and not is_missing(u.strip()) for f, u in zip(flags, uniques)]
                        + [False])
        per_row = codes.astype(np.intp, copy=False)
        self.number_values += int(np.count_nonzero(number[per_row]))
        if self.first_text is None:
            hits = np.flatnonzero(text[per_row])
            if len(hits):
                record = int(hits[0])
                self.first_text = (index, record, uniques[codes[record]])

    def _add_texts_to_numbers(self, index: int, piece: PieceResult, codes: np.ndarray,
                              uniques: list[str]) -> None:
        """A piece where pandas read a numeric column as text (it holds a non-number).

        Raises PieceProblem at the first text that is not a number; a piece whose
        texts are all numbers (or blanks) is kept as numbers.
        """
        values = np.array([np.nan if is_missing(u.strip()) else
                           (np.inf if (v := parse_number(u, grouped=True)) is None else v)
                           for u in uniques]
                          + [np.nan], np.float64)
        per_row = values[codes.astype(np.intp, copy=False)]
        text_rows = np.flatnonzero(np.isinf(per_row))
        if len(text_rows):
            record = int(text_rows[0])
            assert self.first_value is not None  # set with the kind
            raise PieceProblem(f"text in a column of numbers (the first number is in row "
                               f"{self.first_value[1] + 1})", record=record, column=self.name,
                               value=uniques[codes[record]],
                               hint="Fix the value, or leave the cell empty to mark it missing")
        self.extra_values[index] = per_row.astype(np.float32)
        self.n_rows += piece.n_rows
        self.n_missing += int(np.count_nonzero(np.isnan(per_row)))
        self.counts_rows = False
        present = np.unique(per_row[~np.isnan(per_row)])
        if len(present):
            self.vmin, self.vmax = min(self.vmin, present[0]), max(self.vmax, present[-1])
        if self.numeric_uniques is not None:
            merged = np.union1d(self.numeric_uniques, present)
            self.numeric_uniques = merged if len(merged) <= MAX_CLASSES else None

    def _global_codes(self, uniques: list[str]) -> np.ndarray:
        """Map a piece's distinct texts to shared codes; last entry -1 serves code -1."""
        lut = np.empty(len(uniques) + 1, np.int32)
        lut[-1] = -1
        lookup, categories = self._lookup, self.categories
        for i, text in enumerate(uniques):
            text = text.strip()
            if is_missing(text):
                lut[i] = -1
                continue
            code = lookup.get(text)
            if code is None and not self.too_many:
                code = lookup[text] = len(categories)
                categories.append(text)
            lut[i] = -2 if code is None else code  # -2: counted as present, not kept
        return lut

    def piece_values(self, index: int, n_rows: int, lut: np.ndarray) -> np.ndarray:
        """float32 values of a text column in one piece, looked up per code (NaN if missing)."""
        codes = self.codes.get(index)
        if codes is None:
            return np.full(n_rows, np.nan, np.float32)
        table = np.append(lut.astype(np.float32), np.float32(np.nan))
        return table[codes]


def merge_piece(states: dict[str, ColumnState], index: int, piece: PieceResult) -> None:
    """Add one piece to the states of all columns (raises PieceProblem on mixed columns)."""
    for j, name in enumerate(piece.numeric):
        states[name].add_numbers(index, piece, j)
    for name, (codes, uniques) in piece.text.items():
        states[name].add_texts(index, piece, codes, uniques)
