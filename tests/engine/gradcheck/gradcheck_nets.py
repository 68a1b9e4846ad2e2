"""Random small networks for gradient-check tests and the tolerance measurement.

Shared by tests/engine/gradcheck and bench/gradcheck_tolerances.py. Every draw goes
through the generator passed in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnstudio.engine import BatchNorm, Regularization, build_network
from nnstudio.engine.gradcheck import CheckConfig

ACTIVATIONS = ("relu", "leakyrelu:0.1", "tanh", "sigmoid")


@dataclass
class Case:
    """A network, a batch and the settings to check it with."""

    spec: str
    network: object
    x: np.ndarray
    y: np.ndarray
    config: CheckConfig

    def describe(self) -> str:
        c = self.config
        return (f"{self.spec} | {self.network.loss.type_name} | batch {self.x.shape[0]} | "
                f"bn {c.bn_stats} | reg {c.include_regularization} {c.regularization}")


def random_spec(rng: np.random.Generator) -> str:
    """1–3 hidden blocks: Dense, maybe BatchNorm, an activation, maybe Dropout."""
    tokens = []
    for _ in range(int(rng.integers(1, 4))):
        tokens.append(f"dense:{int(rng.integers(3, 13))}")
        order = rng.random()
        activation = ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))]
        if order < 0.35:
            tokens += ["batchnorm", activation]
        elif order < 0.5:
            tokens += [activation, "batchnorm"]
        else:
            tokens.append(activation)
        if rng.random() < 0.3:
            tokens.append(f"dropout:{rng.choice([0.1, 0.3, 0.5]):g}")
    return ",".join(tokens)


def random_case(rng: np.random.Generator, bn_stats: str | None = None, spec: str | None = None,
                task: str | None = None, regularization: bool | None = None,
                batch: int | None = None, **config) -> Case:
    """A random correct network with a batch, BatchNorm statistics mode and penalty."""
    spec = spec or random_spec(rng)
    task = task or ("classification" if rng.random() < 0.7 else "regression")
    features = int(rng.integers(2, 7))
    outputs = int(rng.integers(2, 5)) if task == "classification" else int(rng.integers(1, 3))
    network = build_network(spec, features, task, outputs, seed=int(rng.integers(1 << 30)))
    weight_scale = float(rng.choice([0.5, 1.0, 2.0]))
    for layer in network.layers:
        if "W" in layer.params:
            layer.params["W"] *= weight_scale
            layer.params["b"] += rng.normal(0, 0.1, layer.params["b"].shape).astype(np.float32)
        if isinstance(layer, BatchNorm):
            layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.input_dim)
            layer.params["beta"][:] = rng.normal(0, 0.3, layer.input_dim)
            layer.buffers["running_mean"][:] = rng.normal(0, 1, layer.input_dim)
            layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, layer.input_dim)
    n = batch or int(rng.integers(4, 17))
    x = rng.normal(0, float(rng.choice([0.3, 1.0, 3.0])), (n, features))
    if task == "classification":
        y = rng.integers(0, outputs, n)
    else:
        # Targets in the thousands too: the noise floor must follow the loss value.
        y = rng.normal(0, 1, (n, outputs)) * float(rng.choice([1.0, 1.0, 10.0, 1000.0]))
    include = bool(rng.random() < 0.5) if regularization is None else regularization
    reg = Regularization(l1=float(rng.choice([0.0, 1e-3, 1e-2])),
                         l2=float(rng.choice([0.0, 1e-3, 1e-1]))) if include else Regularization()
    settings = dict(bn_stats=bn_stats or str(rng.choice(["batch", "running"])), dropout="fixed",
                    seed=int(rng.integers(1 << 20)), regularization=reg,
                    include_regularization=include)
    settings.update(config)
    return Case(spec, network, x, y, CheckConfig(**settings))


def force_kink(network, x: np.ndarray, offset: float = 3e-7) -> bool:
    """Put one ReLU/LeakyReLU input within ``offset`` of 0 (float64 networks).

    Needs layer 0 to be a Dense followed by a ReLU or LeakyReLU; shifts one bias so that
    the pre-activation of sample 0, unit 0 is ``offset``: perturbing the weights feeding
    it by ±h then switches the unit on and off. Returns False if the layout differs.
    """
    from nnstudio.engine import Dense, LeakyReLU, ReLU

    layers = network.layers
    if len(layers) < 2 or type(layers[0]) is not Dense or type(layers[1]) not in (ReLU, LeakyReLU):
        return False
    dense = layers[0]
    z = np.asarray(x, dtype=np.float64) @ dense.params["W"] + dense.params["b"]
    dense.params["b"][0] -= z[0, 0] - offset
    return True
