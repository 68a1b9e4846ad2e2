"""Verdicts that cannot lie, for the code users bring (issue "checker truth", points 1-9)."""
import numpy as np
import pytest

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker, check_network
from nnstudio.engine.user_code import UserCodeError

from . import student_layers  # noqa: F401 - registers the student layers


def _classification(features=4, rows=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1.5, (rows, features)), rng.integers(0, 3, rows)


# -- 2. custom layers see plain (N, D) inputs -------------------------------------------
def test_a_cs231n_style_batchnorm_passes_when_right_and_fails_when_its_mean_path_is_missing():
    x, y = _classification()
    network = build_network("dense:6,student_bn,tanh", 4, "classification", 3, seed=1)
    report = check_network(network, x, y)
    assert report.passed, report.format_text()
    assert report.phases["fit"].totals["kink"] == 0
    network.layers[1].MISTAKE = "no_mean_path"
    report = check_network(network, x, y)
    assert not report.passed and not report.phases["fit"].passed
    assert [(c.layer_index, c.part) for c in report.phases["fit"].culprits] == [(1, "input")]
    assert report.phases["fit"].totals["kink"] == 0  # never excused as kinks


# -- 3. a kink excuses only what the switch explains --------------------------------------
def test_a_large_step_does_not_excuse_a_wrong_gradient_as_a_kink():
    x, y = _classification(rows=10)
    network = build_network("dense:8,relu,dense:6,relu", 4, "classification", 3, seed=2)
    network.layers[0].set_fault("weight_grad_averaged")
    checker = GradientChecker(network, x, y, CheckConfig(h=0.1))
    checker.run()
    w = checker.tensor_summary("0.W")
    assert w.mismatch >= 0.9 * w.checked, (w.mismatch, w.kink)
    assert w.kink == 0


def test_a_large_step_on_a_correct_relu_network_finds_no_mismatch():
    x, y = _classification(rows=10)
    network = build_network("dense:8,relu,dense:6,relu", 4, "classification", 3, seed=2)
    report = GradientChecker(network, x, y, CheckConfig(h=0.1)).run()
    assert report.totals["mismatch"] == 0, report.format_text()


# -- 4. the floor does not grow with |L| past the gradients --------------------------------
@pytest.mark.parametrize("fault", ["loss:missing_factor_2", "0:weight_grad_averaged",
                                   "0:bias_not_summed", "loss:not_divided_by_batch"])
def test_regression_targets_around_1e8_do_not_hide_faults(fault):
    from nnstudio.engine.faults import apply_fault_spec
    rng = np.random.default_rng(4)
    x = rng.normal(size=(24, 3))
    y = (1e8 + 1e7 * rng.normal(size=(24, 1)))
    network = build_network("dense:4", 3, "regression", 1, seed=0)
    apply_fault_spec(network, fault)
    report = check_network(network, x, y)
    assert not report.passed, report.format_text()


def test_correct_regression_at_1e8_is_unverifiable_or_passes_but_never_a_mismatch():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(24, 3))
    y = (1e8 + 1e7 * rng.normal(size=(24, 1)))
    report = check_network(build_network("dense:4", 3, "regression", 1, seed=0), x, y)
    assert report.phases["fit"].totals["mismatch"] == 0


# -- 5. truncation error is confirmed away, never a false alarm ---------------------------
def test_saturated_sigmoids_on_unstandardized_inputs_pass():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 30, (32, 4))   # unstandardized: sigmoids saturate, curvature is large
    y = rng.integers(0, 3, 32)
    network = build_network("dense:12,sigmoid,dense:8,sigmoid", 4, "classification", 3, seed=0)
    report = check_network(network, x, y)
    assert report.passed, report.format_text()


def test_batchnorm_with_tiny_eps_on_a_constant_feature_passes():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3))
    x[:, 1] = 2.5  # constant in the batch
    network = build_network("batchnorm:0.1:1e-6,dense:5,tanh", 3, "classification", 3, seed=0)
    report = check_network(network, x, rng.integers(0, 3, 16))
    assert report.phases["fit"].totals["mismatch"] == 0, report.format_text()


def test_confirmation_says_which_rule_decided():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 30, (32, 4))
    network = build_network("dense:12,sigmoid,dense:8,sigmoid", 4, "classification", 3, seed=0)
    checker = GradientChecker(network, x, rng.integers(0, 3, 32), CheckConfig(h=1e-3))
    report = checker.run()
    rules = {r.rule for r in checker.results}
    assert "truncation" in rules and report.totals["mismatch"] == 0


# -- 6. one random state for every evaluation ----------------------------------------------
@pytest.mark.parametrize("source", ["global", "ctx"])
def test_a_custom_dropout_drawing_from_numpy_or_ctx_rng_gets_one_mask(source):
    x, y = _classification()
    network = build_network("dense:8,student_dropout:0.5,dense:5,tanh", 4, "classification", 3,
                            seed=0)
    network.layers[1].SOURCE = source
    first = check_network(network, x, y)
    assert first.passed, first.format_text()
    again = check_network(network, x, y)
    assert first.phases["fit"].totals == again.phases["fit"].totals


def test_a_backward_that_draws_its_own_mask_fails_and_says_why():
    x, y = _classification()
    network = build_network("dense:8,student_dropout:0.5,dense:5,tanh", 4, "classification", 3,
                            seed=0)
    network.layers[1].MISTAKE = "new_mask_in_backward"
    report = check_network(network, x, y).phases["fit"]
    assert not report.passed
    assert any(p.kind == "nondeterministic" and "draws random numbers" in p.message
               for p in report.problems)
    assert report.culprits[0].layer_index == 1


def test_an_unseeded_generator_is_caught_by_the_determinism_probe():
    x, y = _classification()
    network = build_network("dense:8,student_dropout:0.5,dense:5,tanh", 4, "classification", 3,
                            seed=0)
    network.layers[1].MISTAKE = "unseeded"
    report = check_network(network, x, y)
    fit = report.phases["fit"]
    assert not report.passed and "not reproducible" in fit.problems[0].message
    assert "not reproducible" in fit.format_text()
    assert np.random.get_state()[1][0] == np.random.get_state()[1][0]  # global state intact


def test_the_global_random_state_is_restored_after_a_check():
    x, y = _classification()
    network = build_network("dense:8,student_dropout:0.5,dense:5,tanh", 4, "classification", 3,
                            seed=0)
    np.random.seed(1234)
    expected = np.random.rand()
    np.random.seed(1234)
    check_network(network, x, y)
    assert np.random.rand() == expected


# -- 7. errors in user code name the file and line ------------------------------------------
def test_an_exception_in_a_custom_backward_names_its_file_and_line():
    x, y = _classification()
    network = build_network("dense:4,student_crash", 4, "classification", 3, seed=0)
    with pytest.raises(UserCodeError) as info:
        check_network(network, x, y)
    error = info.value
    assert error.path.endswith("student_layers.py") and error.kind == "IndexError"
    line = open(error.path).read().splitlines()[error.line - 1]
    assert "CRASH" in line and str(error).startswith(f"error in {error.path}:{error.line}: IndexError")


# -- 8. shapes first; realistic running statistics ----------------------------------------
def test_a_gradient_of_the_wrong_shape_is_a_failing_verdict_naming_layer_and_shapes():
    x, y = _classification(rows=12)
    network = build_network("dense:6,student_bn,relu", 4, "classification", 3, seed=0)
    network.layers[1].MISTAKE = "dgamma_row"
    report = check_network(network, x, y)
    fit = report.phases["fit"]
    assert not report.passed
    assert fit.problems[0].message == "layer 1 StudentBatchNorm: dgamma has shape (1, 6), gamma has (6,)"
    assert [(c.layer_index, c.part) for c in fit.culprits] == [(1, "shape")]


def test_the_predict_phase_uses_realistic_statistics_and_finds_a_dgamma_from_x_bug():
    x, y = _classification(rows=16)
    network = build_network("dense:6,student_bn,relu", 4, "classification", 3, seed=0)
    network.layers[0].params["b"][:] = 3.0   # so that x itself is far from x̂
    network.layers[1].MISTAKE = "dgamma_from_x"
    report = check_network(network, x, y)
    predict = report.phases["predict"]
    assert not predict.passed
    assert [(c.layer_index, c.part) for c in predict.culprits] == [(1, "parameters")]


# -- 9. fit and predict by default -----------------------------------------------------------
def test_both_phases_by_default_only_with_batchnorm_or_dropout():
    x, y = _classification()
    assert set(check_network(build_network("dense:5,batchnorm,relu", 4, "classification", 3),
                             x, y).phases) == {"fit", "predict"}
    assert set(check_network(build_network("dense:5,relu", 4, "classification", 3),
                             x, y).phases) == {"fit"}


def test_a_batchnorm_fault_fails_the_default_check_even_though_predict_passes():
    x, y = _classification()
    network = build_network("dense:5,batchnorm,relu", 4, "classification", 3, seed=0)
    network.layers[1].set_fault("missing_1_over_n")
    report = check_network(network, x, y)
    assert not report.passed and report.phases["predict"].passed
    assert "the error enters at layer 1 BatchNorm: the gradient it returns for its input is " \
           "wrong; the gradient reaching it is right" in report.format_text()


def test_the_checked_network_is_left_bit_identical():
    x, y = _classification()
    network = build_network("dense:6,student_bn,student_dropout:0.3,dense:4,tanh", 4,
                            "classification", 3, seed=0)
    before = {k: v.copy() for k, v in network.state_dict().items()}
    check_network(network, x, y)
    after = network.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_an_eps_mistake_hidden_at_unit_variance_is_found_on_a_low_variance_batch():
    x, y = _classification(rows=16)
    network = build_network("student_bn,dense:6,relu", 4, "classification", 3, seed=0)
    network.layers[0].MISTAKE = "eps_in_backward"
    report = check_network(network, x, y)
    assert report.phases["fit"].totals["mismatch"] == 0  # invisible at variance ~2
    assert not report.passed and report.stress[0].totals["mismatch"] > 0
    assert any(phase.startswith("fit, features") and c.layer_index == 0 and c.part == "input"
               for phase, c in report.culprits)
    assert "variance ≈ eps" in report.format_text()
    network.layers[0].MISTAKE = None
    assert check_network(network, x, y).passed


def test_rows_left_out_of_a_row_mixing_input_are_covered_by_random_directions():
    """Before BatchNorm on batch statistics each input element costs a whole evaluation:
    such inputs are checked on 4 seeded rows, and along random directions over all rows.
    A dx wrong only in a row that was not sampled still fails, at the right layer."""
    x, y = _classification(rows=24)
    network = build_network("dense:5,student_last_row_bug,batchnorm,tanh", 4, "classification",
                            3, seed=0)
    checker = GradientChecker(network, x, y, CheckConfig(bn_stats="batch", dropout="off"))
    info = next(t for t in checker.tensors if t.name == "1.<input>")
    assert info.planned == 4 * 5 < info.size
    rows = {flat // 5 for flat in checker._refs[[t.name for t in checker.tensors].index(info.name)].plan}
    assert 23 not in rows  # seed 0 leaves the wrong row out: only a direction can see it
    report = checker.run()
    assert not report.passed
    direction = next(r for r in checker.direction_results if r.tensor == "1.<input>")
    assert direction.verdict == "mismatch"
    assert [(c.layer_index, c.part) for c in report.culprits] == [(1, "input")]
