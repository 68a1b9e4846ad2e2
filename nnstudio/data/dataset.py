"""Training-ready arrays with their names, encoding and a readable summary: :class:`Dataset`."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .errors import data_error
from .options import TASKS, LoadOptions
from .preprocessing import ColumnEncoding, Preprocessing
from .schema import ColumnInfo
from .split import split_assignment
from .standardize import Standardizer
from .standardize import standardize_target as fit_target_scaler

SPLITS = ("train", "val", "test")


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
class LoadReport:
    """What loading did: rows kept and dropped, columns used and left out, notices."""

    source: str
    rows: RowReport
    columns: list[ColumnInfo]
    target: str | None = None
    notices: list[str] = field(default_factory=list)


class Dataset:
    """Feature and label arrays split into train / validation / test.

    Attributes
    ----------
    x_train, x_val, x_test : ndarray, float32, shape (N_split, D)
        C-contiguous views of one array (rows grouped by split).
    y_train, y_val, y_test : ndarray
        int64 (N_split,) class indices, or float32 (N_split, 1) for regression.
    task : {"classification", "regression"}
    feature_names : list of str
        One per feature column (``"color=red"`` for one-hot columns).
    class_names : list of str or None
        Class index -> name (classification only).
    target, source : str
        Target column name; the CSV path or ``"builtin:<name>"``.
    preprocessing : Preprocessing
        Re-applies the encoding and standardization to new data.
    target_scaler : Standardizer or None
        Regression with a standardized target: its training mean and scale
        (``y_*`` hold standardized values; :meth:`inverse_target` undoes it).
    options : LoadOptions
        The options the dataset was built with.
    report : LoadReport
        Details used by :meth:`summary`.
    rows_train, rows_val, rows_test : ndarray, int64 (N_split,)
        Where each row came from: 0-based data row of the file (blank lines
        count, the header does not), or row of the arrays given to
        :meth:`from_arrays`.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, sizes: tuple[int, int, int], *, task: str,
                 feature_names: list[str], class_names: list[str] | None, target: str,
                 source: str, preprocessing: Preprocessing, options: LoadOptions,
                 report: LoadReport, assignment: np.ndarray | None = None,
                 kept_rows: np.ndarray | None = None) -> None:
        n_train, n_val, _ = sizes
        bounds = (0, n_train, n_train + n_val, x.shape[0])
        self.x_train, self.x_val, self.x_test = (x[a:b] for a, b in zip(bounds, bounds[1:]))
        self.y_train, self.y_val, self.y_test = (y[a:b] for a, b in zip(bounds, bounds[1:]))
        # Where rows came from is worked out only when asked (see rows_*).
        self._assignment = (np.repeat(np.arange(3, dtype=np.int8), sizes)
                            if assignment is None else assignment)
        self._kept_rows = kept_rows
        self._rows: dict[int, np.ndarray] = {}
        self.task, self.feature_names, self.class_names = task, list(feature_names), class_names
        self.target, self.source = target, source
        self.preprocessing, self.options, self.report = preprocessing, options, report

    @property
    def target_scaler(self) -> Standardizer | None:
        return getattr(self.preprocessing, "target_standardizer", None)

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        """Targets or predictions (N, 1) in the target's own units (float64)."""
        return self.preprocessing.inverse_target(y)

    @property
    def target_unit_scale(self) -> float:
        """What one standardized target unit is in the target's units (1 if unscaled)."""
        scaler = self.target_scaler
        return 1.0 if scaler is None else float(scaler.scale[0])

    def _source_rows(self, split: int) -> np.ndarray:
        if split not in self._rows:
            chosen = np.flatnonzero(self._assignment == split)
            self._rows[split] = chosen if self._kept_rows is None else self._kept_rows[chosen]
        return self._rows[split]

    @property
    def rows_train(self) -> np.ndarray:
        return self._source_rows(0)

    @property
    def rows_val(self) -> np.ndarray:
        return self._source_rows(1)

    @property
    def rows_test(self) -> np.ndarray:
        return self._source_rows(2)

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_val(self) -> int:
        return self.x_val.shape[0]

    @property
    def n_test(self) -> int:
        return self.x_test.shape[0]

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of classes, or 1 for regression."""
        if self.task != "classification":
            return 1
        assert self.class_names is not None  # a classification dataset names its classes
        return len(self.class_names)

    def split(self, name: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of the split ``"train"``, ``"val"`` or ``"test"``."""
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def batches(self, split: str = "train", batch_size: int = 32,
                rng: np.random.Generator | None = None,
                shuffle: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterate over ``(x_batch, y_batch)`` of one split; the last batch may be smaller.

        Parameters
        ----------
        split : {"train", "val", "test"}
        batch_size : int
            Rows per batch (>= 1).
        rng : numpy.random.Generator
            Draws the order when ``shuffle``; required then, so that every epoch's
            order follows the caller's seed.
        shuffle : bool
            False yields consecutive rows (views, no copies).
        """
        x, y = self.split(split)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        if shuffle and not isinstance(rng, np.random.Generator):
            raise ValueError("shuffle=True needs rng, a numpy.random.Generator")
        order = rng.permutation(x.shape[0]) if shuffle and rng is not None else None
        return _batches(x, y, int(batch_size), order)

    def class_counts(self, split: str = "train") -> np.ndarray | None:
        """Rows per class in a split, int64 (n_classes,); None for regression."""
        if self.task != "classification":
            return None
        return np.bincount(self.split(split)[1], minlength=self.n_outputs)

    def summary(self) -> str:
        """A readable account of rows, columns used and left out, classes and missing values."""
        from .summary import summarize  # deferred: summary formatting is only for display
        return summarize(self)

    @classmethod
    def from_arrays(cls, x, y, task: str, feature_names: list[str] | None = None,
                    class_names: list[str] | None = None, val_fraction: float = 0.15,
                    test_fraction: float = 0.15, seed: int = 0, standardize: bool = True,
                    source: str = "arrays", standardize_target: bool = True) -> "Dataset":
        """Build a dataset from in-memory arrays.

        Parameters
        ----------
        x : array_like, shape (N, D)
            Finite feature values.
        y : array_like, shape (N,) or (N, 1)
            Class indices 0..K-1 for classification, finite numbers for regression.
        task : {"classification", "regression"}
        feature_names, class_names : list of str, optional
            Defaults ``x0, x1, ...`` and ``"0", "1", ...``.
        val_fraction, test_fraction, seed, standardize, standardize_target
            As in :class:`LoadOptions`.
        source : str
            Recorded as :attr:`source`.

        Raises
        ------
        DataError
            Wrong shapes, non-finite values, bad labels, fewer than two classes.
        """
        options = LoadOptions(task=task, val_fraction=val_fraction, test_fraction=test_fraction,
                              seed=seed, standardize=standardize,
                              standardize_target=standardize_target)
        x, y, feature_names, class_names = _check_arrays(x, y, task, feature_names, class_names)
        labels = y if task == "classification" else None
        assignment = split_assignment(len(x), val_fraction, test_fraction,
                                      np.random.default_rng(seed), labels)
        order = np.argsort(assignment, kind="stable")
        counts = np.bincount(assignment, minlength=3)
        sizes = (int(counts[0]), int(counts[1]), int(counts[2]))
        x = np.ascontiguousarray(x[order], dtype=np.float32)
        y = y[order]
        standardizer = None
        if standardize:
            standardizer = Standardizer.fit(x[:sizes[0]])
            standardizer.transform(x, inplace=True)
        if task == "regression":
            y = np.array(y, dtype=np.float32)  # standardized in place below: not the caller's
        target_scaler = fit_target_scaler(y, sizes[0], task, options)
        columns = [ColumnInfo(name, "numeric", True) for name in feature_names]
        preprocessing = Preprocessing([ColumnEncoding(name, "numeric") for name in feature_names],
                                      "drop", standardizer, None, task, class_names,
                                      target_standardizer=target_scaler)
        report = LoadReport(source, RowReport(rows_read=len(x)), columns)
        return cls(x, y, sizes, task=task, feature_names=feature_names, class_names=class_names,
                   target="y", source=source, preprocessing=preprocessing, options=options,
                   report=report, assignment=assignment)


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int,
             order: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, x.shape[0], batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            rows = order[start:start + batch_size]
            yield x[rows], y[rows]


def _check_arrays(x, y, task, feature_names, class_names):
    """Validate and normalize the inputs of :meth:`Dataset.from_arrays`."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise data_error(f"x must have shape (N, D) with N, D >= 1, not {x.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (x.shape[0],):
        raise data_error(f"y must have shape ({x.shape[0]},) to match x, not {y.shape}")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        row, col = (int(v) for v in bad[0])
        raise data_error(f"x[{row}, {col}] is {x[row, col]}; features must be finite")
    feature_names = list(feature_names) if feature_names is not None else [
        f"x{j}" for j in range(x.shape[1])]
    if len(feature_names) != x.shape[1]:
        raise data_error(f"{len(feature_names)} feature names for {x.shape[1]} columns")
    if task == "regression":
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise data_error(f"y[{int(np.argmax(~np.isfinite(y)))}] is not finite")
        return x, y.astype(np.float32).reshape(-1, 1), feature_names, None
    y, class_names = _check_labels(y, class_names)
    return x, y, feature_names, class_names


def _check_labels(y: np.ndarray, class_names):
    """int64 labels and class names; labels must be whole numbers 0..K-1."""
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise data_error("classification labels must be whole numbers 0..K-1")
    y = y.astype(np.int64)
    n_classes = len(class_names) if class_names is not None else int(y.max()) + 1
    if y.min() < 0 or y.max() >= n_classes:
        raise data_error(f"labels must be in 0..{n_classes - 1}, found {y.min()}..{y.max()}")
    if np.count_nonzero(np.bincount(y, minlength=n_classes)) < 2:
        raise data_error("classification needs at least two classes among the labels")
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    return y, names
