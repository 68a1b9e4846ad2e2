"""Every layer's backward against centered differences in float64, for inputs and params."""
import numpy as np
import pytest

from nnstudio.engine import BatchNorm, Context, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh

from .numeric import numeric_gradient, relative_error

N, D = 6, 5
TOL = 1e-7


def away_from_zero(rng, shape):
    """Inputs at least 0.1 from 0, so piecewise-linear layers have no kink within h."""
    values = rng.uniform(0.1, 2.0, size=shape)
    return values * rng.choice([-1.0, 1.0], size=shape)


def check_layer(layer, x, ctx_factory, seed=0):
    """Compare dx and every d(param) with centered differences of sum(out · R)."""
    rng = np.random.default_rng(seed)
    probe = layer.forward(x, ctx_factory())
    weights = rng.standard_normal(probe.shape)

    def objective():
        return float(np.sum(layer.forward(x, ctx_factory()) * weights))

    layer.zero_grad()
    layer.forward(x, ctx_factory())
    dx = layer.backward(weights)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    assert relative_error(dx, numeric_gradient(objective, x)) < TOL
    for name, value in layer.params.items():
        assert relative_error(analytic[name], numeric_gradient(objective, value)) < TOL, name


def built(layer, width=D, seed=0):
    layer.build(width, np.random.default_rng(seed), np.float64)
    return layer


@pytest.mark.parametrize("init", ["he", "xavier"])
def test_dense_gradients(init):
    rng = np.random.default_rng(1)
    layer = built(Dense(4, init=init))
    layer.params["b"][:] = rng.standard_normal(4)
    check_layer(layer, rng.standard_normal((N, D)), Context.inference)


@pytest.mark.parametrize("layer", [ReLU(), LeakyReLU(0.2), Tanh(), Sigmoid()],
                         ids=["relu", "leakyrelu", "tanh", "sigmoid"])
def test_activation_gradients(layer):
    rng = np.random.default_rng(2)
    check_layer(built(layer), away_from_zero(rng, (N, D)), Context.inference)


def batchnorm_with_state(stats="auto"):
    rng = np.random.default_rng(3)
    layer = built(BatchNorm(stats=stats))
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, D)
    layer.params["beta"][:] = rng.standard_normal(D)
    layer.buffers["running_mean"][:] = rng.standard_normal(D)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, D)
    return layer


def test_batchnorm_gradients_with_batch_statistics():
    x = np.random.default_rng(4).standard_normal((N, D)) * 3 + 1
    check_layer(batchnorm_with_state(), x, lambda: Context(training=True))


def test_batchnorm_gradients_with_running_statistics():
    x = np.random.default_rng(5).standard_normal((N, D))
    check_layer(batchnorm_with_state(), x, Context.inference)


def test_batchnorm_layer_override_beats_context():
    x = np.random.default_rng(6).standard_normal((N, D))
    layer = batchnorm_with_state(stats="running")
    assert not layer.uses_batch_stats(Context(training=True))
    check_layer(layer, x, lambda: Context(training=True))
    layer = batchnorm_with_state(stats="batch")
    assert layer.uses_batch_stats(Context.inference())
    check_layer(layer, x, Context.inference)


def test_dropout_gradients_with_a_fixed_seed():
    x = np.random.default_rng(7).standard_normal((N, D))
    layer = built(Dropout(0.4))
    # A fresh generator with the same seed for every evaluation: the same mask each time.
    check_layer(layer, x, lambda: Context(training=True, rng=np.random.default_rng(11)))
    assert 0 < layer.cache["keep"].mean() < 1


def test_dense_accepts_leading_axes_like_independent_batches():
    rng = np.random.default_rng(8)
    layer = built(Dense(3))
    stack = rng.standard_normal((4, N, D))
    together = layer.forward(stack, Context.inference())
    for copy_index in range(4):
        alone = layer.forward(stack[copy_index], Context.inference())
        np.testing.assert_allclose(together[copy_index], alone, rtol=1e-12)


def test_batchnorm_reduces_over_the_batch_axis_of_each_copy():
    rng = np.random.default_rng(9)
    layer = batchnorm_with_state()
    stack = rng.standard_normal((3, N, D))
    ctx = Context(training=True)
    together = layer.forward(stack, ctx)
    for copy_index in range(3):
        np.testing.assert_allclose(together[copy_index], layer.forward(stack[copy_index], ctx),
                                   rtol=1e-12)
