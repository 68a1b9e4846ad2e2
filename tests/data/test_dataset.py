"""Dataset.from_arrays, batching, and the built-in datasets."""
import numpy as np
import pytest

from nnstudio.data import DataError, Dataset, builtin_names, make_builtin


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.normal(y[:, None] * 3.0, 1.0, size=(n, 2)) + 10.0, y


def test_from_arrays_splits_standardizes_and_remembers_rows():
    x, y = blobs()
    ds = Dataset.from_arrays(x, y, "classification", feature_names=["a", "b"],
                             class_names=["p", "q", "r"], seed=4)
    assert (ds.n_train, ds.n_val, ds.n_test) == (140, 30, 30)
    assert ds.class_counts("val").tolist() == [10, 10, 10]
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.preprocessing.standardizer.inverse_transform(ds.x_test),
                               x[ds.rows_test], rtol=1e-5)
    np.testing.assert_array_equal(ds.y_val, y[ds.rows_val])
    assert ds.source == "arrays" and ds.feature_names == ["a", "b"] and ds.n_outputs == 3


@pytest.mark.parametrize("x, y, task, message", [
    (np.zeros((5,)), np.zeros(5), "regression", "shape \\(N, D\\)"),
    (np.zeros((5, 2)), np.zeros(4), "regression", "shape \\(5,\\)"),
    (np.array([[0.0, np.nan]] * 4), np.zeros(4), "regression", "x\\[0, 1\\] is nan"),
    (np.zeros((4, 1)), np.array([0, 1, 0, 2.5]), "classification", "whole numbers"),
    (np.zeros((4, 1)), np.array([0, 0, 0, 0]), "classification", "at least two classes"),
    (np.zeros((4, 1)), np.array([0, 1, -1, 0]), "classification", "labels must be in"),
])
def test_from_arrays_rejects_bad_input(x, y, task, message):
    with pytest.raises(DataError, match=message):
        Dataset.from_arrays(x, y, task)


def test_batches_cover_each_row_once_in_a_seeded_order():
    x, y = blobs()
    ds = Dataset.from_arrays(x, y, "classification")
    batches = list(ds.batches("train", 32, rng=np.random.default_rng(0)))
    assert [len(b[0]) for b in batches] == [32, 32, 32, 32, 12]
    seen = np.concatenate([b[0] for b in batches])
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, ds.x_train.tolist()))
    again = list(ds.batches("train", 32, rng=np.random.default_rng(0)))
    np.testing.assert_array_equal(batches[0][1], again[0][1])
    other = list(ds.batches("train", 32, rng=np.random.default_rng(1)))
    assert not np.array_equal(batches[0][0], other[0][0])
    ordered = list(ds.batches("val", 7, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in ordered]), ds.y_val)


def test_batches_need_a_generator_to_shuffle():
    ds = Dataset.from_arrays(*blobs(), "classification")
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        ds.batches("train", 8)
    with pytest.raises(ValueError, match="split must be one of"):
        ds.batches("validation", 8, shuffle=False)
    with pytest.raises(ValueError, match="batch_size"):
        ds.batches("train", 0, shuffle=False)


def test_builtin_names_include_playground_sets_and_iris():
    assert {"iris", "two_spirals", "xor", "circles", "gaussians",
            "regression_surface"} <= set(builtin_names())


@pytest.mark.parametrize("name", ["two_spirals", "xor", "circles", "gaussians",
                                  "regression_surface"])
def test_generated_sets_are_seeded_two_dimensional(name):
    ds = make_builtin(name, n_samples=300, noise=0.2, seed=5)
    assert ds.n_features == 2 and ds.n_train + ds.n_val + ds.n_test == 300
    assert ds.source == f"builtin:{name}"
    again = make_builtin(name, n_samples=300, noise=0.2, seed=5)
    np.testing.assert_array_equal(ds.x_train, again.x_train)
    other = make_builtin(name, n_samples=300, noise=0.2, seed=6)
    assert not np.array_equal(ds.x_train, other.x_train)
    if ds.task == "classification":
        assert ds.n_outputs == 2 and min(ds.class_counts("train")) > 50


def test_generated_sets_have_their_shape():
    raw = make_builtin("circles", n_samples=400, noise=0.0, standardize=False)
    x = np.concatenate([raw.x_train, raw.x_val, raw.x_test])
    y = np.concatenate([raw.y_train, raw.y_val, raw.y_test])
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius[y == 1].max() <= 2.5 + 1e-6 and radius[y == 0].min() >= 3.5 - 1e-6
    xor = make_builtin("xor", n_samples=400, noise=0.0, standardize=False)
    assert np.all((xor.x_train[:, 0] * xor.x_train[:, 1] >= 0) == (xor.y_train == 1))
    noisy = make_builtin("xor", n_samples=400, noise=0.5, standardize=False)
    assert np.any((noisy.x_train[:, 0] * noisy.x_train[:, 1] >= 0) != (noisy.y_train == 1))


def test_iris_loads_from_resources():
    ds = make_builtin("iris", seed=2)
    assert ds.source == "builtin:iris"
    assert ds.n_train + ds.n_val + ds.n_test == 150
    assert ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def test_unknown_builtin_and_bad_parameters():
    with pytest.raises(ValueError, match="unknown built-in dataset 'moons'"):
        make_builtin("moons")
    with pytest.raises(ValueError, match="noise must be in"):
        make_builtin("xor", noise=2.0)
    with pytest.raises(ValueError, match="n_samples"):
        make_builtin("xor", n_samples=3)
