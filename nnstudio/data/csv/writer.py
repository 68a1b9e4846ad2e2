"""Write the kept rows of every piece into one float32 array, grouped by split.

Pieces are independent once the split is known, so they are written by a few
threads at once (numpy releases the GIL while copying).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..columns import PieceResult
from ..errors import Cancelled
from ..schema import ColumnInfo, Schema
from ..split import TRAIN
from ..standardize import block_moments
from .access import PieceColumns


@dataclass
class Layout:
    """Feature columns in array order with their offsets."""

    features: list[ColumnInfo]
    offsets: list[int]
    width: int


def make_layout(schema: Schema) -> Layout:
    offsets, width = [], 0
    for info in schema.features:
        offsets.append(width)
        width += len(info.feature_names())
    return Layout(schema.features, offsets, width)


@dataclass
class _Task:
    """One piece to write: its kept rows, their splits and where each split's rows go."""

    index: int
    piece: PieceResult
    labels: np.ndarray
    split_of: np.ndarray
    keep: np.ndarray | None
    starts: tuple[int, int, int]


def write_arrays(pieces: list[PieceResult], columns: PieceColumns, layout: Layout,
                 labels: list[np.ndarray], keeps: list[np.ndarray | None],
                 assignment: np.ndarray, sizes: tuple[int, int, int],
                 fills: dict[str, list], workers: int = 1, cancel=None,
                 moments_of: int = 0) -> tuple[np.ndarray, np.ndarray, list]:
    """Allocate x (N, width), y and the source rows once, then write every piece into them.

    Rows are grouped train / validation / test, in file order within each.
    ``fills`` maps categorical columns to ``[position, count]``: missing cells
    get the position and the count goes up. With ``moments_of=k``, also returns
    :func:`block_moments` of the first k columns of each piece's training rows,
    computed while they are still in cache. Returns ``(x, y, moments)``.
    """
    n = sum(sizes)
    onehot = any(c.kind == "categorical" for c in layout.features)
    # np.empty/np.zeros only reserve memory; pages are committed as rows are
    # written, while each piece's block is freed once it has been copied.
    x = (np.zeros if onehot else np.empty)((n, layout.width), np.float32)
    classes = columns.schema.task == "classification"
    y = np.empty(n, np.int64) if classes else np.empty((n, 1), np.float32)
    tasks = _tasks(pieces, labels, keeps, assignment, sizes)

    def write(task: _Task) -> tuple[dict[str, int], tuple | None]:
        filled = _write_piece(task, x, y, columns, layout, fills)
        if not moments_of:
            return filled, None
        start = task.starts[TRAIN]
        count = int(np.count_nonzero(task.split_of == TRAIN))
        return filled, block_moments(x[start:start + count, :moments_of])

    moments = []
    with ThreadPoolExecutor(max(1, workers)) as pool:
        futures = [pool.submit(write, task) for task in tasks]
        try:
            for future in futures:
                if cancel is not None and cancel():
                    raise Cancelled("loading was cancelled")
                filled, moment = future.result()
                moments.append(moment)
                for name, count in filled.items():
                    fills[name][1] += count
        finally:
            for future in futures:
                future.cancel()
    return x, y, moments


def _tasks(pieces, labels, keeps, assignment, sizes) -> list[_Task]:
    """Cut the split assignment per piece and work out where each piece's rows go."""
    tasks, starts, offset = [], np.array([0, sizes[0], sizes[0] + sizes[1]]), 0
    for index, piece in enumerate(pieces):
        split_of = assignment[offset:offset + len(labels[index])]
        offset += len(split_of)
        tasks.append(_Task(index, piece, labels[index], split_of, keeps[index],
                           (int(starts[0]), int(starts[1]), int(starts[2]))))
        starts += np.bincount(split_of, minlength=3)
    return tasks


def _write_piece(task: _Task, x, y, columns: PieceColumns, layout: Layout,
                 fills: dict[str, list]) -> dict[str, int]:
    """Write one piece's kept rows; returns how many categorical cells were filled."""
    piece, filled = task.piece, dict[str, int]()
    rows = None if task.keep is None else np.flatnonzero(task.keep)
    runs = _block_runs(piece, columns, layout)
    for split in range(3):
        chosen = np.flatnonzero(task.split_of == split)
        if not len(chosen):
            continue
        dest = slice(task.starts[split], task.starts[split] + len(chosen))
        y[dest] = task.labels[chosen] if y.ndim == 1 else task.labels[chosen, None]
        selected = chosen if rows is None else rows[chosen]
        for name, count in _write_rows(x[dest], piece, task.index, selected, runs, columns,
                                       layout, fills).items():
            filled[name] = filled.get(name, 0) + count
    piece.block = None  # type: ignore[assignment]  # written: its memory goes
    for state in columns.states.values():
        state.codes.pop(task.index, None)
        state.extra_values.pop(task.index, None)
    return filled


def _block_runs(piece: PieceResult, columns: PieceColumns, layout: Layout) -> list[tuple]:
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
                runs: list[tuple], columns: PieceColumns, layout: Layout,
                fills: dict[str, list]) -> dict[str, int]:
    """Write the ``selected`` rows of one piece into ``dest`` (len(selected), width).

    Returns the number of missing categorical cells filled, per column.
    """
    covered, filled = set[int](), dict[str, int]()
    block = piece.block
    for x_start, block_start, length in runs:
        np.take(block[:, block_start:block_start + length], selected, axis=0,
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
            filled[info.name] = int(np.count_nonzero(missing))
            positions[missing] = fills[info.name][0]
        rows = np.flatnonzero(positions >= 0)
        dest[rows, offset + positions[rows]] = 1.0
    return filled
