"""Our engine against PyTorch autograd in float64, and against torch.nn / torch.optim.

Runs whenever torch is importable; CI installs it and makes a missing torch an error.
"""
import numpy as np
import pytest

from nnstudio.engine import (SGD, Adam, BatchNorm, Context, Dense, Dropout, LeakyReLU, Network,
                             ReLU, Sigmoid, Tanh, build_network, loss_for_task)

from .numeric import relative_error
from .torch_mirror import torch_forward, torch_parameters

LAYER_MAKERS = [
    lambda r: Dense(int(r.integers(2, 9)), init=str(r.choice(["he", "xavier"]))),
    lambda r: ReLU(), lambda r: LeakyReLU(float(r.uniform(0.01, 0.3))), lambda r: Tanh(),
    lambda r: Sigmoid(), lambda r: BatchNorm(momentum=float(r.uniform(0.05, 0.5))),
    lambda r: Dropout(float(r.uniform(0.1, 0.6))),
]


def random_network(seed, task):
    rng = np.random.default_rng(seed)
    layers = [LAYER_MAKERS[int(i)](rng) for i in rng.integers(0, len(LAYER_MAKERS), rng.integers(3, 9))]
    outputs = 3 if task == "classification" else 2
    net = build_network(layers, n_features=5, task=task, n_outputs=outputs, seed=seed, dtype=np.float64)
    for _, layer in net.batchnorm_layers():  # non-trivial running statistics and affine params
        layer.buffers["running_mean"][:] = rng.standard_normal(layer.input_dim)
        layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, layer.input_dim)
        layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.input_dim)
        layer.params["beta"][:] = rng.standard_normal(layer.input_dim)
    return net, rng


@pytest.mark.parametrize("bn_stats", ["batch", "running"])
@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("seed", range(12))
def test_outputs_and_every_gradient_match_torch_autograd(torch, seed, task, bn_stats):
    net, rng = random_network(seed, task)
    x = rng.standard_normal((9, 5))
    y = rng.integers(0, 3, 9) if task == "classification" else rng.standard_normal((9, 2))
    ctx = Context(training=True, rng=rng, bn_stats=bn_stats)
    ours = net.forward(x, ctx)
    net.zero_grad()
    loss = net.loss.forward(ours, y)
    net.backward(net.loss.backward())

    params = torch_parameters(torch, net)
    batch_flags = {i: layer.uses_batch_stats(ctx) for i, layer in net.batchnorm_layers()}
    theirs = torch_forward(torch, net, params, x, batch_flags)
    F = torch.nn.functional
    if task == "classification":
        torch_loss = F.cross_entropy(theirs, torch.tensor(y))
    else:
        torch_loss = F.mse_loss(theirs, torch.tensor(y))
    torch_loss.backward()

    assert relative_error(ours, theirs.detach().numpy()) < 1e-10
    assert abs(loss - torch_loss.item()) <= 1e-10 * abs(torch_loss.item())
    for _, name, _, grad in net.named_parameters():
        expected = params[name].grad.numpy()
        if np.abs(expected).max() < 1e-12:  # e.g. a bias feeding BatchNorm: true gradient 0
            assert np.abs(grad).max() < 1e-12, name
        else:
            assert relative_error(grad, expected) < 1e-10, name


def test_batchnorm_running_statistics_match_torch_after_training_steps(torch):
    rng = np.random.default_rng(0)
    ours = BatchNorm(momentum=0.3)
    ours.build(4, rng, np.float64)
    theirs = torch.nn.BatchNorm1d(4, momentum=0.3, dtype=torch.float64)
    theirs.train()
    for step in range(6):
        batch = rng.standard_normal((int(rng.integers(2, 10)), 4)) * (step + 1) + step
        ours.forward(batch, Context.train(rng))
        theirs(torch.tensor(batch))
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.buffers["num_batches_tracked"]) == int(theirs.num_batches_tracked) == 6


OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.05}, {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True}, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("adam", {"lr": 0.01}, {"lr": 0.01}),
    ("adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
     {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}),
]


@pytest.mark.parametrize("l2", [0.0, 0.1])
@pytest.mark.parametrize("kind, ours_settings, torch_settings", OPTIMIZER_CASES)
def test_optimizer_updates_match_torch_optim_over_20_steps(torch, kind, ours_settings, torch_settings, l2):
    """Our L2 penalty (l2/2)·ΣW² in the objective equals torch's weight_decay=l2."""
    rng = np.random.default_rng(1)
    net = Network([Dense(3)], loss_for_task("regression"), 4, seed=0, dtype=np.float64)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    optimizer = SGD(**ours_settings) if kind == "sgd" else Adam(**ours_settings)
    weight = torch.tensor(net.layers[0].params["W"].copy(), requires_grad=True)
    bias = torch.tensor(net.layers[0].params["b"].copy(), requires_grad=True)
    torch_cls = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    torch_opt = torch_cls([{"params": [weight], "weight_decay": l2}, {"params": [bias]}], **torch_settings)
    from nnstudio.engine import Regularization

    for _ in range(20):
        net.compute_gradients(x, y, Context.inference(), Regularization(l2=l2))
        optimizer.step(net.named_parameters())
        torch_opt.zero_grad()
        torch.nn.functional.mse_loss(torch.tensor(x) @ weight + bias, torch.tensor(y)).backward()
        torch_opt.step()
    assert relative_error(net.layers[0].params["W"], weight.detach().numpy()) < 1e-10
    assert relative_error(net.layers[0].params["b"], bias.detach().numpy()) < 1e-10
