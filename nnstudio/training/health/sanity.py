"""The cs231n "babysitting" checks before a long run: the initial loss, and overfitting 20 rows.

Both work on a copy of the network and leave the given one (weights, running statistics,
optimizer, random state) untouched.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...engine.context import Context
from ...engine.layers import Dropout
from ...engine.network import Network
from ...engine.optimizers import make_optimizer
from ..checks import check_fit
from ..config import TrainConfig
from ..metrics import count_correct
from .findings import expected_initial_loss, initial_loss_finding

#: rows of the tiny batch, and the most full-batch steps spent trying to fit it
TINY_ROWS, TINY_STEPS = 20, 500
#: "reaches ~0": the data loss falls below this (cross-entropy; for regression, the mean
#: squared error relative to the variance of the 20 targets)
TINY_LOSS = 0.05
#: rows whose loss the initial-loss check averages
CHECK_ROWS = 256


@dataclass(frozen=True)
class SanityResult:
    """``passed``: the check found nothing wrong; ``message``: one sentence for the user."""

    passed: bool
    message: str
    values: dict[str, Any]


def _rows(dataset: Any, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(dataset.x_train), np.asarray(dataset.y_train)
    order = np.random.default_rng(seed).permutation(len(x))[:count]
    return x[order], y[order]


def check_initial_loss(network: Network, dataset: Any, seed: int = 0) -> SanityResult:
    """The loss of the network as it is (freshly initialised: before training) against ln C.

    Classification only: the expected loss of a network that knows nothing is ln C. The
    loss is taken in training mode (batch statistics, no dropout) on up to 256 training rows,
    without regularization.
    """
    task = check_fit(network, dataset)
    if task != "classification":
        return SanityResult(True, "the initial-loss check applies to classification (expected "
                                  "loss ln C); this is a regression task", {})
    copy = network.copy()
    x, y = _rows(dataset, CHECK_ROWS, seed)
    ctx = Context(training=True, update_stats=False, rng=np.random.default_rng(seed))
    for layer in copy.layers:
        if isinstance(layer, Dropout):
            layer.p = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        loss = float(copy.loss.forward(copy.forward(x.astype(copy.dtype), ctx), y))
    return judge_initial_loss(loss, int(network.output_dim), {"rows": len(x)})


def judge_initial_loss(loss: float, classes: int, values: dict | None = None) -> SanityResult:
    """Words for a loss at step 0 of a C-class problem (see ``findings``: above 3 × ln C)."""
    expected = expected_initial_loss(classes)
    values = {"loss": loss, "expected": expected, "classes": classes, **(values or {})}
    finding = initial_loss_finding(loss, classes)
    if finding is not None:
        return SanityResult(False, finding.message, values)
    return SanityResult(True, f"loss {loss:.3g} for {classes} classes; ln {classes} = {expected:.2f} "
                              f"expected ({loss / expected:.1f}×, a random initialisation gives up to "
                              "about 2.5×): the initialisation looks right", values)


def overfit_tiny_batch(network: Network, dataset: Any, config: TrainConfig | None = None,
                       rows: int = TINY_ROWS, steps: int = TINY_STEPS,
                       progress: Callable[[float], None] | None = None,
                       cancel: Callable[[], bool] | None = None) -> SanityResult:
    """Train a freshly initialised copy (``config.seed``) on ``rows`` training rows, full
    batch, regularization and dropout off; layer settings and injected faults are kept.

    A correct network and backward pass drive the training loss to about 0 on so few rows;
    one that cannot has a bug (or a learning rate far off). Uses the optimizer and learning
    rate of ``config``; stops as soon as the loss is below ``TINY_LOSS`` (``progress(f)``
    and ``cancel()`` are called every few steps, for a worker thread).
    """
    config = config or TrainConfig()
    task = check_fit(network, dataset)
    copy = network.copy()
    assert copy.input_dim is not None, "check_fit passed: the network is built"
    copy.build(copy.input_dim, config.seed)  # fresh weights: a trained copy would pass trivially
    for layer in copy.layers:
        if isinstance(layer, Dropout):
            layer.p = 0.0
    x, y = _rows(dataset, rows, config.seed)
    x = x.astype(copy.dtype)
    scale = 1.0
    if task == "regression":
        scale = max(float(np.var(np.asarray(y, dtype=np.float64))), 1e-12)
    optimizer = make_optimizer("adam", lr=config.lr) if config.optimizer == "adam" else \
        make_optimizer("sgd", lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)
    ctx = Context.train(np.random.default_rng(config.seed), bn_stats=config.bn_stats)
    first = loss = math.nan
    step = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(1, steps + 1):
            loss = copy.compute_gradients(x, y, ctx).data / scale
            first = loss if step == 1 else first
            if not math.isfinite(loss) or loss < TINY_LOSS:
                break
            optimizer.step(copy)
            if step % 10 == 0:
                if progress is not None:
                    progress(step / steps)
                if cancel is not None and cancel():
                    return SanityResult(False, "the tiny-batch check was cancelled", {})
    values = {"rows": len(x), "steps": step, "first_loss": first, "final_loss": loss}
    what = "loss" if task == "classification" else "loss (relative to the targets' variance)"
    if math.isfinite(loss) and loss < TINY_LOSS:
        extra = ""
        if task == "classification":
            accuracy = count_correct(copy.predict(x, ctx.with_(training=True, update_stats=False)), y)
            extra = f", {accuracy} of {len(x)} rows right"
        return SanityResult(True, f"training {what} on {len(x)} rows went from {first:.3g} to "
                                  f"{loss:.2g} in {step} steps{extra}: the network can learn", values)
    if not math.isfinite(loss):
        return SanityResult(False, f"training on {len(x)} rows diverged after {step} steps: lower "
                                   "the learning rate", values)
    return SanityResult(False, f"training {what} on {len(x)} rows only went from {first:.3g} to "
                               f"{loss:.3g} in {step} steps: the network cannot even fit {len(x)} rows — "
                               "check the gradients (Gradient check) or the learning rate", values)
