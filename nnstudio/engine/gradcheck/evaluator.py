"""Central differences for many elements of one tensor at once.

For a chunk of P elements of a parameter of layer k, the 2P perturbed objectives
(θ±h per element) are evaluated together: layers before k are not rerun (their outputs are
cached in the objective's base pass); layer k's perturbed outputs are built from its
structure (Dense W[i, j] moves output column j by ±h·x[:, i]) or, for other layers, by
running its forward once per perturbation; the rest runs on a (2P, N, D) stack.

A chunk is cut into pieces small enough for a core's cache. (Spreading pieces over threads
was measured and dropped: the many short GIL-holding steps between numpy calls left two
threads no faster than one.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import Dense, Layer
from .columns import column_forward, is_column_layer, perturbed_column
from .objective import Objective

# Upper bound on a piece's (2P, N, D) stack, in float64 elements (512 KB): a few such
# temporaries must fit in a core's L2 cache, or the per-element cost rises by half.
STACK_BUDGET = 1 << 16


@dataclass
class ChunkOutcome:
    """Data losses at θ+h and θ−h, and flipped kink units, for P elements.

    data_plus, data_minus : (P,)
    kinks : {layer index: (P,) int counts}, only layers where some unit flipped
    """

    data_plus: np.ndarray
    data_minus: np.ndarray
    kinks: dict[int, np.ndarray]


class ChunkEvaluator:
    """Evaluates perturbed objectives of an :class:`Objective`, many per call."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        layers = objective.network.layers
        self.redraw = objective.config.dropout == "redraw"
        # For layer k: the first Dense after it (or len(layers)) and whether every layer in
        # between has a single-feature version, i.e. whether the column fast path applies.
        self.next_dense: list[int] = []
        self.column_path: list[bool] = []
        for k in range(len(layers)):
            m = next((i for i in range(k + 1, len(layers)) if type(layers[i]) is Dense), len(layers))
            self.next_dense.append(m)
            self.column_path.append(not self.redraw and all(
                is_column_layer(layers[i], objective.ctx) for i in range(k + 1, m)))
        self._scratch = np.empty(0)

    def piece_size(self, layer_index: int) -> int:
        """Elements per piece: the (2P, N, D) stacks it creates stay within STACK_BUDGET."""
        if self.redraw:
            return 1  # one mask per evaluation: perturbations cannot share a stacked pass
        obj = self.objective
        first = layer_index
        if self.column_path[layer_index]:
            first = min(self.next_dense[layer_index], obj.num_layers - 1)
        widths = [obj.base.outputs[i].shape[-1] for i in range(first, obj.num_layers)]
        return max(1, STACK_BUDGET // (2 * obj.x.shape[0] * max(widths, default=1)))

    def evaluate(self, layer_index: int, param: str, flat: np.ndarray, h: float) -> ChunkOutcome:
        """Perturb ``param`` of layer ``layer_index`` at each position of ``flat`` (P,) by ±h."""
        size = self.piece_size(layer_index)
        return _merge([self._piece(layer_index, param, flat[i:i + size], h)
                       for i in range(0, flat.size, size)])

    def _base_of(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        base = self.objective.base
        return base.inputs[k], base.outputs[k], base.xhat.get(k)

    def _piece(self, k: int, param: str, flat: np.ndarray, h: float) -> ChunkOutcome:
        layer = self.objective.network.layers[k]
        p = flat.shape[0]
        flat2 = np.concatenate([flat, flat])
        steps = np.concatenate([np.full(p, h), np.full(p, -h)])
        column = perturbed_column(layer, param, flat2, steps, *self._base_of(k))
        kinks: dict[int, np.ndarray] = {}
        if column is not None and self.column_path[k]:
            losses = self._column_path(k, *column, kinks)
        else:
            if column is not None:
                full = _expand_column(self.objective.base.outputs[k], *column)
            else:
                full = self._layer_loop(k, layer, param, flat2, steps, kinks)
            losses = self._forward(full, k + 1, kinks)
        return ChunkOutcome(losses[:p], losses[p:], kinks)

    def _column_path(self, k: int, cols: np.ndarray, values: np.ndarray,
                     kinks: dict) -> np.ndarray:
        obj, base = self.objective, self.objective.base
        layers = obj.network.layers
        m = self.next_dense[k]
        half_cols = cols[:cols.size // 2]
        for index in range(k + 1, m):
            values, pattern = column_forward(layers[index], obj.ctx, values, cols)
            if pattern is not None:
                kinks[index] = _flipped(pattern, base.patterns[index][:, half_cols].T)
        if m == len(layers):
            return self._forward(_expand_column(base.outputs[-1], cols, values), m, kinks)
        # Dense m: x·W with one input feature changed is a rank-1 update of its output.
        delta = values - base.inputs[m][:, cols].T                      # (2P, N)
        weights = layers[m].params["W"][cols]                           # (2P, D_m)
        # einsum forms the outer products ~2.5x faster than broadcasting multiply here.
        full = self._buffer((cols.size,) + base.outputs[m].shape)
        np.einsum("pn,pd->pnd", delta, weights, out=full)
        full += base.outputs[m]
        return self._forward(full, m + 1, kinks)

    def _buffer(self, shape: tuple[int, ...]) -> np.ndarray:
        """A reused scratch array: allocating ~0.5 MB per piece makes glibc hand the memory
        back to the system and fault it in again every time, which cost a third of the run."""
        size = int(np.prod(shape))
        if self._scratch.size < size:
            self._scratch = np.empty(size)
        return self._scratch[:size].reshape(shape)

    def _layer_loop(self, k: int, layer: Layer, param: str, flat2: np.ndarray,
                    steps: np.ndarray, kinks: dict) -> np.ndarray:
        """Generic path: run layer k's own forward once per perturbation (custom layers)."""
        obj, base = self.objective, self.objective.base
        value = layer.params[param].reshape(-1)
        if not np.shares_memory(value, layer.params[param]):
            raise ValueError(f"parameter {k}.{param} must be a contiguous array")
        outputs, patterns = [], []
        for position, step in zip(flat2.tolist(), steps.tolist()):
            original = value[position]
            try:
                value[position] = original + step
                outputs.append(np.array(layer.forward(base.inputs[k], obj.ctx)))
                pattern = layer.kink_pattern()
                if pattern is not None:
                    patterns.append(np.array(pattern, dtype=bool))
            finally:
                value[position] = original  # bit-identical restore, even on error
        if patterns and base.patterns[k] is not None:
            kinks[k] = _flipped(np.stack(patterns), base.patterns[k])
        return np.stack(outputs)

    def _forward(self, full: np.ndarray, start: int, kinks: dict) -> np.ndarray:
        """Losses (2P,) of a stack of layer-``start`` inputs; records flipped kink patterns."""
        base, obj = self.objective.base, self.objective
        if self.redraw:
            # Each evaluation draws its own mask: run θ+h and θ−h as separate passes.
            half = full.shape[0] // 2
            plus, plus_patterns = obj.forward_stack(full[:half], start)
            plus_patterns = {i: np.array(v) for i, v in plus_patterns.items()}
            minus, minus_patterns = obj.forward_stack(full[half:], start)
            losses = np.concatenate([plus, minus])
            patterns = {i: np.concatenate([plus_patterns[i], minus_patterns[i]]) for i in plus_patterns}
        else:
            losses, patterns = obj.forward_stack(full, start)
        for index, pattern in patterns.items():
            if base.patterns[index] is not None:
                kinks[index] = _flipped(pattern, base.patterns[index])
        return losses


def _expand_column(output: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(N, D) output and (2P, N) replacement columns -> (2P, N, D)."""
    full = np.repeat(output[None], cols.shape[0], axis=0)
    full[np.arange(cols.shape[0]), :, cols] = values
    return full


def _flipped(pattern: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Units that differ between θ+h and θ−h, or between either and θ.

    pattern : bool (2P, ...), first half at θ+h, second at θ−h; base : broadcastable to
    (P, ...). Returns (P,) counts.
    """
    half = pattern.shape[0] // 2
    plus, minus = pattern[:half], pattern[half:]
    changed = (plus != minus) | (plus != base)
    return changed.reshape(half, -1).sum(axis=1)


def _merge(outcomes: list[ChunkOutcome]) -> ChunkOutcome:
    """Concatenate pieces; kink counts of a layer absent from a piece count as zero."""
    if len(outcomes) == 1:
        only = outcomes[0]
        return ChunkOutcome(only.data_plus, only.data_minus,
                            {i: c for i, c in only.kinks.items() if c.any()})
    layers = sorted({index for outcome in outcomes for index in outcome.kinks})
    kinks = {}
    for index in layers:
        counts = np.concatenate([o.kinks.get(index, np.zeros(o.data_plus.size, dtype=np.intp))
                                 for o in outcomes])
        if counts.any():
            kinks[index] = counts
    return ChunkOutcome(np.concatenate([o.data_plus for o in outcomes]),
                        np.concatenate([o.data_minus for o in outcomes]), kinks)
