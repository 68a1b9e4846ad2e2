"""A second look at BatchNorm-like layers, on a batch where eps matters.

At unit variance, an eps used inconsistently between forward and backward (or forgotten in
one place) changes the gradient by a relative ~eps: far below any tolerance. On features
whose batch variance is close to eps it changes it by a factor. So every layer with
``gamma`` and ``beta`` (the built-in BatchNorm, a student's batchnorm) is checked once more
on its own: its input from the fit phase, with every other feature squeezed to variance
≈ eps, under a loss L = mean((out − T)²) with random targets T.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..context import BATCH
from ..losses import MeanSquaredError
from ..network import Network
from .checker import GradientChecker
from .config import CheckConfig
from .culprits import Culprit
from .report import CheckReport

DEFAULT_EPS = 1e-5


def batchnorm_like(layer) -> bool:
    return {"gamma", "beta"} <= set(layer.params)


def layer_eps(layer) -> float:
    """The layer's eps: an attribute, an entry of a cs231n-style parameter dict, or 1e-5."""
    eps: Any = getattr(layer, "eps", None)
    if eps is None:
        eps = (getattr(layer, "layer_param", None) or {}).get("eps")
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        return DEFAULT_EPS
    return eps if np.isfinite(eps) and eps > 0 else DEFAULT_EPS


def low_variance_batch(x: np.ndarray, eps: float, seed: int) -> tuple[np.ndarray, list[int]]:
    """x (N, D) with features 0, 2, 4, ... replaced by their mean plus noise of variance eps."""
    rng = np.random.default_rng([seed, 7])
    squeezed = np.array(x, dtype=np.float64, copy=True)
    columns = list(range(0, x.shape[1], 2))
    for column in columns:
        noise = rng.standard_normal((x.shape[0],))
        noise = (noise - noise.mean()) / (noise.std() or 1.0)
        squeezed[:, column] = x[:, column].mean() + np.sqrt(eps) * noise
    return squeezed, columns


def stress_checks(checker: GradientChecker, config: CheckConfig) -> dict[int, CheckReport]:
    """{layer index: report} for every BatchNorm-like layer of a fit-phase checker."""
    objective = checker.objective
    reports = {}
    for index, layer in enumerate(objective.network.layers):
        x = objective.base.inputs[index]
        if not batchnorm_like(layer) or x.shape[0] < 2 or x.ndim != 2:
            continue
        eps = layer_eps(layer)
        squeezed, _ = low_variance_batch(x, eps, int(config.seed) + index)
        alone = Network([_single(layer)], MeanSquaredError(), dtype=np.float64)
        alone.input_dim = x.shape[1]  # already built: building again would re-initialise
        targets = np.random.default_rng([int(config.seed), 8, index]).standard_normal(
            (x.shape[0], layer.output_dim or x.shape[1]))
        single = replace(config, bn_stats=BATCH, dropout="off", include_regularization=False)
        reports[index] = GradientChecker(alone, squeezed, targets, single).run()
    return reports


def _single(layer):
    """A copy of the layer, with the check's guard (if any) removed: the new checker wraps
    it afresh on its own copy."""
    import copy

    clone = copy.deepcopy(layer)
    for name in ("forward", "backward", "kink_pattern", "backward_params_only"):
        clone.__dict__.pop(name, None)
    clone.cache.clear()
    return clone


def relabel(culprits: list[Culprit], index: int) -> list[Culprit]:
    """Culprits of a single-layer stress check, named by the layer's place in the network."""
    moved = []
    for c in culprits:
        if c.part == "loss":
            continue  # the stress loss is ours
        message = c.message.replace("layer 0 ", f"layer {index} ", 1)
        moved.append(Culprit(index, c.label, c.part, c.max_rel_error,
                             tuple(t.replace("0.", f"{index}.", 1) for t in c.tensors),
                             message + " (on a batch whose features have variance ≈ eps)"))
    return moved
