"""The fast path computes what the layers compute: single-feature kernels, structured
perturbations and the column path agree with plain forward passes."""
import numpy as np
import pytest

from nnstudio.engine import (BatchNorm, Context, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh,
                             build_network)
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker
from nnstudio.engine.gradcheck.columns import column_forward, is_column_layer, perturbed_column

LAYERS = {"relu": ReLU, "leakyrelu": lambda: LeakyReLU(0.2), "tanh": Tanh, "sigmoid": Sigmoid,
          "batchnorm": BatchNorm, "dropout": lambda: Dropout(0.4)}


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("training, bn_stats", [(True, "batch"), (False, "running"), (True, "running")])
def test_single_feature_kernels_match_the_layers(kind, training, bn_stats):
    rng = np.random.default_rng(0)
    layer = LAYERS[kind]()
    layer.build(5, rng, np.float64)
    if isinstance(layer, BatchNorm):
        layer.params["gamma"][:] = rng.uniform(0.5, 2, 5)
        layer.params["beta"][:] = rng.normal(size=5)
        layer.buffers["running_mean"][:] = rng.normal(size=5)
        layer.buffers["running_var"][:] = rng.uniform(0.5, 2, 5)
    if isinstance(layer, Dropout):
        layer.fixed_mask = rng.random((7, 5)) >= 0.4
    ctx = Context(training=training, bn_stats=bn_stats)
    x = rng.normal(0, 2, (7, 5))
    assert is_column_layer(layer, ctx)
    full = layer.forward(x, ctx)
    cols = np.array([3, 0, 3, 4])
    out, pattern = column_forward(layer, ctx, x[:, cols].T, cols)
    np.testing.assert_allclose(out, full[:, cols].T, rtol=1e-14, atol=1e-15)
    if layer.kink_pattern() is not None:
        assert np.array_equal(pattern, layer.kink_pattern()[:, cols].T)


def test_a_dropout_without_a_fixed_mask_is_not_a_column_layer():
    layer = Dropout(0.5)
    layer.build(3, np.random.default_rng(0), np.float64)
    assert not is_column_layer(layer, Context(training=True))
    assert is_column_layer(layer, Context(training=False))


@pytest.mark.parametrize("param", ["W", "b"])
def test_dense_perturbations_move_one_output_column(param):
    rng = np.random.default_rng(1)
    layer = Dense(4)
    layer.build(3, rng, np.float64)
    x = rng.normal(size=(6, 3))
    base = layer.forward(x, Context())
    flat = np.arange(layer.params[param].size)
    steps = rng.choice([-1e-3, 1e-3], flat.size)
    cols, values = perturbed_column(layer, param, flat, steps, x, base, None)
    for p, (position, step) in enumerate(zip(flat, steps)):
        layer.params[param].reshape(-1)[position] += step
        moved = layer.forward(x, Context())
        layer.params[param].reshape(-1)[position] -= step
        changed = np.flatnonzero(np.any(moved != base, axis=0))
        assert list(changed) == [cols[p]]
        np.testing.assert_allclose(values[p], moved[:, cols[p]], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("bn_stats", ["batch", "running"])
def test_column_path_equals_the_generic_path(bn_stats):
    """Same numbers with the fast path on and forced off (a custom layer type in the way)."""
    rng = np.random.default_rng(2)
    network = build_network("dense:6,batchnorm,leakyrelu:0.1,dropout:0.3,dense:5,sigmoid",
                            4, "classification", 3, seed=0)
    x, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    fast = GradientChecker(network, x, y, CheckConfig(bn_stats=bn_stats))
    slow = GradientChecker(network, x, y, CheckConfig(bn_stats=bn_stats))
    slow.evaluator.column_path = [False] * len(slow.evaluator.column_path)
    fast.run()
    slow.run()
    a, b = fast.element_columns(), slow.element_columns()
    np.testing.assert_allclose(a["numeric"], b["numeric"], rtol=1e-7, atol=1e-10)
    assert np.array_equal(a["analytic"], b["analytic"])
    assert any(fast.evaluator.column_path) and fast.report().passed and slow.report().passed


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_stacked_loss_equals_the_loss_forward(task):
    rng = np.random.default_rng(4)
    network = build_network("dense:5,tanh", 3, task, 4, seed=0)
    x = rng.normal(size=(7, 3))
    y = rng.integers(0, 4, 7) if task == "classification" else rng.normal(size=(7, 4))
    objective = GradientChecker(network, x, y).objective
    out = objective.base.outputs[-1] + rng.normal(0, 0.3, (9, 7, 4))
    expected = network.copy(np.float64).loss.forward(out, y)
    np.testing.assert_allclose(objective.stack_loss(out), expected, rtol=1e-14, atol=1e-14)
