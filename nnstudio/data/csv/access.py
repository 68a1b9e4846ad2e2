"""Per-piece access to the values of a file's columns, as the schema decided them."""
from __future__ import annotations

import numpy as np

from ..columns import ColumnState, PieceResult
from ..schema import ColumnInfo, Schema, to_days


class PieceColumns:
    """Per-piece access to the values of the used columns and the target."""

    def __init__(self, states: dict[str, ColumnState], schema: Schema) -> None:
        self.states, self.schema = states, schema
        self.day_luts = {c.name: to_days(states[c.name].categories)
                         for c in schema.features if c.kind == "date"}
        self.onehot_luts = {c.name: onehot_lut(states[c.name], c)
                            for c in schema.features if c.kind == "categorical"}

    def values(self, piece: PieceResult, index: int, name: str) -> np.ndarray:
        """float32 (n_rows,) of a numeric or date column in one piece, NaN where missing."""
        state = self.states[name]
        if name in self.day_luts:
            return state.piece_values(index, piece.n_rows, self.day_luts[name])
        if state.number_lut is not None:
            return state.piece_values(index, piece.n_rows, state.number_lut)
        if index in state.extra_values:
            return state.extra_values[index]
        j = piece.column_index().get(name)
        return piece.block[:, j] if j is not None else np.full(piece.n_rows, np.nan, np.float32)

    def positions(self, piece: PieceResult, index: int, name: str) -> np.ndarray:
        """One-hot position per row of a categorical column in one piece (-1 missing)."""
        codes = self.states[name].codes.get(index)
        if codes is None:
            return np.full(piece.n_rows, -1, np.int32)
        return self.onehot_luts[name][codes]

    def missing(self, piece: PieceResult, index: int, info: ColumnInfo) -> np.ndarray:
        if info.kind == "categorical":
            return self.positions(piece, index, info.name) < 0
        return np.isnan(self.values(piece, index, info.name))

    def target(self, piece: PieceResult, index: int) -> np.ndarray:
        """Class index (int64, -1 missing) or float32 value (NaN missing) per row."""
        schema, state = self.schema, self.states[self.schema.target]
        if state.kind == "text" and state.number_lut is None:
            lut = np.full(len(state.categories) + 1, -1, np.int64)
            assert schema.class_names is not None  # classification: the schema names its classes
            order = {c: i for i, c in enumerate(schema.class_names)}
            lut[:-1] = [order.get(c, -1) for c in state.categories]
            codes = state.codes.get(index)
            return lut[codes] if codes is not None else np.full(piece.n_rows, -1, np.int64)
        values = self.values(piece, index, schema.target)
        if schema.task == "regression":
            return values
        class_values = schema.class_values
        assert class_values is not None  # a numeric classification target keeps its values
        found = np.searchsorted(class_values, values)
        found = np.minimum(found, len(class_values) - 1)
        return np.where(class_values[found] == values, found, -1).astype(np.int64)


def onehot_lut(state: ColumnState, info: ColumnInfo) -> np.ndarray:
    """Category code -> one-hot position (``<other>`` for rare ones); last entry serves -1."""
    assert info.categories is not None  # called for categorical columns
    position = {c: i for i, c in enumerate(info.categories)}
    other = len(info.categories) if info.other else -1
    return np.array([position.get(c, other) for c in state.categories] + [-1], np.int32)
