"""Split sizes and stratification; the Standardizer."""
import numpy as np
import pytest

from nnstudio.data import Standardizer
from nnstudio.data.split import split_assignment, split_sizes


@pytest.mark.parametrize("n, val, test, expected", [
    (100, 0.15, 0.15, (15, 15)), (10, 0.15, 0.15, (2, 2)), (1, 0.3, 0.3, (0, 0)),
    (2, 0.45, 0.45, (1, 0)), (7, 0.0, 0.5, (0, 4)),
])
def test_split_sizes_leave_training_rows(n, val, test, expected):
    assert split_sizes(n, val, test) == expected


def test_stratified_split_keeps_class_shares_and_a_training_row_per_class():
    labels = np.repeat([0, 1, 2, 3], [500, 300, 200, 1])
    assignment = split_assignment(len(labels), 0.2, 0.1, np.random.default_rng(0), labels)
    for k, n in enumerate([500, 300, 200]):
        split = assignment[labels == k]
        assert np.count_nonzero(split == 1) == pytest.approx(0.2 * n, abs=1)
        assert np.count_nonzero(split == 2) == pytest.approx(0.1 * n, abs=1)
    assert assignment[labels == 3].tolist() == [0]
    assert np.count_nonzero(assignment == 1) == round(0.2 * len(labels))


def test_split_depends_only_on_the_generator():
    first = split_assignment(50, 0.2, 0.2, np.random.default_rng(3))
    second = split_assignment(50, 0.2, 0.2, np.random.default_rng(3))
    np.testing.assert_array_equal(first, second)


def test_standardizer_matches_float64_statistics_and_round_trips():
    rng = np.random.default_rng(0)
    x = (rng.normal(1000.0, 0.01, size=(70_000, 3))).astype(np.float32)
    x[:, 2] = 5.0  # constant column: passes through with scale 1
    scaler = Standardizer.fit(x)
    reference = x.astype(np.float64)
    np.testing.assert_allclose(scaler.mean, reference.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale[:2], reference[:, :2].std(axis=0), rtol=1e-9)
    assert scaler.scale[2] == 1.0
    out = scaler.transform(x)
    assert out.dtype == np.float32 and out is not x
    np.testing.assert_allclose(out[:, :2].std(axis=0), 1.0, rtol=1e-3)
    restored = Standardizer.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(restored.transform(x), out)
    scaler.transform(x, inplace=True)
    np.testing.assert_array_equal(x, out)


def test_standardizer_can_leave_trailing_columns_alone():
    x = np.array([[1.0, 0.0], [3.0, 1.0]], np.float32)
    scaler = Standardizer.fit(x, columns=1)
    assert scaler.transform(x).tolist() == [[-1.0, 0.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="shape \\(N, 2\\)"):
        scaler.transform(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="scale finite and positive"):
        Standardizer([0.0], [0.0])
