"""Property: whatever bytes a file holds, load_csv returns a Dataset or raises DataError."""
import json
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.data import DataError, Dataset, LoadOptions, load_csv

_SETTINGS = settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])

CELLS = st.one_of(
    st.sampled_from(["", "NA", "nan", "?", "null", "inf", "-inf", "1e400", "0", "1", "-2.5",
                     "abc", "a,b", '"q"', '"x\ny"', '"open', " 3 ", "True", "2024-01-05", "é",
                     "\t", ";", "1,5"]),
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(alphabet="ab ,;\"\n\r\t?", max_size=4),
)


def _csv_text(rows):
    return "\n".join(",".join(row) for row in rows)


CSV_LIKE = st.lists(st.lists(CELLS, min_size=1, max_size=5), min_size=0, max_size=12).map(
    lambda rows: _csv_text(rows).encode("utf-8"))

# Rectangular tables reach schema decisions, splitting and filling, not only the parser:
# each column is numbers, labels, dates or anything, with some missing cells.
MISSING = st.sampled_from(["", "NA", "?"])
NUMBER_CELLS = st.one_of(st.integers(-3, 3).map(str),
                         st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: f"{v:.3g}"))
COLUMN_CELLS = st.sampled_from([
    st.one_of(NUMBER_CELLS, NUMBER_CELLS, NUMBER_CELLS, MISSING),
    st.one_of(st.sampled_from(["x", "y", "z"]), MISSING),
    st.one_of(st.sampled_from(["2024-01-05", "2023-12-31", "1999-07-01"]), MISSING),
    st.one_of(st.integers(0, 99).map(lambda i: f"id{i}"), MISSING),
    st.one_of(NUMBER_CELLS, st.sampled_from(["inf", "1e400", "x", "True", " 2 ", ""])),
])


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 30))
    kinds = draw(st.lists(COLUMN_CELLS, min_size=2, max_size=4))
    columns = [draw(st.lists(kind, min_size=n_rows, max_size=n_rows)) for kind in kinds]
    rows = [list(row) for row in zip(*columns)]
    if draw(st.booleans()):
        rows.insert(0, [f"c{j}" for j in range(len(kinds))])
    return _csv_text(rows).encode("utf-8")


TABLES = tables()

def _check(content: bytes, options: LoadOptions = LoadOptions()) -> None:
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        try:
            ds = load_csv(path, options)
        except DataError:
            return
        assert isinstance(ds, Dataset)
        x = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
        assert x.dtype == np.float32 and np.all(np.isfinite(x))
        assert ds.n_train >= 1 and len(ds.feature_names) == ds.n_features == x.shape[1]
        if ds.task == "classification":
            y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
            assert y.min() >= 0 and y.max() < ds.n_outputs
        json.dumps(ds.preprocessing.to_dict())
        assert ds.summary()
    finally:
        os.unlink(path)


@_SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_dataset_or_a_data_error(content):
    _check(content)


@_SETTINGS
@given(CSV_LIKE, st.sampled_from(["drop", "mean", "most_frequent"]))
def test_csv_like_text_gives_a_dataset_or_a_data_error(content, missing):
    _check(content, LoadOptions(missing=missing))


@_SETTINGS
@given(TABLES, st.sampled_from(["drop", "mean", "most_frequent"]), st.booleans())
def test_tables_give_a_dataset_or_a_data_error(content, missing, keep_dates):
    _check(content, LoadOptions(missing=missing, keep_dates=keep_dates, max_categories=3))
