"""Dropout: one mask for f(θ+h), f(θ−h) and the analytic pass — or the check is meaningless."""
import numpy as np
import pytest

from nnstudio.engine import Context, Dropout, build_network
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker
from nnstudio.engine.gradcheck.objective import Objective

SPEC = "dense:10,relu,dropout:0.5,dense:8,batchnorm,tanh,dropout:0.3"


@pytest.fixture
def case():
    rng = np.random.default_rng(5)
    network = build_network(SPEC, 4, "classification", 3, seed=1)
    return network, rng.normal(size=(12, 4)), rng.integers(0, 3, 12)


def test_fixed_mask_passes(case):
    report = GradientChecker(*case, CheckConfig(dropout="fixed")).run()
    params = sum(t.checked for t in report.tensors if t.info.kind == "parameter")
    assert report.passed and params == case[0].num_parameters()
    assert report.totals["checked"] == report.totals["planned"] > params


def test_redrawing_the_mask_per_evaluation_fails(case):
    """The question the tool was born from: with a fresh mask per evaluation, the numeric
    gradient differentiates a different function each time, and the check fails."""
    report = GradientChecker(*case, CheckConfig(dropout="redraw")).run()
    assert not report.passed
    assert report.totals["mismatch"] > report.totals["checked"] // 2
    assert report.totals["kink"] == 0  # new masks flip patterns: not a kink, a different function


def test_dropout_off_passes(case):
    assert GradientChecker(*case, CheckConfig(dropout="off")).run().passed


def test_fixed_masks_are_drawn_from_the_seed_and_replayed(case):
    network, x, y = case
    first = Objective(network, x, y, CheckConfig(seed=11))
    again = Objective(network, x, y, CheckConfig(seed=11))
    other = Objective(network, x, y, CheckConfig(seed=12))
    masks = [[layer.fixed_mask for layer in o.network.layers if isinstance(layer, Dropout)]
             for o in (first, again, other)]
    assert all(m.shape == (12, w) for m, w in zip(masks[0], (10, 8)))
    assert all(np.array_equal(a, b) for a, b in zip(masks[0], masks[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(masks[0], masks[2]))
    assert first.ctx.rng is None  # nothing left to draw: a layer asking for randomness fails loudly


def test_a_given_generator_yields_the_masks_of_the_next_training_step(case):
    network, x, y = case
    rng = np.random.default_rng(99)
    objective = Objective(network, x, y, CheckConfig(), rng=rng)
    trial = network.copy(np.float64)
    trial.forward(np.asarray(x, dtype=np.float64), Context.train(np.random.default_rng(99)))
    expected = [layer.cache["keep"] for layer in trial.layers if isinstance(layer, Dropout)]
    got = [layer.fixed_mask for layer in objective.network.layers if isinstance(layer, Dropout)]
    assert all(np.array_equal(a, b) for a, b in zip(expected, got))
    assert rng.bit_generator.state == np.random.default_rng(99).bit_generator.state


def test_dropout_faults_are_found_with_a_fixed_mask(case):
    network, x, y = case
    for fault in Dropout.FAULTS:
        network.layers[2].set_fault(fault)
        report = GradientChecker(network, x, y).run()
        network.layers[2].set_fault(None)
        assert not report.passed
        assert {t.name for t in report.tensors if t.mismatch} <= \
            {"0.W", "0.b", "0.<input>", "1.<input>", "2.<input>"}
        assert [(c.layer_index, c.part) for c in report.culprits] == [(2, "input")]
