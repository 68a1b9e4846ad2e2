"""The directional screen: one random direction per tensor, two evaluations each.

For a tensor θ_t and a seeded random unit vector u, compare the analytic directional
derivative uᵀ∇_t L with (L(θ + h·u) − L(θ − h·u)) / 2h. A wrong backward almost surely
changes uᵀ∇L, so a whole network is screened in 2·(number of tensors) evaluations; the
element check then drills into the tensors the screen flags.
"""
from __future__ import annotations

import numpy as np

from .objective import Objective
from .results import KinkDetail, ScreenResult, TensorInfo
from .verdict import VERDICT_NAMES, classify, errors


def directional_screen(objective: Objective, tensors: list[TensorInfo]) -> list[ScreenResult]:
    """Screen every tensor in ``tensors`` (all of them, whatever their ``planned`` count)."""
    return [screen_tensor(objective, info, position) for position, info in enumerate(tensors)]


def screen_tensor(objective: Objective, info: TensorInfo, position: int) -> ScreenResult:
    """Directional check of one tensor; the direction is seeded by ``config.seed`` and
    the tensor's position, so a rerun screens along the same u."""
    config, h = objective.config, objective.config.h
    if info.is_input:
        value = objective.boundary(info.layer_index)
        assert objective.input_gradients is not None  # input tensors exist only with them
        gradient = objective.input_gradients[info.layer_index]
    else:
        value = objective.network.layers[info.layer_index].params[info.param]
        gradient = objective.gradients[info.name]
    rng = np.random.default_rng([config.seed, 2, position])
    direction = rng.standard_normal(value.shape)
    direction /= np.linalg.norm(direction) or 1.0
    analytic = float(np.vdot(direction, gradient))

    if info.is_input:
        stack = np.stack([value + h * direction, value - h * direction])
        final, patterns = objective.forward_stack(stack, info.layer_index)
        kinks = _flipped_kinks(objective, patterns, [], info.layer_index)
        d_plus = d_minus = 0.0
        l1_flips = 0
    else:
        outputs, own_patterns = _perturbed_outputs(objective, info, direction)
        final, patterns = objective.forward_stack(np.stack(outputs), info.layer_index + 1)
        kinks = _flipped_kinks(objective, patterns, own_patterns, info.layer_index)
        d_plus, d_minus, l1_flips = _penalty_steps(objective, info, value, direction)
    losses = objective.stack_loss(final)
    if l1_flips:
        kinks.append(KinkDetail(info.layer_index, info.layer_label, l1_flips, "l1"))
    numeric = float((losses[0] - losses[1] + d_plus - d_minus) / (2 * h))

    abs_error, rel_error, scale = errors(np.array([analytic]), np.array([numeric]))
    # uᵀ∇L may be small by chance; measure against its typical size ‖∇L‖/√n as well.
    typical = np.linalg.norm(gradient) / np.sqrt(max(gradient.size, 1))
    scale = np.maximum(scale, typical)
    rel_error = abs_error / scale if scale[0] > 0 else np.zeros(1)
    code = classify(abs_error, scale, np.array([bool(kinks)]), config.rtol, objective.atol)[0]
    return ScreenResult(info.name, info.layer_index, analytic, numeric, float(abs_error[0]),
                        float(rel_error[0]), VERDICT_NAMES[code], tuple(kinks))


def _perturbed_outputs(objective: Objective, info: TensorInfo, direction: np.ndarray
                       ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Layer outputs (N, D) at θ + h·u and θ − h·u, and the layer's own kink patterns."""
    layer = objective.network.layers[info.layer_index]
    value = layer.params[info.param]
    original = value.copy()
    outputs, patterns = [], []
    try:
        for sign in (1.0, -1.0):
            value[...] = original + sign * objective.config.h * direction
            outputs.append(np.array(layer.forward(objective.base.inputs[info.layer_index],
                                                  objective.ctx)))
            pattern = layer.kink_pattern()
            if pattern is not None:
                patterns.append(np.array(pattern, dtype=bool))
    finally:
        value[...] = original  # bit-identical restore
    return outputs, patterns


def _flipped_kinks(objective: Objective, patterns: dict[int, np.ndarray],
                   own_patterns: list[np.ndarray], layer_index: int) -> list[KinkDetail]:
    base, layers = objective.base, objective.network.layers
    if len(own_patterns) == 2:
        patterns = {layer_index: np.stack(own_patterns), **patterns}
    kinks = []
    for index, pattern in sorted(patterns.items()):
        reference = base.patterns[index]
        if reference is None:
            continue
        changed = (pattern[0] != pattern[1]) | (pattern[0] != reference)
        units = int(changed.sum())
        if units:
            kinks.append(KinkDetail(index, layers[index].describe(), units))
    return kinks


def _penalty_steps(objective: Objective, info: TensorInfo, value: np.ndarray,
                   direction: np.ndarray) -> tuple[float, float, int]:
    """Exact penalty change at θ ± h·u (the L2 part in closed form), and L1 sign flips."""
    reg, h = objective.regularization, objective.config.h
    layer = objective.network.layers[info.layer_index]
    if not (reg.active and info.param in layer.regularized):
        return 0.0, 0.0, 0
    plus, minus = value + h * direction, value - h * direction
    l1_base = float(np.abs(value).sum())
    l1_plus = reg.l1 * (float(np.abs(plus).sum()) - l1_base)
    l1_minus = reg.l1 * (float(np.abs(minus).sum()) - l1_base)
    linear = h * float(np.vdot(direction, value))
    quadratic = 0.5 * h * h * float(np.vdot(direction, direction))
    d_plus = l1_plus + reg.l2 * (linear + quadratic)
    d_minus = l1_minus + reg.l2 * (-linear + quadratic)
    flips = int(np.count_nonzero(np.sign(plus) != np.sign(minus))) if reg.l1 > 0 else 0
    return d_plus, d_minus, flips
