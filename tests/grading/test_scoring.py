"""The second look: a disagreement at h that vanishes at h/10 (a kink crossed inside the step,
or truncation) is no mismatch; a wrong gradient disagrees at both steps."""
import numpy as np

from nnstudio.grading.assignment import Check
from nnstudio.grading.scoring import _better_estimate

CHECK = Check("c", "gradient", "train", 1.0, 0)


def _relu_values(x, h):
    f = lambda v: np.maximum(0.0, v)  # noqa: E731
    return np.stack([f(x + h), f(x - h), f(x + h / 10), f(x - h / 10)], axis=1)


def test_a_relu_switch_inside_the_step_is_resolved_by_the_smaller_step():
    x = np.array([3e-6, 0.5, -0.2])                  # the first sits within h of the switch
    numeric, floors = _better_estimate(np.array([1.0, 1.0, 0.0]), _relu_values(x, 1e-5), CHECK, 1e-10)
    np.testing.assert_allclose(numeric, [1.0, 1.0, 0.0], atol=1e-9)


def test_a_wrong_gradient_disagrees_at_both_steps():
    x = np.array([0.5, 0.7])
    numeric, _ = _better_estimate(np.array([2.0, 2.0]), _relu_values(x, 1e-5), CHECK, 1e-10)
    np.testing.assert_allclose(numeric, [1.0, 1.0], atol=1e-9)   # still 1, not the claimed 2
