"""Central differences for many elements of one tensor at once.

For a chunk of P elements of a parameter of layer k, the 2P perturbed objectives
(θ±h per element) are evaluated together: layers before k are not rerun (their outputs are
cached in the objective's base pass); layer k's perturbed outputs are built from its
structure (Dense W[i, j] moves output column j by ±h·x[:, i]) or, for other layers, by
running its forward once per perturbation; the rest runs on a stack of perturbed copies
with a leading axis, in pieces small enough for a core's cache.

Rows come in pairs, [element 0 at θ+h, element 0 at θ−h, element 1 at θ+h, ...], so a
piece is a contiguous slice (einsum on strided slices is 2.3× slower) and the kink
patterns at θ+h and θ−h of an element always meet in one piece. (Splitting chunks between two threads, each
with a replica of the network, was measured and dropped: on two cores it was no faster,
the many short GIL-holding steps between numpy calls serialising the threads.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..layers import Dense, Layer
from ..losses import MeanSquaredError, SoftmaxCrossEntropy
from ..network import Network
from .columns import column_forward, is_column_layer, perturbed_column
from .objective import Objective
from .rows import is_row_layer, row_loss_change

# Upper bound on a piece's (2P, N, D) stack, in float64 elements (512 KB): a few such
# temporaries must fit in a core's L2 cache, or the per-element cost rises by half.
STACK_BUDGET = 1 << 16


@dataclass
class ChunkOutcome:
    """Data losses at θ+h and θ−h, and flipped kink units, for P elements.

    data_plus, data_minus : (P,)
    kinks : {layer index: (P,) int counts}, only layers where some unit flipped
    flip_plus, flip_minus : bool (P,)  some unit at θ+h (θ−h) differs from θ
    """

    data_plus: np.ndarray
    data_minus: np.ndarray
    kinks: dict[int, np.ndarray]
    flip_plus: np.ndarray
    flip_minus: np.ndarray


@dataclass
class _Lane:
    """The network the stacks run through and reusable scratch arrays."""

    network: Network
    scratch: dict[str, np.ndarray] = field(default_factory=dict)

    def buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A reused array: allocating ~0.5 MB per piece makes glibc hand the memory back
        to the system and fault it in again every time, which cost a third of the run."""
        size = math.prod(shape)
        if self.scratch.get(name, np.empty(0)).size < size:
            self.scratch[name] = np.empty(size)
        return self.scratch[name][:size].reshape(shape)


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
        #: for boundary k (input of layer k; k = len(layers) is the output): whether every
        #: layer from k on keeps rows apart, so a perturbed row can run on its own
        builtin_loss = type(objective.network.loss) in (SoftmaxCrossEntropy, MeanSquaredError)
        self.row_path = [builtin_loss and all(is_row_layer(layers[i], objective.ctx)
                                              for i in range(k, len(layers)))
                         for k in range(len(layers) + 1)]
        self._lane = _Lane(objective.network)

    def _row_path(self, k: int, flat2: np.ndarray, steps: np.ndarray) -> ChunkOutcome:
        """Perturbed elements of the input of layer k, each alone in its row.

        Through element-wise layers the change stays in one element (scalars); the next
        Dense turns it into a rank-1 change of one output row; from there the perturbed
        rows run as one batch, (1, 2P, D). The loss changes by the change of those rows'
        terms."""
        obj, base = self.objective, self.objective.base
        layers = obj.network.layers
        boundary = obj.boundary(k)
        rows, cols = np.divmod(flat2, boundary.shape[1])
        values = boundary[rows, cols] + steps                                # (2P,)
        kinks: dict[int, np.ndarray] = {}
        index = k
        while index < len(layers) and type(layers[index]) is not Dense:
            out, pattern = column_forward(layers[index], obj.ctx, values[:, None], cols)
            values = out[:, 0]
            reference = base.patterns[index]
            if pattern is not None and reference is not None:
                counts = _flipped(pattern, reference[rows[0::2], cols[0::2]][:, None])
                if counts[:, 0].any():
                    kinks[index] = counts
            index += 1
        if index == len(layers):
            out_rows = base.outputs[-1][rows]                                # a copy
            out_rows[np.arange(rows.size), cols] = values
        else:
            delta = values - base.inputs[index][rows, cols]
            dense_rows = base.outputs[index][rows] + delta[:, None] * layers[index].params["W"][cols]
            out, patterns = obj.forward_stack(dense_rows[None], index + 1)
            out_rows = out[0]
            for later, pattern in patterns.items():
                reference = base.patterns[later]
                if reference is not None:
                    counts = _flipped(pattern[0][:, None, :], reference[rows[0::2]][:, None, :])
                    if counts[:, 0].any():
                        kinks[later] = counts
        delta = row_loss_change(obj.network.loss, out_rows, base.outputs[-1], obj.y, rows)
        return _chunk_outcome(obj.base.data_loss + delta, kinks)

    def piece_size(self, layer_index: int) -> int:
        """Elements per piece: the (2P, N, D) stacks a piece creates stay within STACK_BUDGET."""
        obj = self.objective
        first = layer_index
        if self.column_path[layer_index]:
            first = min(self.next_dense[layer_index], obj.num_layers - 1)
        widths = [obj.base.outputs[i].shape[-1] for i in range(first, obj.num_layers)]
        return max(1, STACK_BUDGET // (2 * obj.x.shape[0] * max(widths, default=1)))

    def evaluate(self, layer_index: int, param: str, flat: np.ndarray, h: float) -> ChunkOutcome:
        """Perturb ``param`` of layer ``layer_index`` at each position of ``flat`` (P,) by ±h."""
        return self._evaluate_on(self._lane, layer_index, param, flat, h)

    def evaluate_input(self, layer_index: int, flat: np.ndarray, h: float) -> ChunkOutcome:
        """Perturb the *input* of layer ``layer_index`` (the network output when it equals
        the number of layers) at each flat position by ±h; only later layers run.

        Paths, fastest first: when every later layer works row by row (no batch
        statistics, no active dropout mask, built-ins only), only the perturbed row runs,
        all perturbations as one batch; when layer ``layer_index`` and those up to the next
        Dense work feature by feature, only the perturbed feature's column runs to there;
        otherwise whole stacks of copies.
        """
        obj, lane = self.objective, self._lane
        base = obj.boundary(layer_index)
        p = flat.size
        flat2, steps = np.repeat(flat, 2), np.tile([h, -h], p)
        kinks: dict[int, np.ndarray] = {}
        if not self.redraw and self.row_path[layer_index]:
            return self._row_path(layer_index, flat2, steps)
        layers = obj.network.layers
        if (not self.redraw and layer_index < len(layers)
                and is_column_layer(layers[layer_index], obj.ctx) and self.column_path[layer_index]):
            rows, cols = np.divmod(flat2, base.shape[1])
            values = base[:, cols].T.copy()                               # (2P, N)
            values[np.arange(cols.size), rows] += steps
            outputs = self._column_path(lane, layer_index, cols, values, kinks, first=layer_index)
            return self._outcome(outputs, lane, kinks)
        outputs = np.empty((2 * p,) + obj.base.outputs[-1].shape)
        widths = [base.shape[-1]] + [obj.base.outputs[i].shape[-1]
                                     for i in range(layer_index, obj.num_layers)]
        size = max(1, STACK_BUDGET // (2 * base.shape[0] * max(widths)))
        for start in range(0, p, size):
            chunk = slice(2 * start, 2 * min(start + size, p))
            count = chunk.stop - chunk.start
            stack = np.repeat(base[None], count, axis=0)
            stack.reshape(count, -1)[np.arange(count), flat2[chunk]] += steps[chunk]
            outputs[chunk] = self._tail(lane, stack, layer_index, start, p, kinks)
        return self._outcome(outputs, lane, kinks)

    def _outcome(self, outputs: np.ndarray, lane: "_Lane", kinks: dict) -> ChunkOutcome:
        losses = self.objective.stack_loss(outputs, lane.network, lane.buffer("loss", outputs.shape))
        return _chunk_outcome(losses, kinks)

    # -- paths --------------------------------------------------------------------
    def _base_of(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        base = self.objective.base
        return base.inputs[k], base.outputs[k], base.xhat.get(k)

    def _evaluate_on(self, lane: _Lane, k: int, param: str, flat: np.ndarray,
                     h: float) -> ChunkOutcome:
        layer = self.objective.network.layers[k]
        p = flat.size
        flat2 = np.repeat(flat, 2)
        steps = np.tile([h, -h], p)
        column = perturbed_column(layer, param, flat2, steps, *self._base_of(k))
        kinks: dict[int, np.ndarray] = {}
        if self.redraw:
            outputs = self._redraw_path(layer, param, flat2, steps)
        elif column is not None and self.column_path[k]:
            outputs = self._column_path(lane, k, *column, kinks)
        else:
            outputs = self._generic_path(lane, k, layer, param, flat2, steps, column, kinks)
        return self._outcome(outputs, lane, kinks)

    def _column_path(self, lane: _Lane, k: int, cols: np.ndarray, values: np.ndarray,
                     kinks: dict, first: int | None = None) -> np.ndarray:
        """Carry one feature per perturbation to the next Dense, then whole stacks.

        ``values`` (2P, N) is column ``cols[p]`` of the input of layer ``first`` (default
        k + 1: the output of layer k)."""
        obj, base = self.objective, self.objective.base
        layers = obj.network.layers
        m, p = self.next_dense[k], cols.size // 2
        for index in range(k + 1 if first is None else first, m):
            values, pattern = column_forward(layers[index], obj.ctx, values, cols)
            reference = base.patterns[index]
            if pattern is not None and reference is not None:
                kinks[index] = _flipped(pattern, reference[:, cols[0::2]].T)
        if m == len(layers):
            return _expand_column(base.outputs[-1], cols, values)
        # Dense m: x·W with one input feature changed is a rank-1 update of its output.
        delta = values - base.inputs[m][:, cols].T                      # (2P, N)
        weights = layers[m].params["W"][cols]                           # (2P, D_m)
        outputs = np.empty((2 * p,) + base.outputs[-1].shape)
        size = self.piece_size(k)
        for start in range(0, p, size):
            rows = slice(2 * start, 2 * min(start + size, p))
            full = lane.buffer("stack", (rows.stop - rows.start,) + base.outputs[m].shape)
            # einsum forms the outer products ~2.5x faster than broadcasting multiply here.
            np.einsum("pn,pd->pnd", delta[rows], weights[rows], out=full)
            full += base.outputs[m]
            outputs[rows] = self._tail(lane, full, m + 1, start, p, kinks)
        return outputs

    def _generic_path(self, lane: _Lane, k: int, layer: Layer, param: str, flat2: np.ndarray,
                      steps: np.ndarray, column, kinks: dict) -> np.ndarray:
        """Whole-width stacks from layer k on (custom layers, re-drawn dropout masks)."""
        base, p = self.objective.base, flat2.size // 2
        outputs = np.empty((2 * p,) + base.outputs[-1].shape)
        size = self.piece_size(k)
        for start in range(0, p, size):
            rows = slice(2 * start, 2 * min(start + size, p))
            if column is not None:
                full = _expand_column(base.outputs[k], column[0][rows], column[1][rows])
            else:
                full = self._layer_loop(k, layer, param, flat2[rows], steps[rows], start, p, kinks)
            outputs[rows] = self._tail(lane, full, k + 1, start, p, kinks)
        return outputs

    def _tail(self, lane: _Lane, full: np.ndarray, first: int, start: int, p: int,
              kinks: dict) -> np.ndarray:
        """Run layers ``first..`` on a piece (θ+h rows, then θ−h rows); record kinks."""
        obj, base = self.objective, self.objective.base
        out, patterns = obj.forward_stack(full, first, lane.network)
        for index, pattern in patterns.items():
            reference = base.patterns[index]
            if reference is not None:
                _record(kinks, index, start, p, _flipped(pattern, reference))
        return out

    def _redraw_path(self, layer: Layer, param: str, flat2: np.ndarray,
                     steps: np.ndarray) -> np.ndarray:
        """The wrong way, on purpose: every evaluation reruns the whole network and draws
        new dropout masks. Kinks are not looked for: new masks flip patterns anyway."""
        obj = self.objective
        value = layer.params[param].reshape(-1)
        outputs = []
        for position, step in zip(flat2.tolist(), steps.tolist()):
            original = value[position]
            try:
                value[position] = original + step
                outputs.append(obj.network.forward(obj.x, obj.ctx))
            finally:
                value[position] = original  # bit-identical restore, even on error
        return np.stack(outputs)

    def _layer_loop(self, k: int, layer: Layer, param: str, flat2: np.ndarray,
                    steps: np.ndarray, start: int, p: int, kinks: dict) -> np.ndarray:
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
        reference = base.patterns[k]
        if patterns and reference is not None:
            _record(kinks, k, start, p, _flipped(np.stack(patterns), reference))
        return np.stack(outputs)


def _chunk_outcome(losses: np.ndarray, kinks: dict[int, np.ndarray]) -> ChunkOutcome:
    """losses (2P,) in (θ+h, θ−h) pairs and per-layer (P, 3) flip counts -> the outcome."""
    p = losses.size // 2
    flip_plus, flip_minus = np.zeros(p, dtype=bool), np.zeros(p, dtype=bool)
    for counts in kinks.values():
        flip_plus |= counts[:, 1] > 0
        flip_minus |= counts[:, 2] > 0
    return ChunkOutcome(losses[0::2], losses[1::2],
                        {i: c[:, 0] for i, c in kinks.items() if c[:, 0].any()},
                        flip_plus, flip_minus)


def _record(kinks: dict, index: int, start: int, p: int, counts: np.ndarray) -> None:
    """Store a piece's kink counts ((P', 3), elements start.. of P) for layer ``index``."""
    if index not in kinks:
        kinks[index] = np.zeros((p, 3), dtype=np.intp)
    kinks[index][start:start + counts.shape[0]] = counts


def _expand_column(output: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(N, D) output and (R, N) replacement columns -> (R, N, D)."""
    full = np.repeat(output[None], cols.shape[0], axis=0)
    full[np.arange(cols.shape[0]), :, cols] = values
    return full


def _flipped(pattern: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Units that differ from θ at θ+h or at θ−h.

    pattern : bool (2P, ...), rows in pairs (θ+h, θ−h); base : broadcastable to (P, ...).
    Returns (P, 3) counts: either side, the θ+h side, the θ−h side.
    """
    plus, minus = pattern[0::2], pattern[1::2]
    p = plus.shape[0]
    plus_changed = (plus != base).reshape(p, -1)
    minus_changed = (minus != base).reshape(p, -1)
    return np.stack([(plus_changed | minus_changed).sum(axis=1), plus_changed.sum(axis=1),
                     minus_changed.sum(axis=1)], axis=1)
