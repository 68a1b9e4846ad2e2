"""The encoding fitted when a dataset was loaded, re-applicable to new data.

:class:`Preprocessing` remembers which columns became which features (numbers,
dates as days, one-hot categories), the values used to fill missing cells and
the standardization, so a saved project can turn a new table into exactly the
same feature layout. It round-trips through JSON-safe dicts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .errors import data_error
from .options import MISSING_POLICIES, TASKS, is_missing
from .schema import to_days
from .standardize import Standardizer

FORMAT_VERSION = 1
_KINDS = ("numeric", "date", "categorical")


@dataclass
class ColumnEncoding:
    """How one source column becomes feature columns.

    ``fill`` is the value used for a missing cell (a number, or a category for
    categorical columns); None means missing cells are an error (policy "drop").
    """

    name: str
    kind: str
    categories: list[str] | None = None
    other: bool = False
    fill: float | str | None = None

    @property
    def width(self) -> int:
        if self.kind != "categorical":
            return 1
        assert self.categories is not None  # a categorical column has its categories
        return len(self.categories) + int(self.other)

    def feature_names(self) -> list[str]:
        if self.kind != "categorical":
            return [self.name]
        assert self.categories is not None  # a categorical column has its categories
        return [f"{self.name}={c}" for c in self.categories] + (
            [f"{self.name}=<other>"] if self.other else [])


class Preprocessing:
    """Encoding + filling + standardization of a table's columns into float32 features.

    Parameters
    ----------
    columns : list of ColumnEncoding
        In feature order.
    missing : {"drop", "mean", "most_frequent"}
        Policy the dataset was built with.
    standardizer : Standardizer or None
        Applied after encoding, over all feature columns.
    target, task, class_names, class_values
        The target column, the task, class names, and for numeric class labels
        their values (so new labels can be coded the same way).
    target_standardizer : Standardizer or None
        Regression only: the target's training mean and standard deviation; the arrays
        hold standardized targets, :meth:`inverse_target` gives the target's units back.
    """

    def __init__(self, columns: list[ColumnEncoding], missing: str = "drop",
                 standardizer: Standardizer | None = None, target: str | None = None,
                 task: str = "classification", class_names: list[str] | None = None,
                 class_values: list[float] | None = None,
                 target_standardizer: Standardizer | None = None) -> None:
        self.columns, self.missing, self.standardizer = list(columns), missing, standardizer
        self.target, self.task = target, task
        self.class_names = None if class_names is None else list(class_names)
        self.class_values = None if class_values is None else [float(v) for v in class_values]
        self.target_standardizer = target_standardizer
        if standardizer is not None and standardizer.n_features != self.n_features:
            raise ValueError(f"standardizer has {standardizer.n_features} columns, the encoding "
                             f"{self.n_features}")

    @property
    def n_features(self) -> int:
        return sum(c.width for c in self.columns)

    @property
    def feature_names(self) -> list[str]:
        return [name for c in self.columns for name in c.feature_names()]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode the rows of ``frame`` exactly as the training data were.

        Parameters
        ----------
        frame : pandas.DataFrame
            Holds (at least) the source columns; cells may be numbers or text.
            Categories never seen in training map to ``<other>`` when the column
            has one, else to all zeros.

        Returns
        -------
        ndarray, float32, shape (len(frame), n_features)

        Raises
        ------
        DataError
            A column is absent, a number column holds text or inf, or a cell is
            missing while the policy was "drop"; names the row and column.
        """
        absent = [c.name for c in self.columns if c.name not in frame.columns]
        if absent:
            raise data_error("the table lacks column(s) " + ", ".join(map(repr, absent)),
                             hint="Use a table with the same columns as the training file")
        x = np.zeros((len(frame), self.n_features), np.float32)
        offset = 0
        for column in self.columns:
            if column.kind == "categorical":
                self._one_hot(frame[column.name], column, x[:, offset:offset + column.width])
            else:
                x[:, offset] = self._numbers(frame[column.name], column)
            offset += column.width
        if self.standardizer is not None:
            self.standardizer.transform(x, inplace=True)
        return x

    def transform_target(self, series: pd.Series) -> np.ndarray:
        """Code a target column: int64 class indices (N,), or float32 (N, 1) for regression."""
        if self.task == "regression":
            column = ColumnEncoding(self.target or str(series.name), "numeric")
            values = self._numbers(series, column).astype(np.float32).reshape(-1, 1)
            if self.target_standardizer is not None:
                self.target_standardizer.transform(values, inplace=True)
            return values
        if self.class_values is not None:
            values = self._numbers(series, ColumnEncoding(str(series.name), "numeric"))
            by_value = {v: i for i, v in enumerate(self.class_values)}
            keys = [by_value.get(float(v)) for v in values]
        else:
            by_name = {c: i for i, c in enumerate(self.class_names or [])}
            keys = [by_name.get(str(v).strip()) for v in series]
        unknown = [i for i, k in enumerate(keys) if k is None]
        if unknown:
            raise data_error("this label is not one of the training classes", row=unknown[0] + 1,
                             column=str(series.name), value=series.iloc[unknown[0]],
                             hint="Classes are: " + ", ".join(self.class_names or []))
        return np.asarray(keys, dtype=np.int64)

    def _numbers(self, series: pd.Series, column: ColumnEncoding) -> np.ndarray:
        """float64 values of a numeric or date column, missing cells filled."""
        if column.kind == "date":
            texts = ["" if _blank(v) else str(v).strip() for v in series]
            values = to_days(texts)
            bad = np.flatnonzero(np.isnan(values) & ~np.array([t == "" for t in texts], bool))
        else:
            numbers = pd.to_numeric(series.where(~series.map(_blank), np.nan), errors="coerce")
            values = np.array(numbers, dtype=np.float64)  # a writable copy: gaps are filled below
            bad = np.flatnonzero((np.isnan(values) & ~series.map(_blank).to_numpy(bool))
                                 | np.isinf(values))
        if len(bad):
            what = "a date" if column.kind == "date" else "a finite number"
            raise data_error(f"this value is not {what}", row=int(bad[0]) + 1, column=column.name,
                             value=series.iloc[bad[0]])
        return self._fill(values, series, column)

    def _fill(self, values: np.ndarray, series: pd.Series, column: ColumnEncoding) -> np.ndarray:
        missing = np.isnan(values)
        if missing.any():
            if column.fill is None:
                raise data_error("missing value (the dataset was built dropping such rows)",
                                 row=int(np.argmax(missing)) + 1, column=column.name,
                                 hint="Fill in the value")
            values[missing] = float(column.fill)
        return values

    def _one_hot(self, series: pd.Series, column: ColumnEncoding, out: np.ndarray) -> None:
        """Write the one-hot encoding of ``series`` into ``out`` (N, width)."""
        blank = series.map(_blank).to_numpy(bool)
        if blank.any() and column.fill is None:
            raise data_error("missing value (the dataset was built dropping such rows)",
                             row=int(np.argmax(blank)) + 1, column=column.name,
                             hint="Fill in the value")
        texts = series.astype(object).where(~blank, column.fill).map(lambda v: str(v).strip())
        assert column.categories is not None  # a categorical column has its categories
        index = {c: i for i, c in enumerate(column.categories)}
        unknown = len(column.categories) if column.other else -1
        positions = texts.map(index).fillna(unknown).to_numpy(np.int64)
        rows = np.flatnonzero(positions >= 0)
        out[rows, positions[rows]] = 1.0

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        """Regression targets or predictions (N, 1) back in the target's units (float64)."""
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        scaler = self.target_standardizer
        return y if scaler is None else y * scaler.scale + scaler.mean

    def to_dict(self) -> dict:
        """JSON-safe description; :meth:`from_dict` rebuilds an equal object."""
        description = {"version": FORMAT_VERSION, "columns": [asdict(c) for c in self.columns],
                       "missing": self.missing,
                       "standardizer": None if self.standardizer is None
                       else self.standardizer.to_dict(),
                       "target": self.target, "task": self.task, "class_names": self.class_names,
                       "class_values": self.class_values}
        if self.target_standardizer is not None:  # absent: files written before it existed
            description["target_standardizer"] = self.target_standardizer.to_dict()
        return description

    @classmethod
    def from_dict(cls, d: dict | None) -> "Preprocessing":
        """Rebuild from :meth:`to_dict` output; raises ValueError naming what is wrong."""
        if not isinstance(d, dict) or d.get("version") != FORMAT_VERSION:
            raise ValueError(f"not a preprocessing description of version {FORMAT_VERSION}")
        try:
            columns = [ColumnEncoding(**c) for c in d["columns"]]
            for c in columns:
                if c.kind not in _KINDS or (c.kind == "categorical" and not c.categories):
                    raise ValueError(f"column {c.name!r}: bad kind {c.kind!r} or no categories")
            if d["missing"] not in MISSING_POLICIES or d["task"] not in TASKS:
                raise ValueError(f"bad missing policy {d['missing']!r} or task {d['task']!r}")
            scaler = d["standardizer"]
            scaler = None if scaler is None else Standardizer.from_dict(scaler)
            target_scaler = d.get("target_standardizer")
            target_scaler = None if target_scaler is None else Standardizer.from_dict(target_scaler)
            if target_scaler is not None and (d["task"] != "regression"
                                              or target_scaler.n_features != 1):
                raise ValueError("a target standardizer needs a regression target of one column")
            return cls(columns, d["missing"], scaler, d["target"], d["task"], d["class_names"],
                       d.get("class_values"), target_scaler)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"preprocessing description is incomplete: {exc}") from None


def _blank(value: object) -> bool:
    """True for a missing cell: NaN/None, a missing token, or only spaces."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return True
    return isinstance(value, str) and is_missing(value.strip())
