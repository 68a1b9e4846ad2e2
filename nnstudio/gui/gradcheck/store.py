"""What the view keeps of a check: the results that arrived, arranged for drawing.

Nothing here computes a gradient or a verdict: every number comes from the engine's
``ElementResult`` and ``TensorSummary`` values. The store only files them by tensor and
element so that the heatmap, table and histogram can be redrawn without asking the worker
thread, which owns the live checker. The one transformation is log10 of the engine's
relative error, for display.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnstudio.engine.gradcheck import (ElementResult, LayerSummary, ScreenResult, TensorInfo,
                                       TensorSummary)
from nnstudio.engine.gradcheck.culprits import Culprit, LayerRole, localize
from nnstudio.engine.gradcheck.labels import loss_label
from nnstudio.engine.gradcheck.results import Problem
from nnstudio.engine.gradcheck.summary import verdict_counts
from nnstudio.engine.gradcheck.verdict import VERDICT_CODES

#: verdict codes in the per-element arrays (the engine's); -1 means "not checked yet"
UNCHECKED_CODE = -1
#: log10 relative errors are drawn on this range; exact agreement (error 0) sits at the floor
LOG_FLOOR, LOG_CEILING = -12.0, 0.5
#: histogram bins (log10 relative error), half a decade wide
HISTOGRAM_EDGES = np.arange(LOG_FLOOR, LOG_CEILING + 0.25, 0.5)


@dataclass(frozen=True)
class CheckProgress:
    """A consistent snapshot of the checker's own summaries, taken in the worker thread.

    ``tensors`` may differ from the first plan: "screen first" sets ``planned`` to 0 for
    tensors the directional screen cleared.
    """

    tensors: tuple[TensorInfo, ...]
    tensor_summaries: tuple[TensorSummary, ...]
    layer_summaries: tuple[LayerSummary, ...]
    screen: tuple[ScreenResult, ...] | None
    checked: int
    planned: int
    finished: bool
    passed: bool
    culprits: tuple[Culprit, ...] = ()
    roles: tuple[LayerRole, ...] = ()
    problems: tuple[Problem, ...] = ()
    phase: str = ""

    @classmethod
    def of(cls, checker, phase: str = "") -> "CheckProgress":
        screen = checker.screen_results
        summaries = checker.tensor_summaries()
        culprits, roles = [], []
        if getattr(checker, "localizes", True):  # a whole model is a black box: no culprits
            network = checker.objective.network
            culprits, roles = localize(summaries, checker.problems,
                                       [layer.describe() for layer in network.layers],
                                       loss_label(network.loss))
        return cls(tuple(checker.tensors), tuple(summaries),
                   tuple(checker.layer_summaries()), None if screen is None else tuple(screen),
                   checker.checked, checker.planned, checker.finished, checker.passed,
                   tuple(culprits), tuple(roles), tuple(checker.problems), phase)

    def role(self, index: int) -> LayerRole | None:
        for role in self.roles:
            if role.index == index:
                return role
        return None

    def summary(self, name: str) -> TensorSummary | None:
        for summary in self.tensor_summaries:
            if summary.name == name:
                return summary
        return None

    @property
    def totals(self) -> dict[str, int]:
        return verdict_counts(self.tensor_summaries)


@dataclass
class TensorGrid:
    """Per-element display arrays of one tensor, in row-major (flat) order."""

    info: TensorInfo
    log_error: np.ndarray = field(init=False)   # float (size,), NaN until checked
    verdict: np.ndarray = field(init=False)     # int8 (size,), UNCHECKED_CODE until checked
    below_floor: np.ndarray = field(init=False)  # bool (size,), gradient within the noise floor
    row_of: dict[int, int] = field(init=False, default_factory=dict)  # flat index -> result row

    def __post_init__(self) -> None:
        size = self.info.size
        self.log_error = np.full(size, np.nan)
        self.verdict = np.full(size, UNCHECKED_CODE, dtype=np.int8)
        self.below_floor = np.zeros(size, dtype=bool)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(rows, columns) of the picture: a matrix as itself, a vector as one strip."""
        shape = self.info.shape
        if len(shape) == 2:
            return shape[0], shape[1]
        return 1, max(1, self.info.size)


class DisplayResults:
    """All results of one check, filed by tensor for drawing; plus histogram counts per
    verdict. (The checker's own columnar rows are the engine's ``ResultStore``.)"""

    def __init__(self, tensors: list[TensorInfo], atol: float) -> None:
        self.atol = atol
        self.results: list[ElementResult] = []
        self.grids = {info.name: TensorGrid(info) for info in tensors}
        self.histogram = {verdict: np.zeros(len(HISTOGRAM_EDGES) - 1, dtype=np.int64)
                          for verdict in VERDICT_CODES}

    def add(self, results: list[ElementResult]) -> None:
        """File a bundle of results (any order, any tensors)."""
        if not results:
            return
        first_row = len(self.results)
        self.results.extend(results)
        by_tensor: dict[str, list[int]] = {}
        for offset, result in enumerate(results):
            by_tensor.setdefault(result.tensor, []).append(offset)
        for name, offsets in by_tensor.items():
            self._file(self.grids[name], results, offsets, first_row)

    def _file(self, grid: TensorGrid, results: list[ElementResult], offsets: list[int],
              first_row: int) -> None:
        chosen = [results[i] for i in offsets]
        flat = np.fromiter((r.flat_index for r in chosen), dtype=np.intp, count=len(chosen))
        logs = display_log_error(np.fromiter((r.rel_error for r in chosen), dtype=float,
                                             count=len(chosen)))
        codes = np.fromiter((VERDICT_CODES[r.verdict] for r in chosen), dtype=np.int8,
                            count=len(chosen))
        # The engine's noise floor: below it a relative error is noise over noise (see
        # TensorSummary.max_rel_error); the heatmap greys such cells instead of colouring them.
        floor = np.fromiter((max(abs(r.analytic), abs(r.numeric)) <= self.atol for r in chosen),
                            dtype=bool, count=len(chosen))
        grid.log_error[flat], grid.verdict[flat], grid.below_floor[flat] = logs, codes, floor
        for offset, index in zip(offsets, flat.tolist()):
            grid.row_of[index] = first_row + offset
        bins = np.clip(np.digitize(logs, HISTOGRAM_EDGES) - 1, 0, len(HISTOGRAM_EDGES) - 2)
        for verdict, code in VERDICT_CODES.items():
            np.add.at(self.histogram[verdict], bins[(codes == code) & ~floor], 1)

    def result_at(self, tensor: str, flat_index: int) -> ElementResult | None:
        grid = self.grids.get(tensor)
        row = None if grid is None else grid.row_of.get(flat_index)
        return None if row is None else self.results[row]

    @property
    def below_floor_count(self) -> int:
        return int(sum(grid.below_floor.sum() for grid in self.grids.values()))


def display_log_error(rel_error: np.ndarray) -> np.ndarray:
    """log10 of relative errors, clamped to the drawn range (0 -> the floor, not -inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(rel_error)
    logs = np.where(np.isnan(logs), LOG_CEILING, logs)  # a NaN error is as bad as it gets
    return np.clip(logs, LOG_FLOOR, LOG_CEILING)
