"""Importing an export's ``model.py`` and ``train.py`` in the test process, and random
networks of every built-in layer type."""
from __future__ import annotations

import importlib.util
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nnstudio.engine import BatchNorm, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh, build_network


@contextmanager
def exported_modules(directory: Path):
    """(model, train) imported fresh from ``directory``; ``train.py`` does ``import model``,
    so ``model`` is registered under that name while the block runs."""
    saved = {name: sys.modules.get(name) for name in ("model", "train")}
    try:
        model = _load(directory / "model.py", "model")
        train = _load(directory / "train.py", "train")
        yield model, train
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _batchnorm(rng, stats_choices):
    return BatchNorm(momentum=float(rng.uniform(0.05, 0.5)), eps=float(rng.choice([1e-5, 1e-3])),
                     stats=str(rng.choice(stats_choices)))


def random_network(seed: int, dtype, task: str = "classification", dropout_p=None,
                   stats_choices=("auto",), n_features: int = 5):
    """Every built-in layer type at least once, in a random order, with non-trivial BatchNorm
    parameters, running statistics and counters. ``dropout_p`` fixes every Dropout's p
    (0.0 makes a train-mode pass deterministic)."""
    rng = np.random.default_rng(seed)
    makers = [
        lambda: Dense(int(rng.integers(2, 9)), init=str(rng.choice(["he", "xavier"]))),
        lambda: ReLU(), lambda: LeakyReLU(float(rng.uniform(0.01, 0.3))), lambda: Tanh(),
        lambda: Sigmoid(), lambda: _batchnorm(rng, stats_choices),
        lambda: Dropout(float(rng.uniform(0.1, 0.6)) if dropout_p is None else dropout_p),
    ]
    order = list(range(len(makers))) + [int(i) for i in rng.integers(0, len(makers), 3)]
    rng.shuffle(order)
    layers = [makers[i]() for i in order]
    outputs = 3 if task == "classification" else 1
    net = build_network(layers, n_features=n_features, task=task, n_outputs=outputs, seed=seed,
                        dtype=dtype)
    for _, layer in net.batchnorm_layers():
        layer.buffers["running_mean"][:] = rng.standard_normal(layer.input_dim)
        layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, layer.input_dim)
        layer.buffers["num_batches_tracked"][...] = int(rng.integers(0, 1000))
        layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.input_dim)
        layer.params["beta"][:] = rng.standard_normal(layer.input_dim)
    return net, rng


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |ours − theirs| over max(1, max |ours|): a relative error of the whole array."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float(np.max(np.abs(ours - theirs)) / max(1.0, float(np.max(np.abs(ours)))))
