"""The element-by-element gradient check as a resumable stream of results.

    checker = GradientChecker(network, x_batch, y_batch, CheckConfig(bn_stats="batch"))
    checker.tensors                              # what will be checked, known up front
    for result in checker.advance("mismatch"):   # or "element", "tensor", "layer", "end"
        ...                                      # one ElementResult per element
    checker.tensor_summaries()                   # running per-tensor summaries
    report = checker.run()                       # everything left, then a CheckReport

Stopping between yields is always safe: the next ``advance`` continues where the last one
stopped. At most ``config.max_chunk_seconds`` of computation precede any yield.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..layers import Layer
from ..network import Network
from .config import CheckConfig
from .directions import direction_check, sampled_rows
from .evaluator import ChunkEvaluator
from .labels import loss_label
from .objective import Objective
from .refine import Measure, decide
from .report import CheckReport
from .results import (INPUT, INPUT_PARAM, MISMATCH, OK, UNVERIFIABLE, ElementResult, KinkDetail,
                      ScreenResult, TensorInfo)
from .screen import directional_screen
from .store import ResultStore, ResultsView
from .summary import LayerSummary, SummaryBook, TensorSummary
from .verdict import CODE_KINK, CODE_MISMATCH, CODE_UNVERIFIABLE, errors, violation

UNTIL = ("element", "tensor", "layer", "mismatch", "end")



@dataclass
class _TensorRef:
    position: int
    info: TensorInfo
    layer: Layer | None    # None for the loss's input gradient
    value: np.ndarray      # the float64 copy's parameter (or layer input), flattened view
    gradient: np.ndarray   # analytic gradient, flattened
    regularized: bool
    plan: np.ndarray       # flat indices to check, in order


def element_plan(size: int, config: CheckConfig, position: int) -> np.ndarray:
    """Flat indices of tensor ``position`` to visit: all, or ``samples_per_tensor`` seeded
    random ones (sorted), a stream per tensor independent of masks and other tensors."""
    k = config.samples_per_tensor
    if k is None or k >= size:
        return np.arange(size, dtype=np.intp)
    rng = np.random.default_rng([config.seed, 1, position])
    return np.sort(rng.choice(size, size=k, replace=False)).astype(np.intp)


class GradientChecker:
    """Checks a network's backward pass against central differences, element by element.

    Parameters
    ----------
    network : Network
        Never modified: the check runs on a float64 copy.
    x : (N, D) array
        The fixed batch.
    y : (N,) class labels or (N, D_out) regression targets
    config : CheckConfig, optional
    rng : numpy.random.Generator, optional
        Dropout masks come from a copy of it (so it does not advance); else from
        ``config.seed``.
    only : iterable of str, optional
        Tensor names (e.g. ``"3.W"``) to check; the others get ``planned == 0``.
    """

    def __init__(self, network: Network, x: np.ndarray, y: np.ndarray,
                 config: CheckConfig | None = None, *, rng: np.random.Generator | None = None,
                 only=None) -> None:
        self.config = config if config is not None else CheckConfig()
        self.objective = Objective(network, x, y, self.config, rng)
        self.evaluator = ChunkEvaluator(self.objective)
        self._refs = self._tensor_refs(None if only is None else set(only))
        #: every learned tensor in network order (``planned == 0`` when not selected)
        self.tensors: list[TensorInfo] = [ref.info for ref in self._refs]
        self._store = ResultStore(self.tensors)
        self._book = SummaryBook(self._store, self.objective.atol)
        self._delivered = 0
        self._pending_stop = 0
        self.screen_results: list[ScreenResult] | None = None
        self._exhausted = False
        #: directional checks of input tensors whose rows were sampled (see directions.py)
        self.direction_results: list[ScreenResult] = []
        self._chunks = self._compute()

    # -- set-up -------------------------------------------------------------------
    def _tensor_refs(self, only: set[str] | None) -> list[_TensorRef]:
        """Parameters of each layer, then (with ``check_inputs``) the gradient that layer
        returns for its input; the loss's gradient for the network output comes last."""
        objective, network = self.objective, self.objective.network
        known = [name for _, name, _, _ in network.named_parameters()]
        inputs = [f"{k}.{INPUT_PARAM}" for k in range(len(network.layers) + 1)]
        if only is not None and only - set(known) - set(inputs):
            raise ValueError(f"unknown tensors {sorted(only - set(known) - set(inputs))}; "
                             f"the network has {known}")
        usable = objective.input_gradients is not None  # a backward returned unusable arrays
        entries: list[tuple] = []
        for index, layer in enumerate(network.layers):
            for param, value in layer.params.items():
                name = f"{index}.{param}"
                gradient = objective.gradients.get(name, np.zeros_like(value))
                entries.append((name, index, layer.describe(), param, value, gradient, layer,
                                param in layer.regularized, "parameter"))
            if self.config.check_inputs and usable:
                entries.append(self._input_entry(index, layer.describe(), layer))
        if self.config.check_inputs and usable:
            entries.append(self._input_entry(len(network.layers),
                                             loss_label(network.loss), None))
        refs = []
        for position, (name, index, label, param, value, gradient, layer, regularized,
                       kind) in enumerate(entries):
            chosen = usable and (only is None or name in only)
            plan = self._plan(value.size, position) if chosen else np.zeros(0, dtype=np.intp)
            if chosen and kind == INPUT and not self.evaluator.row_path[index] \
                    and self.config.samples_per_tensor is None:
                # rows mix later on: some rows element by element, the rest by directions
                plan = sampled_rows(value.shape[0], value.shape[1], self.config.seed, position)
            info = TensorInfo(name, index, label, param, tuple(value.shape), int(plan.size), kind)
            refs.append(_TensorRef(position, info, layer, value.reshape(-1),
                                   gradient.reshape(-1), regularized, plan))
        return refs

    def _input_entry(self, index: int, label: str, layer: Layer | None) -> tuple:
        value = self.objective.boundary(index)
        assert self.objective.input_gradients is not None  # input entries exist only with them
        return (f"{index}.{INPUT_PARAM}", index, label, INPUT_PARAM, value,
                self.objective.input_gradients[index], layer, False, INPUT)

    def _plan(self, size: int, position: int) -> np.ndarray:
        return element_plan(size, self.config, position)

    # -- driving ------------------------------------------------------------------
    def advance(self, until: str = "element") -> Iterator[ElementResult]:
        """Yield results one by one until (and including) the stop point.

        until : {"element", "tensor", "layer", "mismatch", "end"}
            One element; the rest of the current tensor or layer; up to the next
            mismatch; or everything left.
        """
        if until not in UNTIL:
            raise ValueError(f"until must be one of {UNTIL}, got {until!r}")
        while self._delivered < self._pending_stop or self._fill():
            row = self._delivered
            self._book.add_row(row)
            self._delivered = row + 1
            result = self._store.result(row)
            yield result
            if until == "element" or (until == "mismatch" and result.verdict == MISMATCH):
                return
            position = int(self._store.column("tensor", row, row + 1)[0])
            if until == "tensor" and self._book.is_tensor_complete(position):
                return
            if until == "layer" and self._book.is_layer_complete(result.layer_index):
                return

    def step(self, until: str = "element") -> list[ElementResult]:
        """Like :meth:`advance`, collected into a list."""
        return list(self.advance(until))

    def run(self) -> CheckReport:
        """Check everything not yet checked (no per-element work); return the CheckReport."""
        while self._delivered < self._pending_stop or self._fill():
            self._book.add_rows(self._delivered, self._pending_stop)
            self._delivered = self._pending_stop
        return self.report()

    def screen(self) -> list[ScreenResult]:
        """Directional screen of every tensor (computed once, then cached)."""
        if self.screen_results is None:
            self.screen_results = directional_screen(self.objective, list(self.tensors))
            for result in self.screen_results:
                self._book.add_screen(result)
        return self.screen_results

    # -- state for views (read between yields) -----------------------------------
    @property
    def results(self) -> ResultsView:
        """Every delivered result, in order, as a read-only sequence."""
        return ResultsView(self._store, lambda: self._delivered)

    @property
    def checked(self) -> int:
        return self._delivered

    @property
    def finished(self) -> bool:
        """Every planned element has been delivered (the screen, if asked for, has run)."""
        screened = self.screen_results is not None or not self.config.screen_first
        return self._exhausted or (screened and self._delivered >= self.planned)

    @property
    def atol(self) -> float:
        """The noise floor in use: from the rounding error of the evaluations, or ``config.atol``."""
        return self.objective.atol

    @property
    def current(self) -> ElementResult | None:
        """The last delivered result (the element being looked at), if any."""
        return self._store.result(self._delivered - 1) if self._delivered else None

    @property
    def planned(self) -> int:
        return sum(info.planned for info in self.tensors)

    @property
    def problems(self):
        """What failed before elements were compared (shapes, determinism) or warnings."""
        return list(self.objective.problems)

    @property
    def passed(self) -> bool:
        """No mismatch or unverifiable element among those checked so far (nor in the
        screen, if run), and no failing problem (wrong shapes, irreproducible draws)."""
        screened_bad = any(r.verdict in (MISMATCH, UNVERIFIABLE)
                           for r in list(self.screen_results or ()) + self.direction_results)
        failing = any(problem.fails for problem in self.objective.problems)
        return not (screened_bad or failing or self._rows_with(CODE_MISMATCH).size
                    or self._rows_with(CODE_UNVERIFIABLE).size)

    def mismatches(self) -> list[ElementResult]:
        return [self._store.result(row) for row in self._rows_with(CODE_MISMATCH)]

    def kinks(self) -> list[ElementResult]:
        return [self._store.result(row) for row in self._rows_with(CODE_KINK)]

    def unverifiable(self) -> list[ElementResult]:
        return [self._store.result(row) for row in self._rows_with(CODE_UNVERIFIABLE)]

    def tensor_summaries(self) -> list[TensorSummary]:
        return self._book.tensors()

    def tensor_summary(self, name: str) -> TensorSummary:
        return self._book.tensor(self._position(name))

    def layer_summaries(self) -> list[LayerSummary]:
        return self._book.layers()

    def tensor_errors(self, name: str, column: str = "rel_error") -> np.ndarray:
        """A column (default relative error) laid out like the tensor; NaN where unchecked.

        ``column``: "rel_error", "abs_error", "analytic", "numeric" or "code" (verdict
        code 0 ok, 1 kink, 2 mismatch, 3 unverifiable; −1 unchecked).
        """
        position = self._position(name)
        info = self.tensors[position]
        rows = np.flatnonzero(self._store.column("tensor", 0, self._delivered) == position)
        fill, dtype = (-1, np.int8) if column in ("code", "rule") else (np.nan, np.float64)
        grid = np.full(info.size, fill, dtype=dtype)
        grid[self._store.column("flat", 0, self._delivered)[rows]] = \
            self._store.column(column, 0, self._delivered)[rows]
        return grid.reshape(info.shape)

    def element_columns(self) -> dict[str, np.ndarray]:
        """Every delivered result as columns (copies), for tables and plots.

        Keys: "tensor" (position in ``tensors``), "flat", "analytic", "numeric",
        "abs_error", "rel_error", "scale" (max(|a|, |n|)), "score" (|a−n| / tolerance),
        "code" (0 ok, 1 kink, 2 mismatch, 3 unverifiable), "rule" (index into
        ``verdict.RULES``), "f_plus", "f_minus", "kinked" (bool: a switch flipped, whatever
        the verdict). Each has shape (checked,).
        """
        stop = self._delivered
        names = ("tensor", "flat", "analytic", "numeric", "abs_error", "rel_error", "scale",
                 "score", "code", "rule", "f_plus", "f_minus")
        columns = {name: np.array(self._store.column(name, 0, stop)) for name in names}
        kinked = np.zeros(stop, dtype=bool)
        rows = [row for row in self._store.kinks if row < stop]
        kinked[rows] = True
        columns["kinked"] = kinked
        return columns

    def report(self) -> CheckReport:
        """A snapshot of the check so far: summaries, mismatches, kinks, settings."""
        return CheckReport.from_checker(self)

    def _rows_with(self, code: int) -> np.ndarray:
        return self._store.rows_with_code(code, self._delivered)

    def _position(self, name: str) -> int:
        for position, info in enumerate(self.tensors):
            if info.name == name:
                return position
        raise ValueError(f"unknown tensor {name!r}; known: {[i.name for i in self.tensors]}")

    # -- computation --------------------------------------------------------------
    def _fill(self) -> bool:
        """Compute the next chunk; False when nothing is left."""
        try:
            self._pending_stop = next(self._chunks)
            return True
        except StopIteration:
            self._exhausted = True
            return False

    def _compute(self) -> Iterator[int]:
        """Compute chunk after chunk; yield the store's row count after each."""
        if self.config.screen_first:
            self._drill_into_screened()
        for ref in self._refs:
            if ref.info.is_input and 0 < ref.plan.size < ref.info.size:
                result = direction_check(self.objective, self.evaluator, ref.info, ref.position)
                self.direction_results.append(result)
                self._book.add_screen(result)
            position, chunk = 0, 4
            while position < ref.plan.size:
                started = time.perf_counter()
                self._check_chunk(ref, ref.plan[position:position + chunk])
                position += chunk
                chunk = self._next_chunk(chunk, time.perf_counter() - started)
                yield len(self._store)

    def _drill_into_screened(self) -> None:
        flagged = {r.tensor for r in self.screen() if r.verdict != OK}
        for ref in self._refs:
            if ref.info.name not in flagged:
                ref.plan = np.zeros(0, dtype=np.intp)
                ref.info = TensorInfo(ref.info.name, ref.info.layer_index, ref.info.layer_label,
                                      ref.info.param, ref.info.shape, 0)
                self.tensors[ref.position] = ref.info  # the store shares this list

    def _next_chunk(self, chunk: int, elapsed: float) -> int:
        """Grow or shrink the chunk so one chunk takes about ``max_chunk_seconds``."""
        if elapsed <= 0:
            return chunk * 2
        ideal = int(chunk * self.config.max_chunk_seconds / elapsed)
        return max(1, min(ideal, chunk * 4))

    def _check_chunk(self, ref: _TensorRef, flat: np.ndarray) -> None:
        config, h, objective = self.config, self.config.h, self.objective
        first, outcome, l1_flip = self._measure(ref, flat, h)
        analytic = ref.gradient[flat]
        decision = decide(lambda subset, step: self._measure(ref, subset, step)[0], flat,
                          analytic, first, h, config.rtol, objective.atol,
                          objective.base.data_loss, objective.significant)
        numeric = decision.numeric
        abs_error, rel_error, scale = errors(analytic, numeric)
        details = self._kink_details(outcome.kinks, l1_flip, ref.info.layer_index, flat.size)
        penalty = objective.base.penalty
        self._store.append(
            ref.position, details, flat=flat, analytic=analytic, numeric=numeric,
            abs_error=abs_error, rel_error=rel_error, scale=scale,
            score=violation(abs_error, scale, config.rtol, objective.atol),
            code=decision.codes, rule=decision.rules,
            f_plus=first.plus + penalty, f_minus=first.minus + penalty)

    def _measure(self, ref: _TensorRef, flat: np.ndarray, step: float):
        """The objective at θ±step for P elements: (Measure, evaluator outcome, L1 flips)."""
        info = ref.info
        if info.is_input:
            outcome = self.evaluator.evaluate_input(info.layer_index, flat, step)
            zeros, no = np.zeros(flat.size), np.zeros(flat.size, dtype=bool)
            d_plus, d_minus, l1_plus, l1_minus = zeros, zeros, no, no
        else:
            outcome = self.evaluator.evaluate(info.layer_index, info.param, flat, step)
            d_plus, d_minus, l1_plus, l1_minus = self._penalty_steps(ref, flat, step)
        units = sum((counts for counts in outcome.kinks.values()), np.zeros(flat.size, dtype=np.intp))
        measure = Measure(outcome.data_plus + d_plus, outcome.data_minus + d_minus,
                          outcome.flip_plus | l1_plus, outcome.flip_minus | l1_minus,
                          units + (l1_plus | l1_minus))
        return measure, outcome, l1_plus | l1_minus

    def _penalty_steps(self, ref: _TensorRef, flat: np.ndarray, h: float):
        """Exact change of the penalty at θ±h for each element, and L1 sign flips on
        each side (P,)."""
        reg = self.objective.regularization
        no = np.zeros(flat.size, dtype=bool)
        if not (ref.regularized and reg.active):
            zeros = np.zeros(flat.size)
            return zeros, zeros, no, no
        w = ref.value[flat]
        d_plus = reg.l1 * (np.abs(w + h) - np.abs(w)) + reg.l2 * (w * h + 0.5 * h * h)
        d_minus = reg.l1 * (np.abs(w - h) - np.abs(w)) + reg.l2 * (-w * h + 0.5 * h * h)
        if reg.l1 <= 0:
            return d_plus, d_minus, no, no
        sign = np.sign(w)
        return d_plus, d_minus, np.sign(w + h) != sign, np.sign(w - h) != sign

    def _kink_details(self, kinks: dict[int, np.ndarray], l1_flip: np.ndarray,
                      layer_index: int, size: int) -> list[tuple[KinkDetail, ...]]:
        details: list[tuple[KinkDetail, ...]] = [()] * size
        layers = self.objective.network.layers
        for index, counts in sorted(kinks.items()):
            label = layers[index].describe()
            for p in np.flatnonzero(counts).tolist():
                details[p] = details[p] + (KinkDetail(index, label, int(counts[p])),)
        for p in np.flatnonzero(l1_flip).tolist():
            label = layers[layer_index].describe()
            details[p] = details[p] + (KinkDetail(layer_index, label, 1, "l1"),)
        return details
