"""The BatchNorm statistics choice: one resolution rule for the layer, cs231n-style layers and
the gradient checker, and one list of choices for every setting that takes it."""
import itertools

import numpy as np
import pytest

from nnstudio.engine import BatchNorm, Context, Dense
from nnstudio.engine.context import (AUTO, BATCH, BN_STATS_CHOICES, BN_STATS_MODES, RUNNING,
                                     other_bn_mode, require_bn_stats)
from nnstudio.engine.function_layers import stats_mode


def expected_batch(override: str, network_wide: str, training: bool) -> bool:
    """The rule written out by hand: a layer's own choice, then the network's, then training."""
    choice = override if override != AUTO else network_wide
    return training if choice == AUTO else choice == BATCH


@pytest.mark.parametrize("override, network_wide, training",
                         list(itertools.product(BN_STATS_CHOICES, BN_STATS_CHOICES, (False, True))))
def test_a_layer_override_wins_unless_auto_and_auto_follows_training(override, network_wide,
                                                                     training):
    ctx = Context(training=training, bn_stats=network_wide)
    assert ctx.uses_batch_stats(override) == expected_batch(override, network_wide, training)
    assert BatchNorm(stats=override).uses_batch_stats(ctx) == ctx.uses_batch_stats(override)
    assert stats_mode(ctx) == ("train" if expected_batch(AUTO, network_wide, training) else "test")


def test_a_forward_pass_uses_the_statistics_the_rule_names():
    x = np.random.default_rng(0).standard_normal((8, 3)) * 4 + 2
    layer = BatchNorm(stats=AUTO)
    layer.build(3, np.random.default_rng(0), np.float64)
    batch_out = layer.forward(x, Context(bn_stats=BATCH))
    running_out = layer.forward(x, Context(bn_stats=RUNNING))
    assert np.allclose(batch_out.mean(axis=0), 0.0, atol=1e-12)  # normalised by the batch
    assert np.allclose(running_out, x / np.sqrt(1 + layer.eps))  # running mean 0, variance 1


def test_the_modes_are_the_choices_without_auto_and_each_has_an_other():
    assert set(BN_STATS_MODES) == set(BN_STATS_CHOICES) - {AUTO}
    assert {other_bn_mode(mode) for mode in BN_STATS_MODES} == set(BN_STATS_MODES)
    assert all(other_bn_mode(mode) != mode for mode in BN_STATS_MODES)


def test_a_choice_outside_the_list_is_refused_by_name():
    require_bn_stats(AUTO)
    with pytest.raises(ValueError, match=r"predict_bn_stats must be one of \('batch', 'running'\), "
                                         r"got 'auto'"):
        require_bn_stats(AUTO, "predict_bn_stats", BN_STATS_MODES)
    with pytest.raises(ValueError, match="BatchNorm stats must be one of"):
        BatchNorm(stats="frozen")


def test_layers_declare_the_settings_that_take_one_of_a_list():
    assert BatchNorm.CHOICES == {"stats": BN_STATS_CHOICES}
    assert Dense.CHOICES == {"init": ("he", "xavier")}
    for init in Dense.CHOICES["init"]:
        Dense(4, init=init)
    with pytest.raises(ValueError, match="Dense init must be one of"):
        Dense(4, init="lecun")
