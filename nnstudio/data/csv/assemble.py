"""Build the feature array and labels from parsed pieces: rows, split, fill, standardize.

The float32 array is allocated once with rows already grouped by split (train,
then validation, then test; file order within each), written piece by piece,
filled and standardized in place. The splits are then views of it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..columns import ColumnState, PieceResult
from ..dataset import RowReport
from ..errors import data_error
from ..options import LoadOptions
from ..preprocessing import ColumnEncoding
from ..schema import ColumnInfo, Schema
from ..split import TRAIN, split_assignment
from ..standardize import Standardizer, standardize_target
from .access import PieceColumns
from .pieces import default_workers
from .writer import Layout, make_layout, write_arrays


@dataclass
class Built:
    """The arrays of a dataset, rows grouped train / validation / test."""

    x: np.ndarray
    y: np.ndarray
    assignment: np.ndarray
    kept_rows: np.ndarray | None
    sizes: tuple[int, int, int]
    encodings: list[ColumnEncoding]
    standardizer: Standardizer | None
    rows: RowReport
    target_standardizer: Standardizer | None = None


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
    columns = PieceColumns(states, schema)
    rows = RowReport(rows_read=sum(p.n_rows for p in pieces))
    labels, keeps = _select_rows(pieces, columns, schema, opts, rows)
    y_all = np.concatenate(labels) if labels else np.zeros(0)
    _check_rows(y_all, schema, rows, path)
    rng = np.random.default_rng(opts.seed)
    stratify = y_all if schema.task == "classification" else None
    assignment = split_assignment(len(y_all), opts.val_fraction, opts.test_fraction, rng, stratify)
    counts = np.bincount(assignment, minlength=3)
    sizes = (int(counts[0]), int(counts[1]), int(counts[2]))
    layout = make_layout(schema)
    fills = _category_fills(pieces, columns, schema, keeps, assignment, opts)
    workers = default_workers()
    n_scaled = (sum(1 for c in schema.features if c.kind != "categorical")
                if opts.standardize else 0)
    # Under "drop" no cell is filled later, so the training statistics can be
    # taken while the rows are written; otherwise only after filling.
    fused = n_scaled if opts.missing == "drop" else 0
    kept_rows = _kept_rows(pieces, keeps)
    x, y, moments = write_arrays(pieces, columns, layout, labels, keeps, assignment, sizes,
                                 fills, workers, cancel, fused)
    encodings = _encodings(schema, fills)
    _impute_numbers(x, layout, sizes[TRAIN], opts, encodings, rows)
    _report_category_fills(fills, schema, rows)
    standardizer = None
    if n_scaled:
        standardizer = (Standardizer.from_moments(moments, layout.width) if fused else
                        Standardizer.fit(x[:sizes[TRAIN]], columns=n_scaled, workers=workers))
        standardizer.transform(x, inplace=True, workers=workers)
    target_standardizer = standardize_target(y, sizes[TRAIN], schema.task, opts)
    return Built(x, y, assignment, kept_rows, sizes, encodings, standardizer, rows,
                 target_standardizer)


def _kept_rows(pieces: list[PieceResult], keeps: list[np.ndarray | None]) -> np.ndarray | None:
    """0-based file rows of the kept rows, in file order; None when every row is kept."""
    if all(keep is None for keep in keeps):
        return None
    return np.concatenate([p.first_row + (np.arange(p.n_rows) if k is None else np.flatnonzero(k))
                           for p, k in zip(pieces, keeps)])


def _select_rows(pieces, columns: PieceColumns, schema: Schema, opts: LoadOptions,
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


def _may_miss(columns: PieceColumns, info: ColumnInfo) -> bool:
    """Whether a used column can have missing cells (dates also when unreadable)."""
    return columns.states[info.name].n_missing > 0 or info.kind == "date"


def _count_blank(piece: PieceResult, index: int, columns: PieceColumns,
                 candidates: np.ndarray) -> int:
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
        assert schema.class_names is not None
        present = np.count_nonzero(np.bincount(y_all, minlength=len(schema.class_names)))
        if present < 2:
            raise data_error("after dropping rows with missing values only one class is left",
                             path=path, column=schema.target,
                             hint="Choose another missing-value policy")


def _category_fills(pieces, columns: PieceColumns, schema: Schema, keeps, assignment: np.ndarray,
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


def _encodings(schema: Schema, fills: dict[str, list]) -> list[ColumnEncoding]:
    """ColumnEncoding per feature; category fills known now, number fills set later."""
    encodings = []
    for info in schema.features:
        encoding = ColumnEncoding(info.name, info.kind, info.categories, info.other)
        if info.name in fills:
            assert info.categories is not None  # only categorical columns are filled here
            names = info.categories + ["<other>"]
            encoding.fill = names[fills[info.name][0]]
        encodings.append(encoding)
    return encodings


_MODE_ROWS = 100_000


def _impute_numbers(x: np.ndarray, layout: Layout, n_train: int, opts: LoadOptions,
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
            # a column missing in every training row gets 0 below (nanmean would warn)
            empty = not n_train or np.isnan(train).all()
            fill = np.nan if empty else float(np.nanmean(train, dtype=np.float64))
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


def _report_category_fills(fills: dict[str, list], schema: Schema, rows: RowReport) -> None:
    for info in schema.features:
        if info.name in fills and fills[info.name][1]:
            position = fills[info.name][0]
            assert info.categories is not None  # as in _encodings
            names = info.categories + ["<other>"]
            rows.filled[info.name] = (fills[info.name][1], names[position])
