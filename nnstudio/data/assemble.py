"""Build the feature array and labels from parsed pieces: rows, split, fill, standardize.

The float32 array is allocated once with rows already grouped by split (train,
then validation, then test; file order within each), written piece by piece,
filled and standardized in place. The splits are then views of it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .columns import ColumnState
from .errors import Cancelled, data_error
from .options import LoadOptions
from .preprocessing import ColumnEncoding
from .reader import PieceResult
from .schema import ColumnInfo, Schema, to_days
from .split import TRAIN, split_assignment
from .standardize import Standardizer


@dataclass
class RowReport:
    """What happened to rows and missing values (for the summary)."""

    rows_read: int = 0
    blank: int = 0
    no_target: int = 0
    dropped: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    filled: dict[str, tuple[int, object]] = field(default_factory=dict)


@dataclass
class Built:
    """The arrays of a dataset, rows grouped train / validation / test."""

    x: np.ndarray
    y: np.ndarray
    rows_in_file: np.ndarray
    sizes: tuple[int, int, int]
    encodings: list[ColumnEncoding]
    standardizer: Standardizer | None
    rows: RowReport


class _Columns:
    """Per-piece access to the values of the used columns and the target."""

    def __init__(self, states: dict[str, ColumnState], schema: Schema) -> None:
        self.states, self.schema = states, schema
        self.day_luts = {c.name: to_days(states[c.name].categories)
                         for c in schema.features if c.kind == "date"}
        self.onehot_luts = {c.name: _onehot_lut(states[c.name], c)
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
            order = {c: i for i, c in enumerate(schema.class_names)}
            lut[:-1] = [order.get(c, -1) for c in state.categories]
            codes = state.codes.get(index)
            return lut[codes] if codes is not None else np.full(piece.n_rows, -1, np.int64)
        values = self.values(piece, index, schema.target)
        if schema.task == "regression":
            return values
        found = np.searchsorted(schema.class_values, values)
        found = np.minimum(found, len(schema.class_values) - 1)
        return np.where(schema.class_values[found] == values, found, -1).astype(np.int64)


def _onehot_lut(state: ColumnState, info: ColumnInfo) -> np.ndarray:
    """Category code -> one-hot position (``<other>`` for rare ones); last entry serves -1."""
    position = {c: i for i, c in enumerate(info.categories)}
    other = len(info.categories) if info.other else -1
    return np.array([position.get(c, other) for c in state.categories] + [-1], np.int32)


def build_arrays(pieces: list[PieceResult], states: dict[str, ColumnState], schema: Schema,
                 opts: LoadOptions, path: str | None = None,
                 cancel: Callable[[], bool] | None = None) -> Built:
    """Select rows, split them, and write the standardized float32 features.

    Raises
    ------
    DataError
        No rows left after dropping rows with missing values, or fewer than
        two classes among them.
    Cancelled
        When ``cancel()`` returns True between pieces.
    """
    columns = _Columns(states, schema)
    rows = RowReport(rows_read=sum(p.n_rows for p in pieces))
    labels, keeps = _select_rows(pieces, columns, schema, opts, rows)
    y_all = np.concatenate(labels) if labels else np.zeros(0)
    _check_rows(y_all, schema, rows, path)
    rng = np.random.default_rng(opts.seed)
    stratify = y_all if schema.task == "classification" else None
    assignment = split_assignment(len(y_all), opts.val_fraction, opts.test_fraction, rng, stratify)
    sizes = tuple(int(n) for n in np.bincount(assignment, minlength=3))
    layout = _layout(schema)
    fills = _category_fills(pieces, columns, schema, keeps, assignment, opts)
    x, y, rows_in_file = _write(pieces, columns, layout, labels, keeps, assignment, sizes, fills,
                                cancel)
    encodings = _encodings(schema, fills)
    _impute_numbers(x, layout, sizes[TRAIN], opts, encodings, rows)
    _report_category_fills(fills, schema, x, layout, rows)
    standardizer = None
    if opts.standardize:
        n_scaled = sum(1 for c in schema.features if c.kind != "categorical")
        standardizer = Standardizer.fit(x[:sizes[TRAIN]], columns=n_scaled)
        standardizer.transform(x, inplace=True)
    return Built(x, y, rows_in_file, sizes, encodings, standardizer, rows)


def _select_rows(pieces, columns: _Columns, schema: Schema, opts: LoadOptions,
                 rows: RowReport) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Per piece: labels of kept rows, and the kept-row mask (None when all rows are kept)."""
    droppable = [c for c in schema.features if opts.missing == "drop" and _may_miss(columns, c)]
    labels, keeps = [], []
    for index, piece in enumerate(pieces):
        target = columns.target(piece, index)
        keep = ~np.isnan(target) if target.dtype.kind == "f" else target >= 0
        rows.no_target += int(piece.n_rows - np.count_nonzero(keep))
        if not keep.all():
            rows.blank += _count_blank(piece, index, columns, ~keep)
        for info in droppable:
            missing = columns.missing(piece, index, info)
            rows.dropped += int(np.count_nonzero(keep & missing))
            keep &= ~missing
        all_kept = bool(keep.all())
        keeps.append(None if all_kept else keep)
        labels.append(target if all_kept else target[keep])
    rows.no_target -= rows.blank
    rows.missing = {c.name: columns.states[c.name].n_missing - rows.blank
                    for c in schema.columns if columns.states[c.name].n_missing > rows.blank}
    return labels, keeps


def _may_miss(columns: _Columns, info: ColumnInfo) -> bool:
    """Whether a used column can have missing cells (dates also when unreadable)."""
    return columns.states[info.name].n_missing > 0 or info.kind == "date"


def _count_blank(piece: PieceResult, index: int, columns: _Columns, candidates: np.ndarray) -> int:
    """Rows among ``candidates`` (target missing) where every column is missing."""
    blank = candidates.copy()
    for name, state in columns.states.items():
        if name == columns.schema.target or not blank.any():
            continue
        if state.kind == "text" and state.number_lut is None:
            codes = state.codes.get(index)
            if codes is not None:
                blank &= codes == -1
            elif not state.too_many:
                continue
            else:  # codes not kept: cannot tell, so do not call these rows blank
                return 0
        else:
            blank &= np.isnan(columns.values(piece, index, name))
    return int(np.count_nonzero(blank))


def _check_rows(y_all: np.ndarray, schema: Schema, rows: RowReport, path: str | None) -> None:
    if len(y_all) == 0:
        raise data_error(f"no rows are left: {rows.no_target} have no target value and "
                         f"{rows.dropped} were dropped for missing feature values", path=path,
                         hint="Choose the 'mean' or 'most_frequent' missing-value policy, or "
                              "another target")
    if schema.task == "classification":
        present = np.count_nonzero(np.bincount(y_all, minlength=len(schema.class_names)))
        if present < 2:
            raise data_error("after dropping rows with missing values only one class is left",
                             path=path, column=schema.target,
                             hint="Choose another missing-value policy")


@dataclass
class _Layout:
    """Feature columns in array order with their offsets."""

    features: list[ColumnInfo]
    offsets: list[int]
    width: int


def _layout(schema: Schema) -> _Layout:
    offsets, width = [], 0
    for info in schema.features:
        offsets.append(width)
        width += len(info.feature_names())
    return _Layout(schema.features, offsets, width)


def _category_fills(pieces, columns: _Columns, schema: Schema, keeps, assignment: np.ndarray,
                    opts: LoadOptions) -> dict[str, list]:
    """Most frequent one-hot position among training rows per categorical feature.

    Returns ``{name: [position, filled_count]}``; empty under the "drop" policy.
    """
    if opts.missing == "drop":
        return {}
    fills = {}
    for info in schema.features:
        if info.kind != "categorical":
            continue
        counts = np.zeros(len(info.feature_names()), np.int64)
        offset = 0
        for index, piece in enumerate(pieces):
            positions = columns.positions(piece, index, info.name)
            if keeps[index] is not None:
                positions = positions[keeps[index]]
            train = positions[assignment[offset:offset + len(positions)] == TRAIN]
            offset += len(positions)
            counts += np.bincount(train[train >= 0], minlength=len(counts))
        fills[info.name] = [int(np.argmax(counts)), 0]
    return fills


def _write(pieces, columns: _Columns, layout: _Layout, labels, keeps, assignment, sizes,
           fills: dict[str, list], cancel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Allocate the arrays once and write every piece's kept rows into their split's rows.

    Also returns the 0-based data row in the file of every written row.
    """
    n = sum(sizes)
    onehot = any(c.kind == "categorical" for c in layout.features)
    # np.empty/np.zeros only reserve memory; pages are committed as rows are
    # written, while each piece's block is freed after use.
    x = (np.zeros if onehot else np.empty)((n, layout.width), np.float32)
    classes = columns.schema.task == "classification"
    y = np.empty(n, np.int64) if classes else np.empty((n, 1), np.float32)
    rows_in_file = np.empty(n, np.int64)
    starts = [0, sizes[0], sizes[0] + sizes[1]]
    offset = 0
    for index, piece in enumerate(pieces):
        if cancel is not None and cancel():
            raise Cancelled("loading was cancelled")
        kept = labels[index]
        split_of = assignment[offset:offset + len(kept)]
        offset += len(kept)
        rows = None if keeps[index] is None else np.flatnonzero(keeps[index])
        runs = _block_runs(piece, columns, layout)
        for split in range(3):
            chosen = np.flatnonzero(split_of == split)
            if not len(chosen):
                continue
            dest = slice(starts[split], starts[split] + len(chosen))
            y[dest] = kept[chosen] if classes else kept[chosen, None]
            selected = chosen if rows is None else rows[chosen]
            rows_in_file[dest] = selected + piece.first_row
            _write_rows(x[dest], piece, index, selected, runs, columns, layout, fills)
            starts[split] += len(chosen)
        piece.block = None
        for state in columns.states.values():
            state.codes.pop(index, None)
            state.extra_values.pop(index, None)
    return x, y, rows_in_file


def _block_runs(piece: PieceResult, columns: _Columns, layout: _Layout) -> list[tuple]:
    """Runs of numeric features stored side by side in both the piece's block and x.

    Each run ``(x_start, block_start, length)`` is copied with one ``np.take``.
    """
    runs: list[list[int]] = []
    index = piece.column_index()
    for info, offset in zip(layout.features, layout.offsets):
        state = columns.states[info.name]
        if info.kind != "numeric" or state.number_lut is not None or info.name not in index:
            continue
        j = index[info.name]
        if runs and runs[-1][0] + runs[-1][2] == offset and runs[-1][1] + runs[-1][2] == j:
            runs[-1][2] += 1
        else:
            runs.append([offset, j, 1])
    return [tuple(r) for r in runs]


def _write_rows(dest: np.ndarray, piece: PieceResult, index: int, selected: np.ndarray,
                runs: list[tuple], columns: _Columns, layout: _Layout,
                fills: dict[str, list]) -> None:
    """Write the ``selected`` rows of one piece into ``dest`` (len(selected), width)."""
    covered = set()
    for x_start, block_start, length in runs:
        np.take(piece.block[:, block_start:block_start + length], selected, axis=0,
                out=dest[:, x_start:x_start + length], mode="clip")
        covered.update(range(x_start, x_start + length))
    for info, offset in zip(layout.features, layout.offsets):
        if offset in covered:
            continue
        if info.kind != "categorical":
            dest[:, offset] = columns.values(piece, index, info.name)[selected]
            continue
        positions = columns.positions(piece, index, info.name)[selected]
        if info.name in fills:
            missing = positions < 0
            fills[info.name][1] += int(np.count_nonzero(missing))
            positions[missing] = fills[info.name][0]
        rows = np.flatnonzero(positions >= 0)
        dest[rows, offset + positions[rows]] = 1.0


def _encodings(schema: Schema, fills: dict[str, list]) -> list[ColumnEncoding]:
    """ColumnEncoding per feature; category fills known now, number fills set later."""
    encodings = []
    for info in schema.features:
        encoding = ColumnEncoding(info.name, info.kind, info.categories, info.other)
        if info.name in fills:
            names = info.categories + ["<other>"]
            encoding.fill = names[fills[info.name][0]]
        encodings.append(encoding)
    return encodings


_MODE_ROWS = 100_000


def _impute_numbers(x: np.ndarray, layout: _Layout, n_train: int, opts: LoadOptions,
                    encodings: list[ColumnEncoding], rows: RowReport) -> None:
    """Fill missing numbers in place with the training mean or most frequent value.

    Every numeric column gets a fill value (kept for new data), also those
    without missing cells in this file.
    """
    if opts.missing == "drop":
        return
    for info, offset, encoding in zip(layout.features, layout.offsets, encodings):
        if info.kind == "categorical":
            continue
        train = x[:n_train, offset]
        if opts.missing == "mean":
            fill = float(np.nanmean(train, dtype=np.float64)) if n_train else np.nan
        else:
            # The mode of a large column is estimated on evenly spaced rows, which
            # needs no random draw and keeps the cost of np.unique bounded.
            sample = train[::max(1, n_train // _MODE_ROWS)]
            values, counts = np.unique(sample[~np.isnan(sample)], return_counts=True)
            fill = float(values[np.argmax(counts)]) if len(values) else np.nan
        encoding.fill = 0.0 if np.isnan(fill) else fill
        if rows.missing.get(info.name) or info.kind == "date":
            column = x[:, offset]
            missing = np.isnan(column)
            if missing.any():
                column[missing] = encoding.fill
                rows.filled[info.name] = (int(np.count_nonzero(missing)), encoding.fill)


def _report_category_fills(fills: dict[str, list], schema: Schema, x, layout, rows: RowReport):
    for info in schema.features:
        if info.name in fills and fills[info.name][1]:
            position = fills[info.name][0]
            names = info.categories + ["<other>"]
            rows.filled[info.name] = (fills[info.name][1], names[position])
