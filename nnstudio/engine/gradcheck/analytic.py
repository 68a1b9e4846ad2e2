"""The analytic side of a check: one backward pass that keeps what every layer returned.

Besides the parameter gradients it keeps, for every layer k, the gradient its backward
returns for its *input* (``input_gradients[k]``, k = 0..L−1) and the gradient the loss
returns for the network's output (``input_gradients[L]``): checking those is what lets the
report name the layer where a wrong gradient starts. Everything a backward returns is
compared with the shape it must have before it is used, so a user's ``dgamma`` of shape
(1, D) is a finding naming the layer, not a numpy broadcast message.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..context import Context
from ..losses import MeanSquaredError, SoftmaxCrossEntropy
from ..network import Network
from ..regularization import Regularization
from .guard import LayerGuard
from .results import Problem



class BackwardProblem(Exception):
    """A backward returned something unusable; ``problem`` says what and where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class AnalyticPass:
    """gradients: {"k.param": array}; input_gradients[k]: (N, D_in_k), [L]: (N, D_out)."""

    gradients: dict[str, np.ndarray]
    input_gradients: list[np.ndarray]


def analytic_pass(network: Network, x: np.ndarray, y: np.ndarray, ctx: Context,
                  regularization: Regularization) -> AnalyticPass:
    """Zero the gradients, forward, loss, backward layer by layer (keeping each dx).

    Raises BackwardProblem when a backward returns the wrong shape or a non-finite value.
    """
    network.zero_grad()
    inputs, out = [], x
    for layer in network.layers:
        inputs.append(out)
        out = layer.forward(out, ctx)
    network.loss.forward(out, y)
    dout = np.array(network.loss.backward(), dtype=np.float64)
    input_gradients: list[np.ndarray] = [dout.copy()]
    for index in reversed(range(len(network.layers))):
        layer = network.layers[index]
        dx = layer.backward(dout)
        _check_returned(index, layer, dx, inputs[index])
        dout = np.asarray(dx, dtype=np.float64)
        input_gradients.append(dout.copy())
    input_gradients.reverse()
    network.add_penalty_gradients(regularization)
    gradients = {}
    for index, layer in enumerate(network.layers):
        for name, value in layer.params.items():
            grad = layer.grads.get(name)
            label = f"layer {index} {layer.describe()}"
            if grad is None:
                raise BackwardProblem(Problem("shape", index, layer.describe(),
                                              f"{label}: backward left no gradient for {name}"))
            if np.shape(grad) != value.shape:
                raise BackwardProblem(Problem(
                    "shape", index, layer.describe(),
                    f"{label}: d{name} has shape {_shape(np.shape(grad))}, {name} has "
                    f"{_shape(value.shape)}"))
            gradients[f"{index}.{name}"] = np.array(grad, dtype=np.float64, copy=True)
    for name, grad in gradients.items():
        if not np.all(np.isfinite(grad)):
            index = int(name.split(".", 1)[0])
            raise BackwardProblem(Problem("non-finite", index, network.layers[index].describe(),
                                          f"the backward pass gave NaN or infinity in {name}"))
    for layer in network.layers:
        layer.cache.clear()
    network.loss.cache.clear()
    return AnalyticPass(gradients, input_gradients)


def _check_returned(index: int, layer, dx, layer_input: np.ndarray) -> None:
    label = f"layer {index} {layer.describe()}"
    if not isinstance(dx, np.ndarray) or not np.issubdtype(dx.dtype, np.floating):
        kind = type(dx).__name__ if not isinstance(dx, np.ndarray) else f"an array of {dx.dtype}"
        raise BackwardProblem(Problem("shape", index, layer.describe(),
                                      f"{label}: backward returned {kind} for dx, expected a "
                                      f"float array of shape {_shape(layer_input.shape)}"))
    if dx.shape != layer_input.shape:
        raise BackwardProblem(Problem("shape", index, layer.describe(),
                                      f"{label}: backward returned dx of shape {_shape(dx.shape)}, "
                                      f"its input has {_shape(layer_input.shape)}"))
    if not np.all(np.isfinite(dx)):
        raise BackwardProblem(Problem("non-finite", index, layer.describe(),
                                      f"{label}: backward returned NaN or infinity in dx"))


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def rounding_scale(data_loss: float, penalty: float, boundaries: list[np.ndarray],
                   input_gradients: list[np.ndarray], params_and_grads, loss, y) -> float:
    """How large the rounding error of one evaluation of L can be, in units of EPS.

    First-order error analysis: each computed value v carries a relative error of about
    EPS, which moves L by about |∂L/∂v|·|v|·EPS. Summed over every layer's input and the
    output (``boundaries[k]`` with ``input_gradients[k]``), the parameters, and the loss's
    own inner values (cross-entropy: a log of a sum ≥ 1 per row; mean squared error: the
    subtraction of targets, ∝ |y|), it bounds the rounding noise far more tightly than a
    multiple of |L| — and grows where rounding really does (large targets, BatchNorm on a
    nearly constant feature, whose dx is ∝ 1/√eps).
    """
    total = abs(data_loss) + abs(penalty)
    for value, grad in zip(boundaries, input_gradients):
        total += float(np.abs(value * grad).sum())
    for value, grad in params_and_grads:
        total += float(np.abs(value * grad).sum())
    if isinstance(loss, SoftmaxCrossEntropy):
        total += 1.0
    elif isinstance(loss, MeanSquaredError):
        target = np.asarray(y, dtype=np.float64).reshape(input_gradients[-1].shape)
        total += float(np.abs(target * input_gradients[-1]).sum())
    return total


def determinism_probe(network: Network, guards: dict[int, LayerGuard], inputs: list[np.ndarray],
                      outputs: list[np.ndarray], ctx: Context, seed: int) -> list[Problem]:
    """Run each custom layer's forward and backward twice on the same input, and its
    backward once more under another random state; say which ones do not reproduce.

    A check compares f(θ+h), f(θ−h) and the analytic pass: if a layer's draws differ
    between evaluations, every difference is noise and no verdict means anything.
    """
    problems = []
    for index, guard in guards.items():
        layer = network.layers[index]
        saved = {name: grad.copy() for name, grad in layer.grads.items()}
        dout = np.random.default_rng([seed, 6, index]).standard_normal(outputs[index].shape)
        runs = [_forward_backward(layer, guard, inputs[index], dout, ctx, salt) for salt in (0, 0, 1)]
        guard.backward_salt = 0
        for name, grad in saved.items():
            layer.grads[name][...] = grad
        layer.cache.clear()
        label = guard.label
        problem = _probe_verdict(label, runs)
        if problem:
            problems.append(Problem("nondeterministic", index, layer.describe(), problem))
        if guard.moved_buffers:
            names = ", ".join(sorted(guard.moved_buffers))
            problems.append(Problem(
                "buffers", index, layer.describe(),
                f"{label} changed its buffers ({names}) although ctx.update_stats is False; "
                "the check put them back before every evaluation, but training would move "
                "them in evaluations too", fails=False))
    return problems


def _forward_backward(layer, guard: LayerGuard, x, dout, ctx, salt: int):
    for grad in layer.grads.values():
        grad.fill(0)
    out = np.array(layer.forward(x, ctx), copy=True)
    guard.backward_salt = salt
    dx = np.array(layer.backward(dout), copy=True)
    grads = {name: grad.copy() for name, grad in layer.grads.items()}
    return out, dx, grads


def _probe_verdict(label: str, runs) -> str | None:
    (out1, dx1, g1), (out2, dx2, g2), (out3, dx3, g3) = runs
    why = ("Every evaluation of a check must see the same random draws, or f(θ+h) − f(θ−h) "
           "measures the change of the mask, not of θ.")
    if not _same(out1, out2):
        return (f"{label}: forward is not reproducible — two calls on the same input, from "
                f"the same random state, differ by up to {_max_diff(out1, out2):.3g}. {why} "
                "Draw masks from ctx.rng or np.random (a check re-seeds both before every "
                "call), not from an unseeded generator or the clock.")
    if not _same(dx1, dx2) or any(not _same(g1[n], g2[n]) for n in g1):
        return (f"{label}: backward is not reproducible — two calls after the same forward "
                f"differ. {why}")
    if not _same(dx2, dx3) or any(not _same(g2[n], g3[n]) for n in g2):
        return (f"{label}: backward draws random numbers of its own — its result changes with "
                "the random state. It must reuse the mask that forward drew (keep it in "
                "self.cache); a new mask in backward lets gradients through units that forward "
                "dropped.")
    return None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")
