"""The check batch: seeded random rows, shared by the command line and the window."""
import numpy as np
import pytest

from nnstudio.engine.gradcheck import check_batch


def test_a_class_sorted_split_gives_a_batch_of_several_classes():
    x = np.arange(300, dtype=np.float32).reshape(150, 2)
    y = np.repeat([0, 1, 2], 50)
    bx, by = check_batch(x, y, 32, seed=0)
    assert bx.shape == (32, 2) and set(by) == {0, 1, 2}
    np.testing.assert_array_equal(bx[:, 0] // 2, np.sort(bx[:, 0] // 2))  # original order kept
    np.testing.assert_array_equal(y[(bx[:, 0] // 2).astype(int)], by)


def test_the_same_seed_gives_the_same_rows_and_small_splits_are_used_whole():
    x, y = np.random.default_rng(1).standard_normal((40, 3)), np.arange(40)
    np.testing.assert_array_equal(check_batch(x, y, 8, 5)[1], check_batch(x, y, 8, 5)[1])
    assert not np.array_equal(check_batch(x, y, 8, 5)[1], check_batch(x, y, 8, 6)[1])
    np.testing.assert_array_equal(check_batch(x, y, 100, 0)[1], y)


@pytest.mark.parametrize("size", [0, -3, 2.5])
def test_a_batch_without_rows_is_refused(size):
    with pytest.raises(ValueError, match="at least 1 row"):
        check_batch(np.zeros((4, 2)), np.zeros(4), size, 0)
