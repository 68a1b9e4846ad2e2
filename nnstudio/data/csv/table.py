"""Preview a CSV file as a frame and infer its schema without building arrays.

For the data panel: :func:`read_table` shows what the reader sees (same
delimiter, header and missing-value detection as :func:`load_csv`), and
:func:`infer_schema` shows what each column would be used as.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..columns import ColumnState, merge_piece
from ..errors import PieceProblem, data_error
from ..options import LoadOptions
from ..schema import Schema, decide_schema, settle_text_columns
from .locate import located_error
from .pieces import nul_error
from .reader import convert_frame, find_infinite, infinite_problem, parse_frame
from .sniff import sniff


def read_table(path: str | Path, nrows: int | None = None,
               opts: LoadOptions | None = None) -> pd.DataFrame:
    """Read a CSV file (or its first ``nrows`` data rows) into a pandas DataFrame.

    Numbers are parsed as numbers, missing tokens (empty, NA, NaN, N/A, null,
    ?) become NaN, and blank lines are rows of NaN. The whole file is read into
    memory when ``nrows`` is None: use :func:`load_csv` for large files.

    Raises
    ------
    DataError
        As for :func:`load_csv`.
    """
    opts = opts if opts is not None else LoadOptions()
    if nrows is not None and (not isinstance(nrows, int) or nrows < 0):
        raise ValueError(f"nrows must be a non-negative integer or None, not {nrows!r}")
    fmt = sniff(path, opts)
    data = fmt.sample
    if not fmt.sample_is_whole_file and (nrows is None or data.count(b"\n") < nrows):
        with open(fmt.path, "rb") as handle:
            handle.seek(fmt.data_start)
            data = handle.read()
        nul = data.find(b"\x00")
        if nul >= 0:
            raise nul_error(fmt, fmt.data_start + nul)
    try:
        frame, _ = parse_frame(data, fmt, None)
    except PieceProblem as problem:
        raise located_error(fmt, problem, fmt.data_start, 0) from None
    return frame if nrows is None else frame.head(nrows)


def infer_schema(source: str | Path | pd.DataFrame, opts: LoadOptions | None = None,
                 nrows: int | None = None) -> Schema:
    """Kinds of all columns, the target and the task, as :func:`load_csv` would decide.

    Parameters
    ----------
    source : path or pandas.DataFrame
        A CSV file (read with :func:`read_table`) or a frame with unique column names.
    opts : LoadOptions, optional
        ``target``, ``task``, ``max_categories`` and ``keep_dates`` are used.
    nrows : int, optional
        Read only this many rows of a file (a preview may decide differently
        from the whole file, e.g. a column constant in the first rows).

    Raises
    ------
    DataError
        Unusable target, no usable feature, duplicate names, infinite values.
    """
    opts = opts if opts is not None else LoadOptions()
    path = None if isinstance(source, pd.DataFrame) else str(source)
    frame = source if isinstance(source, pd.DataFrame) else read_table(str(source), nrows, opts)
    frame = _plain_frame(frame, path)
    names = list(frame.columns)
    target = opts.target if opts.target is not None else names[-1]
    piece = convert_frame(frame, target)
    states = {name: ColumnState(name, j) for j, name in enumerate(names)}
    try:
        infinite = find_infinite(piece)
        if infinite is not None:
            problem, hint = infinite_problem("inf")
            raise PieceProblem(problem, record=infinite[0], column=infinite[1], value="inf",
                               hint=hint)
        merge_piece(states, 0, piece)
        settle_text_columns(states, ".")
    except PieceProblem as problem:
        row = None if problem.record is None else problem.record + 1
        raise data_error(problem.problem, path=path, row=row, column=problem.column,
                         value=problem.value, hint=problem.hint) from None
    return decide_schema(states, opts, path)


def _plain_frame(frame: pd.DataFrame, path: str | None) -> pd.DataFrame:
    """String column names, unique; nullable numbers as float64 (NA -> NaN)."""
    names = [str(c) for c in frame.columns]
    if not names:
        raise data_error("the table has no columns", path=path)
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise data_error(f"two columns are named {duplicate!r}", path=path,
                         hint="Rename one of them")
    frame = frame.set_axis(names, axis=1)
    nullable = [n for n, d in frame.dtypes.items()
                if isinstance(d, pd.api.extensions.ExtensionDtype) and d.kind in "iuf"]
    return frame.astype({n: "float64" for n in nullable}) if nullable else frame
