"""Decide what each column is and whether it is used: the :class:`Schema` of a table.

Kinds of column and what happens to them:

=============  =============================================================
numeric        used as is (standardized when asked)
categorical    few distinct texts: one-hot encoded, at most ``max_categories``
               columns (rarer texts share one ``<other>`` column)
date           text that reads as dates: left out unless ``keep_dates``, then
               days since 1970-01-01
identifier     mostly unique texts (names, ids): left out
constant       one value in every row: left out
empty          no value at all: left out
row_number     numbers counting rows 0,1,2,... under an index-like name
               ("index", "id", "Unnamed: 0", a blank header): left out
=============  =============================================================
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .columns import MAX_CLASSES, ColumnState
from .errors import PieceProblem, data_error, show_names, show_value
from .number_text import is_grouped_number, parse_number
from .options import LoadOptions

_DATE_SAMPLE = 200
_DATE_SHARE = 0.9
_DATE_CHARS = set("-/:. T")
USED_KINDS = ("numeric", "date", "categorical")
# Names under which tools save a row index; only such a column that counts rows
# is left out, so that a real feature such as a time step 0, 1, 2... is kept.
_INDEX_NAME = re.compile(r"unnamed: ?\d+|index|idx|id|row|row ?(id|no|num|number)|#|no\.?|"
                         r"column_1", re.IGNORECASE)


@dataclass
class ColumnInfo:
    """What a column is, whether it is used, and why.

    ``note`` says why a column is left out, or what was done to it (categories
    capped, dates converted); ``categories`` are the one-hot categories in
    feature order, with rarer ones merged when ``other`` is True.
    """

    name: str
    kind: str
    used: bool
    note: str = ""
    n_missing: int = 0
    n_distinct: int | None = None
    categories: list[str] | None = None
    other: bool = False
    numbers_from_text: bool = False

    def feature_names(self) -> list[str]:
        """Names of the feature columns this column becomes."""
        if not self.used or self.kind == "target":
            return []
        if self.kind == "categorical":
            assert self.categories is not None  # decided with the kind
            return [f"{self.name}={c}" for c in self.categories] + (
                [f"{self.name}=<other>"] if self.other else [])
        return [self.name]


@dataclass
class Schema:
    """Kinds of all columns, the target and the task.

    ``features`` lists the used columns in the order their values appear in
    the feature array: numeric columns, then dates, then one-hot groups.
    """

    columns: list[ColumnInfo]
    target: str
    task: str
    class_names: list[str] | None
    class_values: np.ndarray | None = None
    notices: list[str] = field(default_factory=list)
    #: why this target: "chosen", or how the default was picked (see default_target)
    target_reason: str = "chosen"

    @property
    def features(self) -> list[ColumnInfo]:
        return [c for kind in USED_KINDS for c in self.columns if c.used and c.kind == kind]

    @property
    def feature_names(self) -> list[str]:
        return [name for c in self.features for name in c.feature_names()]

    def column(self, name: str) -> ColumnInfo:
        return next(c for c in self.columns if c.name == name)


#: column names that say "this is what to predict" (compared without case, spaces, _ or -)
LABEL_NAMES = ("target", "label", "labels", "class", "classes", "species", "y", "outcome",
               "category", "diagnosis", "response", "variety", "quality", "survived", "churn")


def _plain_name(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _could_be_classes(state: ColumnState) -> bool:
    # an identifier (a name per row) is not a label
    values = state.n_rows - state.n_missing
    return (state.kind == "text" and not state.too_many
            and 2 <= len(state.categories) <= min(MAX_CLASSES, max(2, values // 2)))


def default_target(states: dict[str, ColumnState]) -> tuple[str, str]:
    """The target when none is given, and why: a column named like a label, else the last
    text column that could be classes, else the last column.

    A year or an id is usually not what a lab asks to predict, yet it is often last.
    """
    names = list(states)
    wanted = {_plain_name(label): rank for rank, label in enumerate(LABEL_NAMES)}
    named = sorted((wanted[_plain_name(n)], i) for i, n in enumerate(names)
                   if _plain_name(n) in wanted and states[n].kind != "empty")
    if named:
        name = names[named[0][1]]
        return name, f"its name {name!r} says it is the label"
    text = [n for n in names if _could_be_classes(states[n])]
    if text and len(names) > 1:
        return text[-1], f"{text[-1]!r} is the last text column"
    return names[-1], f"{names[-1]!r} is the last column"


def decide_schema(states: dict[str, ColumnState], opts: LoadOptions,
                  path: str | None = None) -> Schema:
    """Decide every column's kind, the target and the task.

    Raises
    ------
    DataError
        Unknown or unusable target (no values, one class, text for regression),
        or no usable feature column.
    """
    if opts.target is not None:
        target, reason = opts.target, "chosen"
    else:
        target, reason = default_target(states)
    if target not in states:
        raise data_error(f"there is no target column named {target!r}", path=path,
                         hint="Columns are: " + show_names(states))
    if len(states) < 2:
        raise data_error(f"only one column ({show_value(target)}) was found; a dataset needs at least "
                         "one feature column besides the target", path=path,
                         hint="If the file uses an unusual delimiter, choose it in the options")
    task, class_names, class_values = decide_target(states[target], opts, path)
    columns = [ColumnInfo(target, "target", True, n_missing=s.n_missing) if name == target
               else decide_feature(s, opts) for name, s in states.items()]
    schema = Schema(columns, target, task, class_names, class_values, target_reason=reason)
    if not schema.features:
        left = "; ".join(f"{c.name!r}: {c.note}" for c in columns if c.kind != "target")
        raise data_error(f"no column can be used as a feature ({left})", path=path,
                         hint="Check the target column and the delimiter")
    return schema


def decide_target(state: ColumnState, opts: LoadOptions, path: str | None
                  ) -> tuple[str, list[str] | None, np.ndarray | None]:
    """Task, class names and (numeric targets) class values for the target column."""
    name = state.name
    if state.n_values == 0:
        raise data_error("the target column has no values", path=path, column=name,
                         hint="Choose another target column")
    if state.kind == "text":
        if opts.task == "regression":
            raise data_error(f"the target holds text such as {show_value(state.categories[0])}; "
                             "regression needs numbers", path=path, column=name,
                             hint="Choose classification, or a numeric target column")
        if state.too_many or len(state.categories) > MAX_CLASSES:
            raise data_error(f"the target has more than {MAX_CLASSES} distinct values, too many "
                             "to be classes", path=path, column=name,
                             hint="Choose another target column")
        classes = sorted(c for c, n in zip(state.categories, state.counts) if n > 0)
        _check_classes(classes, name, path)
        return "classification", classes, None
    uniques = state.numeric_uniques
    integral = uniques is not None and bool(np.all(uniques == np.round(uniques)))
    task = opts.task or ("classification" if integral and uniques is not None
                                           and len(uniques) <= opts.max_categories
                         else "regression")
    if task == "regression":
        if state.vmin == state.vmax:
            raise data_error(f"the target has the same value ({state.vmin:g}) in every row",
                             path=path, column=name, hint="Choose another target column")
        return task, None, None
    if uniques is None:
        raise data_error(f"the target has more than {MAX_CLASSES} distinct values, too many "
                         "to be classes", path=path, column=name,
                         hint="Choose regression, or another target column")
    classes = [f"{v + 0.0:g}" if v == round(v) and abs(v) < 1e15 else repr(float(v))
               for v in uniques]  # + 0.0 turns -0.0 into 0.0
    _check_classes(classes, name, path)
    return task, classes, uniques


def _check_classes(classes: list[str], name: str, path: str | None) -> None:
    if len(classes) < 2:
        raise data_error(f"the target has only one class ({show_value(classes[0])}); "
                         "classification needs at least two", path=path, column=name,
                         hint="Choose another target column, or a file with more classes")


def decide_feature(state: ColumnState, opts: LoadOptions) -> ColumnInfo:
    """Kind, use and note of one feature column."""
    info = ColumnInfo(state.name, state.kind, False, n_missing=state.n_missing,
                      numbers_from_text=state.number_lut is not None)
    if state.n_values == 0:
        info.kind, info.note = "empty", f"left out: all {state.n_rows} values are missing"
    elif state.kind == "numeric":
        _decide_numeric(state, info)
    else:
        _decide_text(state, opts, info)
    return info


def _decide_numeric(state: ColumnState, info: ColumnInfo) -> None:
    if state.grouped_example is not None:
        info.note = (f"numbers with thousands separators (such as "
                     f"{show_value(state.grouped_example)}) read as numbers")
    if state.vmin == state.vmax:
        info.kind, info.note = "constant", f"left out: the value is {state.vmin:g} in every row"
    elif state.counts_rows and state.n_missing == 0 and _INDEX_NAME.fullmatch(state.name):
        info.kind, info.note = "row_number", "left out: it counts rows (a saved row index)"
    else:
        info.used = True


def _decide_text(state: ColumnState, opts: LoadOptions, info: ColumnInfo) -> None:
    n_distinct = len(state.categories)
    info.n_distinct = None if state.too_many else n_distinct
    if n_distinct == 1:
        info.kind = "constant"
        info.note = f"left out: the value is {show_value(state.categories[0])} in every row"
    elif looks_like_dates(top_categories(state, _DATE_SAMPLE)):
        info.kind, info.used = "date", opts.keep_dates
        info.note = ("used as days since 1970-01-01" if opts.keep_dates
                     else "left out: dates (choose 'keep dates' to use them as numbers)")
    elif state.too_many or (n_distinct > opts.max_categories and 2 * n_distinct >= state.n_values):
        shown = f"more than {n_distinct - 1}" if state.too_many else str(n_distinct)
        info.kind = "identifier"
        info.note = f"left out: mostly unique texts ({shown} distinct in {state.n_values} rows)"
    else:
        _decide_categories(state, opts.max_categories, info)


def _decide_categories(state: ColumnState, max_categories: int, info: ColumnInfo) -> None:
    """One-hot categories, alphabetical; beyond the cap keep the most frequent."""
    info.kind, info.used = "categorical", True
    if len(state.categories) <= max_categories:
        info.categories = sorted(state.categories)
        return
    keep = top_categories(state, max_categories - 1)
    info.categories, info.other = sorted(keep), True
    info.note = (f"{len(state.categories)} categories: the {max_categories - 1} most frequent "
                 f"get a column each, the other {len(state.categories) - len(keep)} share "
                 f"'{state.name}=<other>'")


def top_categories(state: ColumnState, count: int) -> list[str]:
    """The ``count`` most frequent categories (ties: first seen first)."""
    order = np.argsort(-state.counts, kind="stable")[:count]
    return [state.categories[i] for i in order]


def looks_like_dates(texts: list[str]) -> bool:
    """True if nearly all texts read as dates or times (and look like them: digits, separators)."""
    candidates = [t for t in texts if any(ch.isdigit() for ch in t) and _DATE_CHARS & set(t)]
    if not texts or len(candidates) < _DATE_SHARE * len(texts):
        return False
    parsed = to_days(candidates)
    return bool(np.count_nonzero(~np.isnan(parsed)) >= _DATE_SHARE * len(texts))


def to_days(texts: list[str]) -> np.ndarray:
    """float64 days since 1970-01-01 for date texts (NaN where a text is not a date)."""
    if not texts:
        return np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stamps = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce",
                                    format="mixed", utc=True)
        except (ValueError, TypeError, OverflowError):
            return np.full(len(texts), np.nan)
    seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=np.float64, na_value=np.nan) / 86400.0


def numbers_in_text(state: ColumnState, decimal: str,
                    grouped: bool = False) -> tuple[np.ndarray, float]:
    """Values of a text column's categories read as numbers (NaN if not), and the share
    of the column's values that are numbers (``grouped``: thousands separators allowed)."""
    values = np.array([np.nan if (v := parse_number(c, decimal, grouped)) is None else v
                       for c in state.categories], dtype=np.float64)
    if not len(values) or state.too_many:
        return values, 0.0
    share = state.counts[~np.isnan(values)].sum() / max(1, state.counts.sum())
    return values, float(share)


def _refuse_numbers_with_text(state: ColumnState) -> None:
    """A column with too many distinct values to keep: if they are mostly numbers, its
    texts are typos to fix, not an identifier to leave out silently."""
    if not state.may_be_numbers or state.first_text is None or state.n_values == 0:
        return
    share = state.number_values / state.n_values
    if share >= 0.5:
        index, record, text = state.first_text
        problem = PieceProblem(
            f"text in a column of numbers ({share:.0%} of its values are numbers)",
            record=record, column=state.name, value=text,
            hint="Fix the value, or leave the cell empty to mark it missing")
        problem.piece_index = index  # type: ignore[attr-defined]  # read by the loader
        raise problem


def settle_text_columns(states: dict[str, ColumnState], decimal: str) -> None:
    """Read all-number text columns as numbers; reject stray text in number columns.

    A column whose texts are all numbers (it held text only in cells that turned
    out blank) becomes numeric. A column that is mostly numbers with a few texts
    is an error naming the first text, since dropping or coding it would hide a
    typo.

    Raises
    ------
    PieceProblem
        With ``piece_index`` and ``record`` of the first text in such a column.
    """
    for state in states.values():
        if state.kind != "text":
            continue
        if state.too_many:
            _refuse_numbers_with_text(state)
            continue
        values, share = numbers_in_text(state, decimal)
        if share < 1.0 and any(is_grouped_number(c, decimal) for c in state.categories[:1000]):
            grouped, grouped_share = numbers_in_text(state, decimal, grouped=True)
            if grouped_share > share:
                values, share = grouped, grouped_share
                state.grouped_example = next(c for c in state.categories
                                             if is_grouped_number(c, decimal))
        if share == 1.0:
            state.read_as_numbers(values)
        elif share >= 0.5:
            is_text = np.append(np.isnan(values), False)
            for index in sorted(state.codes):
                hits = np.flatnonzero(is_text[state.codes[index]])
                if len(hits):
                    problem = PieceProblem(
                        f"text in a column of numbers ({share:.0%} of its values are numbers)",
                        record=int(hits[0]), column=state.name,
                        value=state.categories[state.codes[index][hits[0]]],
                        hint="Fix the value, or leave the cell empty to mark it missing")
                    problem.piece_index = index  # type: ignore[attr-defined]  # as above
                    raise problem
