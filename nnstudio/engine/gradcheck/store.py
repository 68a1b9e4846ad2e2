"""Columnar storage of element results: numpy columns, objects made only when asked for.

A full check of a 26,000-parameter network produces 26,000 results; keeping them as
columns lets a run to the end do no per-element Python work, lets views read a whole
tensor's errors as one array, and still hands out an immutable :class:`ElementResult`
for any single row.
"""
from __future__ import annotations

import numpy as np

from .results import ElementResult, KinkDetail, TensorInfo
from .verdict import RULES, VERDICT_NAMES

_FLOAT_COLUMNS = ("analytic", "numeric", "abs_error", "rel_error", "scale", "score", "f_plus",
                  "f_minus")


class ResultStore:
    """Rows of checked elements in the order they were computed.

    Columns (each (rows,)): ``tensor`` (position in ``tensors``), ``flat`` (row-major index),
    ``analytic``, ``numeric``, ``abs_error``, ``rel_error``, ``scale`` (max(|a|, |n|)),
    ``score`` (|a−n| / tolerance), ``code`` (index into ``VERDICT_NAMES``), ``rule``
    (index into ``RULES``: what decided the verdict), ``f_plus``, ``f_minus``. Kink details are kept only for the rows that have some.
    """

    def __init__(self, tensors: list[TensorInfo]) -> None:
        self.tensors = tensors
        self._size = 0
        self._columns: dict[str, np.ndarray] = {
            "tensor": np.zeros(0, dtype=np.int32), "flat": np.zeros(0, dtype=np.intp),
            "code": np.zeros(0, dtype=np.int8), "rule": np.zeros(0, dtype=np.int8),
            **{name: np.zeros(0) for name in _FLOAT_COLUMNS}}
        self.kinks: dict[int, tuple[KinkDetail, ...]] = {}

    def __len__(self) -> int:
        return self._size

    def append(self, tensor: int, kinks: list[tuple[KinkDetail, ...]], **columns: np.ndarray
               ) -> tuple[int, int]:
        """Add P rows of one tensor; return their (start, stop) row range."""
        count = columns["flat"].size
        start, stop = self._size, self._size + count
        self._reserve(stop)
        self._columns["tensor"][start:stop] = tensor
        for name, values in columns.items():
            self._columns[name][start:stop] = values
        for offset, detail in enumerate(kinks):
            if detail:
                self.kinks[start + offset] = detail
        self._size = stop
        return start, stop

    def column(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """A read-only view of rows [start, stop) of one column."""
        view = self._columns[name][start:self._size if stop is None else stop]
        view.flags.writeable = False
        return view

    def result(self, row: int) -> ElementResult:
        """The immutable result of one row."""
        if not 0 <= row < self._size:
            raise IndexError(f"row {row} is outside 0..{self._size - 1}")
        cols = self._columns
        info = self.tensors[int(cols["tensor"][row])]
        flat = int(cols["flat"][row])
        index = tuple(int(i) for i in np.unravel_index(flat, info.shape)) if info.shape else ()
        return ElementResult(
            info.name, info.layer_index, index, flat, float(cols["analytic"][row]),
            float(cols["numeric"][row]), float(cols["abs_error"][row]),
            float(cols["rel_error"][row]), VERDICT_NAMES[int(cols["code"][row])],
            float(cols["f_plus"][row]), float(cols["f_minus"][row]), self.kinks.get(row, ()),
            RULES[int(cols["rule"][row])])

    def rows_with_code(self, code: int, stop: int) -> np.ndarray:
        return np.flatnonzero(self._columns["code"][:stop] == code)

    def _reserve(self, size: int) -> None:
        capacity = self._columns["flat"].size
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 1024)  # doubling: appends stay amortised O(1)
        for name, values in self._columns.items():
            grown = np.zeros(capacity, dtype=values.dtype)
            grown[:self._size] = values[:self._size]
            self._columns[name] = grown


class ResultsView:
    """The delivered rows of a store as a read-only sequence of :class:`ElementResult`."""

    def __init__(self, store: ResultStore, length) -> None:
        self._store = store
        self._length = length  # callable: how many rows are delivered

    def __len__(self) -> int:
        return self._length()

    def __getitem__(self, item):
        size = len(self)
        if isinstance(item, slice):
            return [self._store.result(row) for row in range(*item.indices(size))]
        row = item + size if item < 0 else item
        if not 0 <= row < size:
            raise IndexError(f"result {item} is outside the {size} delivered so far")
        return self._store.result(row)

    def __iter__(self):
        for row in range(len(self)):
            yield self._store.result(row)
