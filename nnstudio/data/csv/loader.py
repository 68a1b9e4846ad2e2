"""Load a CSV file into a :class:`~nnstudio.data.dataset.Dataset`: :func:`load_csv`."""
from __future__ import annotations

import dataclasses

from collections.abc import Callable
from pathlib import Path

from ..columns import ColumnState, PieceResult, merge_piece
from ..dataset import Dataset, LoadReport
from ..errors import PieceProblem, data_error, show_names, show_value
from ..options import LoadOptions
from ..preprocessing import Preprocessing
from ..schema import Schema, decide_schema, settle_text_columns
from .assemble import build_arrays
from .locate import located_error, piece_error
from .pieces import chunk_bytes, iter_pieces
from .reader import parse_piece
from .sniff import CsvFormat, sniff

_READ_SHARE = 0.9  # of the progress range; the rest covers building the arrays


def load_csv(path: str | Path, opts: LoadOptions | None = None,
             progress: Callable[[float], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> Dataset:
    """Read a CSV file and turn it into training-ready arrays.

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8 with or without BOM, or ``opts.encoding``).
    opts : LoadOptions, optional
        Target, task, missing-value policy, split, standardization...
    progress : callable(float), optional
        Called with a fraction in [0, 1] as pieces of the file are read, and
        with 1.0 when the dataset is ready.
    cancel : callable() -> bool, optional
        Polled between pieces; returning True raises :class:`Cancelled`.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        The file cannot be read or used; the message names the file and, where
        they apply, the row, line, column and value.
    Cancelled
        ``cancel()`` returned True.
    """
    opts = opts if opts is not None else LoadOptions()
    opts.validate()
    path = str(path)
    try:
        return _load(path, opts, progress, cancel)
    except MemoryError:
        raise data_error("not enough memory to load the file", path=path,
                         hint="Use a smaller file, or fewer columns") from None


def _load(path: str, opts: LoadOptions, progress, cancel) -> Dataset:
    if progress is not None:
        progress(0.0)
    fmt = sniff(path, opts)
    target = _target_name(fmt, opts)
    states, pieces = _read(fmt, target, progress, cancel)
    schema = decide_schema(states, opts, path)
    built = build_arrays(pieces, states, schema, opts, path, cancel)
    del pieces
    dataset = make_dataset(built, schema, opts, path)
    if progress is not None:
        progress(1.0)
    return dataset


def _target_name(fmt: CsvFormat, opts: LoadOptions) -> str:
    """The target column; checked before reading the whole file."""
    if len(fmt.names) < 2:
        raise data_error(f"only one column ({show_value(fmt.names[0])}) was found; a dataset needs at "
                         "least one feature column besides the target", path=fmt.path,
                         hint="If the file uses another delimiter, choose it in the load options")
    if opts.target is None:
        return fmt.names[-1]
    if opts.target not in fmt.names:
        raise data_error(f"there is no target column named {opts.target!r}", path=fmt.path,
                         hint="Columns are: " + show_names(fmt.names))
    return opts.target


def _read(fmt: CsvFormat, target: str, progress, cancel
          ) -> tuple[dict[str, ColumnState], list[PieceResult]]:
    """Parse every piece and gather what each column holds."""
    # Hints keep a column text in every chunk; a file read as one chunk needs none.
    one_chunk = fmt.sample_is_whole_file or chunk_bytes(fmt) >= fmt.size - fmt.data_start
    text_columns = None if one_chunk else sample_text_columns(fmt)
    states = {name: ColumnState(name, j) for j, name in enumerate(fmt.names)}
    reading = None if progress is None else (lambda fraction: progress(_READ_SHARE * fraction))
    pieces: list[PieceResult] = []
    for index, piece in enumerate(iter_pieces(fmt, text_columns, target, progress=reading,
                                              cancel=cancel)):
        try:
            merge_piece(states, index, piece)
        except PieceProblem as problem:
            raise _error_in(fmt, piece, problem) from None
        piece.text = {}  # the states hold the shared codes now
        pieces.append(piece)
    try:
        settle_text_columns(states, fmt.decimal)
    except PieceProblem as problem:
        index = problem.piece_index  # type: ignore[attr-defined]  # set by settle_text_columns
        raise _error_in(fmt, pieces[index], problem) from None
    return states, pieces


def sample_text_columns(fmt: CsvFormat) -> frozenset[str]:
    """Columns holding text in the sample at the head of the file.

    They are read as text in every piece, so a later piece whose cells happen
    to be all numbers does not turn the column into numbers there.
    """
    try:
        return frozenset(parse_piece(fmt.sample, fmt, None, None).text)
    except PieceProblem as problem:
        raise located_error(fmt, problem, fmt.data_start, 0) from None


def _error_in(fmt: CsvFormat, piece: PieceResult, problem: PieceProblem):
    assert problem.record is not None  # problems inside a piece name their record
    return piece_error(fmt, piece, problem.record, problem.problem, column=problem.column,
                       value=problem.value, hint=problem.hint)


def make_dataset(built, schema: Schema, opts: LoadOptions, source: str,
                 report_source: str | None = None) -> Dataset:
    """Wrap built arrays, their encoding and a report into a Dataset."""
    preprocessing = Preprocessing(
        built.encodings, opts.missing, built.standardizer, schema.target, schema.task,
        schema.class_names,
        None if schema.class_values is None else schema.class_values.tolist(),
        built.target_standardizer)
    if opts.target is None:  # recorded, so that a saved project finds the same target again
        opts = dataclasses.replace(opts, target=schema.target)
    report = LoadReport(report_source or source, built.rows, schema.columns, schema.target,
                        _notices(schema, built))
    return Dataset(built.x, built.y, built.sizes, task=schema.task,
                   feature_names=schema.feature_names, class_names=schema.class_names,
                   target=schema.target, source=source, preprocessing=preprocessing,
                   options=opts, report=report, assignment=built.assignment,
                   kept_rows=built.kept_rows)


def _notices(schema: Schema, built) -> list[str]:
    notices = list(schema.notices)
    if schema.task == "classification":
        n_rows = built.y.shape[0]
        assert schema.class_names is not None  # classification: the schema names its classes
        counts = [int((built.y == k).sum()) for k in range(len(schema.class_names))]
        empty = [name for name, count in zip(schema.class_names, counts) if count == 0]
        if empty and n_rows:
            notices.append("classes with no rows left after dropping rows: " + ", ".join(empty))
    return notices
