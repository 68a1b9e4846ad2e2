"""Stepping: one element, tensor, layer, to the next mismatch or the end; sampled; screened."""
import time

import numpy as np
import pytest

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import CheckConfig, ElementResult, GradientChecker, TensorInfo

SPEC = "dense:6,batchnorm,relu,dense:5,tanh"


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    network = build_network(SPEC, 4, "classification", 3, seed=2)
    return network, rng.normal(size=(9, 4)), rng.integers(0, 3, 9)

# These tests are about stepping through parameter tensors; input gradients are
# covered by test_gradcheck_localization.py.
PARAMS_ONLY = CheckConfig(check_inputs=False)


def test_tensors_are_known_before_anything_runs(case):
    checker = GradientChecker(*case, PARAMS_ONLY)
    assert [t.name for t in checker.tensors] == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b",
                                                 "5.W", "5.b"]
    first = checker.tensors[0]
    assert isinstance(first, TensorInfo)
    assert (first.layer_index, first.layer_label, first.param, first.shape, first.planned) == \
        (0, "Dense(6)", "W", (4, 6), 24)
    assert checker.checked == 0 and checker.tensor_summaries()[0].status == "unchecked"


def test_one_element_at_a_time_in_row_major_order(case):
    checker = GradientChecker(*case, PARAMS_ONLY)
    results = [checker.step()[0] for _ in range(8)]
    assert all(isinstance(r, ElementResult) for r in results)
    assert [r.index for r in results] == [(0, j) for j in range(6)] + [(1, 0), (1, 1)]
    assert [r.flat_index for r in results] == list(range(8))
    assert checker.checked == 8 and len(checker.results) == 8
    assert checker.tensor_summary("0.W").checked == 8
    r = results[0]
    assert r.abs_error == pytest.approx(abs(r.analytic - r.numeric))
    assert r.numeric == pytest.approx((r.f_plus - r.f_minus) / 2e-5, rel=1e-6, abs=1e-9)


def test_step_tensor_then_layer_then_end(case):
    checker = GradientChecker(*case, PARAMS_ONLY)
    checker.step()
    rest_of_tensor = checker.step("tensor")
    assert len(rest_of_tensor) == 23 and {r.tensor for r in rest_of_tensor} == {"0.W"}
    layer = checker.step("layer")
    assert {r.tensor for r in layer} == {"0.b"}
    assert checker.step("layer")[-1].tensor == "1.beta"
    report = checker.run()
    assert report.complete and checker.checked == case[0].num_parameters() and checker.finished
    assert checker.step() == []  # nothing left


def test_finished_and_current_follow_the_last_delivered_element(case):
    checker = GradientChecker(*case, CheckConfig(samples_per_tensor=1, check_inputs=False))
    assert checker.current is None and not checker.finished
    for _ in range(7):
        checker.step()
    assert not checker.finished and checker.current.tensor == "5.W"
    last = checker.step()[0]
    assert checker.finished and checker.current == last and last.tensor == "5.b"


def test_run_to_the_next_mismatch_stops_on_it(case):
    network, x, y = case
    network.layers[3].set_fault("weight_grad_averaged")  # only 3.W is wrong
    checker = GradientChecker(network, x, y, PARAMS_ONLY)
    results = checker.step("mismatch")
    assert results[-1].verdict == "mismatch" and results[-1].tensor == "3.W"
    assert all(r.verdict != "mismatch" for r in results[:-1])
    assert checker.tensor_summary("1.beta").complete
    more = checker.step("mismatch")
    assert len(more) == 1  # the next element of 3.W is wrong too
    assert not checker.passed


def test_interrupted_stepping_gives_the_same_results_as_one_run(case):
    straight = GradientChecker(*case, PARAMS_ONLY).run()
    checker = GradientChecker(*case, PARAMS_ONLY)
    stream = checker.advance("end")
    for _ in range(17):
        next(stream)
    stream.close()  # a stopped worker
    checker.step("tensor")
    checker.run()
    columns = ("analytic", "numeric", "flat")
    again = {c: checker.element_columns()[c] for c in columns}
    assert checker.report().totals == straight.totals
    reference = GradientChecker(*case, PARAMS_ONLY)
    reference.run()
    for column in columns:
        assert np.array_equal(again[column], reference.element_columns()[column])


def test_running_summaries_and_worst_element(case):
    network, x, y = case
    network.layers[0].set_fault("weight_grad_averaged")
    checker = GradientChecker(network, x, y, PARAMS_ONLY)
    checker.step("tensor")
    summary = checker.tensor_summary("0.W")
    assert summary.status == "mismatch" and summary.complete and summary.mismatch == 24
    assert summary.worst.verdict == "mismatch" and summary.max_rel_error > 0.5
    layers = {s.index: s for s in checker.layer_summaries()}
    assert layers[0].checked == 24 and layers[0].planned == 30 and not layers[0].complete
    assert layers[3].status == "unchecked"


def test_sampled_mode_checks_k_seeded_elements_per_tensor(case):
    config = CheckConfig(samples_per_tensor=3, seed=4, check_inputs=False)
    first = GradientChecker(*case, config)
    first.run()
    assert [t.planned for t in first.tensors] == [3] * 8
    again = GradientChecker(*case, config)
    again.run()
    assert np.array_equal(first.element_columns()["flat"], again.element_columns()["flat"])
    other = GradientChecker(*case, CheckConfig(samples_per_tensor=3, seed=5, check_inputs=False))
    other.run()
    assert not np.array_equal(first.element_columns()["flat"], other.element_columns()["flat"])


def test_directional_screen_finds_the_faulty_tensor_and_the_check_drills_into_it(case):
    network, x, y = case
    assert all(r.verdict == "ok" for r in GradientChecker(network, x, y, PARAMS_ONLY).screen())
    network.layers[3].set_fault("bias_not_summed")
    checker = GradientChecker(network, x, y, CheckConfig(screen_first=True, check_inputs=False))
    report = checker.run()
    assert {r.tensor for r in checker.screen_results if r.verdict != "ok"} == {"3.b"}
    assert [t.name for t in checker.tensors if t.planned] == ["3.b"]
    assert report.totals["checked"] == 5 and not report.passed
    assert checker.tensor_summary("3.b").screen.verdict == "mismatch"


def test_upstream_faults_show_in_the_screen(case):
    network, x, y = case
    network.layers[1].set_fault("no_mean_path")
    flagged = {r.tensor for r in GradientChecker(network, x, y, PARAMS_ONLY).screen() if r.verdict != "ok"}
    assert flagged == {"0.W", "0.b"}
    network.layers[1].set_fault("no_variance_path")
    flagged = {r.tensor for r in GradientChecker(network, x, y, PARAMS_ONLY).screen() if r.verdict != "ok"}
    assert flagged == {"0.W"}  # the variance term sums to zero over the batch: db stays right


def test_tensor_errors_are_laid_out_like_the_tensor(case):
    checker = GradientChecker(*case, PARAMS_ONLY)
    checker.step("element")
    grid = checker.tensor_errors("0.W")
    assert grid.shape == (4, 6) and not np.isnan(grid[0, 0]) and np.isnan(grid[0, 1])
    codes = checker.tensor_errors("0.W", "code")
    assert codes[0, 0] == 0 and codes[3, 5] == -1


def test_yields_come_promptly_even_for_a_large_tensor():
    rng = np.random.default_rng(0)
    network = build_network("dense:128,tanh,dense:128,tanh", 64, "classification", 10, seed=0)
    x, y = rng.normal(size=(32, 64)), rng.integers(0, 10, 32)
    checker = GradientChecker(network, x, y, CheckConfig(max_chunk_seconds=0.005, check_inputs=False))
    gaps, last = [], time.perf_counter()
    for count, _ in enumerate(checker.advance("end")):
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
        if count == 3000:
            break
    assert max(gaps) < 0.1  # generous for a loaded CI machine; typically ~5 ms


def test_until_must_be_a_known_stop(case):
    with pytest.raises(ValueError, match="until"):
        GradientChecker(*case, PARAMS_ONLY).step("forever")
