"""Column kinds and task inference (how a file is written: csv/test_format_detection.py)."""
import numpy as np
import pandas as pd
import pytest

from nnstudio.data import DataError, LoadOptions, infer_schema, load_csv


def kinds(schema):
    return {c.name: c.kind for c in schema.columns}


def table(n=60, **columns):
    base = {"x": np.linspace(0.0, 1.0, n)}
    base.update(columns)
    base.setdefault("label", ["a", "b", "c"] * (n // 3))
    return pd.DataFrame(base)


def test_kinds_of_typical_columns():
    n = 60
    frame = table(
        n,
        name=[f"person {i}" for i in range(n)],
        colour=["red", "green"] * (n // 2),
        unit=["cm"] * n,
        seen=[f"2024-03-{1 + i % 28:02d}" for i in range(n)],
        index=np.arange(n),
        gone=[np.nan] * n,
    )
    schema = infer_schema(frame)
    assert kinds(schema) == {"x": "numeric", "name": "identifier", "colour": "categorical",
                             "unit": "constant", "seen": "date", "index": "row_number",
                             "gone": "empty", "label": "target"}
    assert schema.feature_names == ["x", "colour=green", "colour=red"]
    notes = {c.name: c.note for c in schema.columns}
    assert "mostly unique texts (60 distinct in 60 rows)" in notes["name"]
    assert "'cm' in every row" in notes["unit"]
    assert "keep dates" in notes["seen"]


def test_kept_dates_become_days_since_1970(write_csv):
    path = write_csv("when,x,label\n1970-01-02,1,a\n1970-01-11,2,b\n1970-01-03,3,a\n"
                     "1970-01-04,4,b\n")
    ds = load_csv(path, LoadOptions(keep_dates=True, standardize=False, val_fraction=0,
                                    test_fraction=0))
    assert ds.feature_names == ["x", "when"]
    assert ds.x_train[:, 1].tolist() == [1.0, 10.0, 2.0, 3.0]
    left_out = load_csv(path, LoadOptions(val_fraction=0, test_fraction=0))
    assert left_out.feature_names == ["x"]


def test_month_names_are_categories_not_dates():
    frame = table(60, month=["Jan", "Feb", "Mar", "May"] * 15)
    assert kinds(infer_schema(frame))["month"] == "categorical"


def test_categories_beyond_the_cap_share_an_other_column(write_csv):
    rows = ["city,x,label"]
    for i in range(300):
        city = f"c{i % 8}" if i % 10 else f"rare{i}"  # 8 common + 30 rare cities
        rows.append(f"{city},{i},{'ab'[i % 2]}")
    ds = load_csv(write_csv("\n".join(rows)), LoadOptions(max_categories=5))
    city = [n for n in ds.feature_names if n.startswith("city=")]
    assert len(city) == 5 and city[-1] == "city=<other>"
    assert "38 categories: the 4 most frequent get a column each" in ds.summary()
    onehot = ds.x_train[:, [ds.feature_names.index(n) for n in city]]
    assert np.all(onehot.sum(axis=1) == 1)


@pytest.mark.parametrize("values, task, n_classes", [
    (["a", "b"] * 30, "classification", 2),
    ([0, 1, 2] * 20, "classification", 3),
    ([1.0, 2.0] * 30, "classification", 2),
    (list(np.linspace(0, 5, 60)), "regression", None),
    (list(range(60)), "regression", None),  # many distinct integers
])
def test_task_is_inferred_from_the_target(values, task, n_classes):
    schema = infer_schema(pd.DataFrame({"x": np.arange(60) % 7, "y": values}))
    assert schema.task == task
    assert (schema.class_names is None) == (n_classes is None)
    if n_classes:
        assert len(schema.class_names) == n_classes


def test_task_can_be_overridden():
    frame = pd.DataFrame({"x": np.arange(60) % 7, "y": [0, 1, 2] * 20})
    assert infer_schema(frame, LoadOptions(task="regression")).task == "regression"
    floats = pd.DataFrame({"x": np.arange(60) % 7, "y": np.arange(60) * 0.5})
    schema = infer_schema(floats, LoadOptions(task="classification"))
    assert schema.task == "classification" and len(schema.class_names) == 60


def test_numeric_class_names_read_like_the_file(write_csv):
    ds = load_csv(write_csv("x,y\n1,3\n2,10\n3,3\n4,10\n5,3\n6,10\n"))
    assert ds.class_names == ["3", "10"]
    assert ds.n_outputs == 2


def test_constant_numeric_target_is_an_error_for_regression():
    frame = pd.DataFrame({"x": np.arange(30.0), "y": [2.5] * 30})
    with pytest.raises(DataError, match="column 'y'.*same value \\(2.5\\) in every row"):
        infer_schema(frame, LoadOptions(task="regression"))


def test_no_usable_feature_is_explained():
    frame = pd.DataFrame({"id": [f"u{i}" for i in range(40)], "y": ["a", "b"] * 20})
    with pytest.raises(DataError, match="no column can be used.*'id': left out: mostly unique"):
        infer_schema(frame)


def test_infer_schema_reads_a_path(write_csv):
    schema = infer_schema(write_csv("h,w,kind\n1,2,cat\n3,4,dog\n5,6,cat\n"))
    assert schema.target == "kind" and schema.class_names == ["cat", "dog"]


def test_frames_with_duplicate_names_are_rejected():
    frame = pd.DataFrame([[1, 2, "a"], [3, 4, "b"]], columns=["x", "x", "y"])
    with pytest.raises(DataError, match="two columns are named 'x'"):
        infer_schema(frame)
