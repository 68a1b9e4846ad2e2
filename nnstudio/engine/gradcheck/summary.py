"""Running per-tensor and per-layer summaries of an element check."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .results import KINK, MISMATCH, OK, UNVERIFIABLE, ElementResult, ScreenResult, TensorInfo
from .store import ResultStore
from .verdict import CODE_KINK, CODE_OK, VERDICT_NAMES

UNCHECKED = "unchecked"


def verdict_counts(summaries) -> dict[str, int]:
    """Elements per verdict over tensor or layer summaries, keyed "ok", "kink", "mismatch",
    "unverifiable"."""
    return {name: sum(getattr(summary, name) for summary in summaries) for name in VERDICT_NAMES}


def status_of(checked: int, kink: int, mismatch: int, unverifiable: int = 0) -> str:
    """"unchecked" before the first element, then the worst verdict seen so far:
    ok < kink < unverifiable < mismatch."""
    if checked == 0:
        return UNCHECKED
    if mismatch:
        return MISMATCH
    if unverifiable:
        return UNVERIFIABLE
    return KINK if kink else OK


@dataclass(frozen=True)
class TensorSummary:
    """Counts and extremes of the elements of one tensor checked so far.

    ``max_rel_error`` counts only elements above the noise floor (max(|a|, |n|) > atol):
    below it a relative error is noise over noise (e.g. a bias feeding BatchNorm, whose
    true gradient is 0) and the verdict uses the absolute error alone. ``worst`` is the
    element furthest past its tolerance, |a−n| / (atol + rtol·max(|a|,|n|)).
    ``status`` is "unchecked", or the worst verdict so far: "ok" < "kink" <
    "unverifiable" < "mismatch".
    """

    info: TensorInfo
    checked: int
    ok: int
    kink: int
    mismatch: int
    max_abs_error: float
    max_rel_error: float
    worst: ElementResult | None
    screen: ScreenResult | None
    unverifiable: int = 0
    #: agreeing elements of a size well above the noise floor (> 2x): the ones whose
    #: agreement is evidence that the tensor is right, not only that both sides are noise
    evidence: int = 0

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def status(self) -> str:
        screen = self.screen.verdict if self.screen is not None else None
        if screen is not None and self.checked == 0 and screen != OK:
            return screen
        status = status_of(self.checked, self.kink, self.mismatch, self.unverifiable)
        # a directional look over the whole tensor that disagrees counts like an element
        if screen == MISMATCH or (screen == UNVERIFIABLE and status != MISMATCH):
            return screen
        return status

    @property
    def complete(self) -> bool:
        return self.checked >= self.info.planned

    def to_dict(self) -> dict:
        data = self.info.to_dict()
        data.update(checked=self.checked, ok=self.ok, kink=self.kink, mismatch=self.mismatch,
                    unverifiable=self.unverifiable,
                    max_abs_error=self.max_abs_error, max_rel_error=self.max_rel_error,
                    status=self.status,
                    worst=None if self.worst is None else self.worst.to_dict(),
                    screen=None if self.screen is None else self.screen.to_dict())
        return data


@dataclass(frozen=True)
class LayerSummary:
    """The tensors of one layer together."""

    index: int
    label: str
    tensors: tuple[str, ...]
    planned: int
    checked: int
    ok: int
    kink: int
    mismatch: int
    max_rel_error: float
    worst: ElementResult | None
    unverifiable: int = 0

    @property
    def status(self) -> str:
        return status_of(self.checked, self.kink, self.mismatch, self.unverifiable)

    @property
    def complete(self) -> bool:
        return self.checked >= self.planned

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "tensors": list(self.tensors),
                "planned": self.planned, "checked": self.checked, "ok": self.ok,
                "kink": self.kink, "mismatch": self.mismatch, "unverifiable": self.unverifiable,
                "max_rel_error": self.max_rel_error, "status": self.status,
                "worst": None if self.worst is None else self.worst.to_dict()}


class _Tally:
    __slots__ = ("counts", "max_abs", "max_rel", "worst_row", "worst_score", "evidence")

    def __init__(self) -> None:
        self.counts = [0] * len(VERDICT_NAMES)  # by verdict code: ok, kink, mismatch, unverifiable
        self.max_abs = self.max_rel = 0.0
        self.evidence = 0  # agreeing elements whose size is well above the noise floor
        self.worst_row = -1
        self.worst_score = -1.0


class SummaryBook:
    """Per-tensor tallies over the delivered rows of a :class:`ResultStore`."""

    def __init__(self, store: ResultStore, atol: float) -> None:
        self._store = store
        self._tallies = [_Tally() for _ in store.tensors]
        self._screens: dict[str, ScreenResult] = {}
        self._atol = atol

    def add_row(self, row: int) -> None:
        """Count one delivered row (scalar path: stepping element by element)."""
        column = self._store.column
        tally = self._tallies[int(column("tensor", row, row + 1)[0])]
        code = int(column("code", row, row + 1)[0])
        tally.counts[code] += 1
        if code in (CODE_OK, CODE_KINK) and float(column("scale", row, row + 1)[0]) > 2 * self._atol:
            tally.evidence += 1
        abs_error = float(column("abs_error", row, row + 1)[0])
        tally.max_abs = max(tally.max_abs, abs_error)
        if float(column("scale", row, row + 1)[0]) > self._atol:
            tally.max_rel = max(tally.max_rel, float(column("rel_error", row, row + 1)[0]))
        score = float(column("score", row, row + 1)[0])
        if score > tally.worst_score:
            tally.worst_row, tally.worst_score = row, score

    def add_rows(self, start: int, stop: int) -> None:
        """Count delivered rows [start, stop) of one tensor at once (run to the end)."""
        if stop <= start:
            return
        column = self._store.column
        tally = self._tallies[int(column("tensor", start, start + 1)[0])]
        codes = np.bincount(column("code", start, stop), minlength=len(VERDICT_NAMES))
        for code in range(len(VERDICT_NAMES)):
            tally.counts[code] += int(codes[code])
        agreeing = np.isin(column("code", start, stop), (CODE_OK, CODE_KINK))
        tally.evidence += int(np.count_nonzero(agreeing & (column("scale", start, stop)
                                                            > 2 * self._atol)))
        tally.max_abs = max(tally.max_abs, float(column("abs_error", start, stop).max()))
        significant = column("scale", start, stop) > self._atol
        if significant.any():
            rel = float(column("rel_error", start, stop)[significant].max())
            tally.max_rel = max(tally.max_rel, rel)
        scores = column("score", start, stop)
        best = int(np.argmax(scores))
        if scores[best] > tally.worst_score:
            tally.worst_row, tally.worst_score = start + best, float(scores[best])

    def add_screen(self, result: ScreenResult) -> None:
        self._screens[result.tensor] = result

    def is_tensor_complete(self, position: int) -> bool:
        return sum(self._tallies[position].counts) >= self._store.tensors[position].planned

    def tensor(self, position: int) -> TensorSummary:
        tally, info = self._tallies[position], self._store.tensors[position]
        ok, kink, mismatch, unverifiable = tally.counts
        worst = self._store.result(tally.worst_row) if tally.worst_row >= 0 else None
        return TensorSummary(info, sum(tally.counts), ok, kink, mismatch, tally.max_abs,
                             tally.max_rel, worst, self._screens.get(info.name), unverifiable,
                             tally.evidence)

    def tensors(self) -> list[TensorSummary]:
        return [self.tensor(position) for position in range(len(self._tallies))]

    def layers(self) -> list[LayerSummary]:
        grouped: dict[int, list[int]] = {}
        for position, info in enumerate(self._store.tensors):
            grouped.setdefault(info.layer_index, []).append(position)
        return [self._layer(index, positions) for index, positions in grouped.items()]

    def _layer(self, index: int, positions: list[int]) -> LayerSummary:
        infos = [self._store.tensors[p] for p in positions]
        tallies = [self._tallies[p] for p in positions]
        scored = [t for t in tallies if t.worst_row >= 0]
        worst_row = max(scored, key=lambda t: t.worst_score).worst_row if scored else -1
        ok, kink, mismatch, unverifiable = (sum(t.counts[code] for t in tallies)
                                            for code in range(len(VERDICT_NAMES)))
        return LayerSummary(
            index, infos[0].layer_label, tuple(info.name for info in infos),
            sum(info.planned for info in infos), ok + kink + mismatch + unverifiable, ok, kink,
            mismatch, max(t.max_rel for t in tallies),
            self._store.result(worst_row) if worst_row >= 0 else None, unverifiable)

    def is_layer_complete(self, layer_index: int) -> bool:
        return all(self.is_tensor_complete(p) for p, info in enumerate(self._store.tensors)
                   if info.layer_index == layer_index)
