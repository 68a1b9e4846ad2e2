"""load_csv end to end: the array contract, splits, standardization, missing values, summary."""
import dataclasses
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from nnstudio.data import DataError, LoadOptions, Preprocessing, load_csv, read_table


@pytest.fixture
def lab_file(write_csv):
    """200 rows: two numeric features (gaps in 'age'), a categorical, a text label 100/60/40."""
    rng = np.random.default_rng(1)
    labels = ["setosa"] * 100 + ["versicolor"] * 60 + ["virginica"] * 40
    frame = pd.DataFrame({
        "age": np.round(rng.normal(40, 12, 200), 1),
        "height": np.round(rng.normal(170, 9, 200), 2),
        "colour": rng.choice(["red", "green", "blue"], 200),
        "species": labels,
    })
    frame.loc[[3, 50, 120], "age"] = np.nan
    frame.loc[[7, 8], "colour"] = np.nan
    path = write_csv(frame.to_csv(index=False))
    return path, frame


def test_arrays_follow_the_contract(lab_file):
    path, _ = lab_file
    ds = load_csv(path)
    for x in (ds.x_train, ds.x_val, ds.x_test):
        assert x.dtype == np.float32 and x.flags["C_CONTIGUOUS"] and x.shape[1] == ds.n_features
    for y, x in ((ds.y_train, ds.x_train), (ds.y_val, ds.x_val), (ds.y_test, ds.x_test)):
        assert y.dtype == np.int64 and y.shape == (x.shape[0],)
    assert ds.feature_names == ["age", "height", "colour=blue", "colour=green", "colour=red"]
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert (ds.task, ds.n_outputs, ds.target, ds.source) == (
        "classification", 3, "species", str(path))
    assert ds.n_train + ds.n_val + ds.n_test == 195  # 5 rows with gaps dropped
    assert dataclasses.asdict(ds.options)["missing"] == "drop"


def test_regression_targets_are_float32_columns(write_csv):
    rows = ["x,price"] + [f"{i % 13},{i * 1.25}" for i in range(100)]
    ds = load_csv(write_csv("\n".join(rows)))
    assert ds.task == "regression" and ds.class_names is None and ds.n_outputs == 1
    assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (ds.n_train, 1)
    np.testing.assert_allclose(ds.inverse_target(ds.y_test)[:, 0], ds.rows_test * 1.25, atol=1e-4)
    raw = load_csv(write_csv("\n".join(rows)), LoadOptions(standardize_target=False))
    np.testing.assert_array_equal(raw.y_test[:, 0], raw.rows_test * 1.25)


def test_split_is_seeded_and_stratified(lab_file):
    path, _ = lab_file
    first = load_csv(path, LoadOptions(seed=7))
    again = load_csv(path, LoadOptions(seed=7))
    other = load_csv(path, LoadOptions(seed=8))
    np.testing.assert_array_equal(first.rows_test, again.rows_test)
    assert not np.array_equal(first.rows_test, other.rows_test)
    kept = 195
    assert first.n_val == first.n_test == round(0.15 * kept)
    # 96/59/40 rows remain per class; 29 held-out rows are shared in proportion
    # (14.4, 8.85, 6.0: the largest remainder gets the rounding)
    assert first.class_counts("val").tolist() == [14, 9, 6]
    assert first.class_counts("test").tolist() == [14, 9, 6]
    rows = np.concatenate([first.rows_train, first.rows_val, first.rows_test])
    assert len(np.unique(rows)) == kept


def test_standardization_uses_training_rows_only(lab_file):
    path, frame = lab_file
    ds = load_csv(path)
    raw_train = frame.iloc[ds.rows_train]
    scaler = ds.preprocessing.standardizer
    np.testing.assert_allclose(scaler.mean[:2], raw_train[["age", "height"]].mean(), rtol=1e-6)
    np.testing.assert_allclose(scaler.scale[:2], raw_train[["age", "height"]].std(ddof=0),
                               rtol=1e-5)
    np.testing.assert_allclose(ds.x_train[:, :2].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train[:, :2].std(axis=0), 1, atol=1e-5)
    assert np.abs(ds.x_val[:, :2].mean(axis=0)).max() > 1e-3  # not refitted on validation
    assert set(np.unique(ds.x_train[:, 2:])) == {0.0, 1.0}  # one-hot stays 0/1


def test_mean_policy_fills_with_training_mean(lab_file):
    path, frame = lab_file
    ds = load_csv(path, LoadOptions(missing="mean", standardize=False))
    assert ds.n_train + ds.n_val + ds.n_test == 200
    train_mean = frame["age"].iloc[ds.rows_train].mean()
    filled_rows = [np.flatnonzero(ds.rows_train == r) for r in (3, 50, 120)]
    for hit in filled_rows:
        if len(hit):
            assert ds.x_train[hit[0], 0] == pytest.approx(train_mean, rel=1e-6)
    encoding = ds.preprocessing.columns[0]
    assert encoding.fill == pytest.approx(train_mean, rel=1e-6)
    colour = ds.preprocessing.columns[2]
    assert colour.fill == frame["colour"].iloc[ds.rows_train].mode()[0]
    summary = ds.summary()
    assert "age: 3 (3 filled with" in summary and "colour: 2 (2 filled with" in summary


def test_most_frequent_policy_fills_numbers_with_the_mode(write_csv):
    rows = ["x,label"] + [f"{v},{'ab'[i % 2]}" for i, v in enumerate([1, 2, 2, 2, 3, "", 5, 2])]
    ds = load_csv(write_csv("\n".join(rows)), LoadOptions(
        missing="most_frequent", standardize=False, val_fraction=0, test_fraction=0))
    assert ds.x_train[5, 0] == 2.0


def test_rows_without_target_are_always_dropped(write_csv):
    path = write_csv("x,label\n1,a\n2,\n3,b\n4,NA\n5,a\n6,b\n")
    for policy in ("drop", "mean"):
        ds = load_csv(path, LoadOptions(missing=policy, val_fraction=0, test_fraction=0))
        assert ds.n_train == 4 and ds.report.rows.no_target == 2
        assert "2 rows dropped: no target value" in ds.summary()


def test_dropping_every_row_is_explained(write_csv):
    path = write_csv("x,y,label\n1,,a\n,2,b\n3,,a\n,4,b\n")
    with pytest.raises(DataError, match="no rows are left.*4 were dropped.*'mean'"):
        load_csv(path)


def test_summary_reports_rows_columns_classes_and_missing(lab_file, write_csv):
    path, _ = lab_file
    summary = load_csv(path).summary()
    for part in ["Rows: 200 read, 195 used", "5 rows dropped: missing feature values",
                 "Task: classification of 'species' into 3 classes", "Columns used (3):",
                 "colour   categorical, 3 one-hot columns",
                 "Classes (train / validation / test rows):", "setosa", "age: 3 (rows dropped)"]:
        assert part in summary, part
    ids = write_csv("id,code,x,label\n" + "".join(f"{i},u{i},{i % 5},{'ab'[i % 2]}\n"
                                                  for i in range(40)))
    summary = load_csv(ids).summary()
    assert "Columns left out (2):" in summary
    assert re.search(r"\n  id +row_number: it counts rows", summary)
    assert re.search(r"\n  code +identifier: mostly unique texts \(40 distinct in 40 rows\)",
                     summary)


def test_counting_feature_with_an_ordinary_name_is_kept(write_csv):
    ds = load_csv(write_csv("step,label\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(30))))
    assert ds.feature_names == ["step"]


def test_a_column_missing_in_every_training_row_is_filled_with_zero_quietly(write_csv):
    # column b has values in rows 0 and 1 only; find a split that leaves both out of training
    values = {0: "7.5", 1: "2.5"}
    lines = ["a,b,y"] + [f"{i},{values.get(i, '')},{'p' if i % 2 else 'q'}" for i in range(20)]
    path = write_csv("\n".join(lines) + "\n")
    for seed in range(100):
        options = LoadOptions(missing="mean", standardize=False, seed=seed, target="y")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "mean of empty slice" was one
            ds = load_csv(path, options)
        if 0 not in ds.rows_train and 1 not in ds.rows_train:
            break
    else:
        pytest.fail("no seed put rows 0 and 1 outside the training split")
    b = ds.feature_names.index("b")
    assert ds.preprocessing.columns[b].fill == 0.0
    assert np.all(ds.x_train[:, b] == 0.0)


def test_preprocessing_reproduces_the_features_of_new_data(lab_file):
    path, _ = lab_file
    ds = load_csv(path, LoadOptions(missing="mean"))
    frame = read_table(path)
    again = ds.preprocessing.transform(frame)
    np.testing.assert_allclose(again[ds.rows_train], ds.x_train, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again[ds.rows_test], ds.x_test, rtol=1e-5, atol=1e-6)
    restored = Preprocessing.from_dict(json.loads(json.dumps(ds.preprocessing.to_dict())))
    np.testing.assert_array_equal(restored.transform(frame), again)
    labels = restored.transform_target(frame["species"])
    np.testing.assert_array_equal(labels[ds.rows_val], ds.y_val)


def test_preprocessing_names_problems_in_new_data(lab_file):
    path, frame = lab_file
    ds = load_csv(path)
    with pytest.raises(DataError, match="lacks column\\(s\\) 'height'"):
        ds.preprocessing.transform(frame.drop(columns="height"))
    bad = frame.fillna({"age": 30.0, "colour": "red"})
    bad["height"] = bad["height"].astype(object)
    bad.loc[4, "height"] = "tall"
    with pytest.raises(DataError, match="row 5, column 'height', value 'tall'"):
        ds.preprocessing.transform(bad)
    with pytest.raises(DataError, match="row 4, column 'age'.*missing value"):
        ds.preprocessing.transform(frame)  # built with "drop": gaps cannot be filled
    unseen = frame.fillna({"age": 30.0, "colour": "red"})
    unseen.loc[0, "colour"] = "purple"  # unknown category: all zeros, no error
    assert ds.preprocessing.transform(unseen)[0, 2:].tolist() == [0, 0, 0]


def test_options_are_validated():
    with pytest.raises(ValueError, match="missing must be one of"):
        LoadOptions(missing="zero")
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction must be below 1"):
        LoadOptions(val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="not ASCII-compatible"):
        LoadOptions(encoding="utf-16")
    with pytest.raises(ValueError, match="task must be one of"):
        LoadOptions(task="clustering")
