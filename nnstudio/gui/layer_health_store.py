"""What the Layers view has received: per-layer series over epochs, histogram frames, and the
history entries the engine's findings rules read. Bookkeeping only; numbers come from the
trainer's recorder (live: ``health.take()``) or a trainer's history and recorder (a loaded project).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnstudio.training.health import align_frames, find_problems
from nnstudio.training.health.histograms import MAX_FRAMES

from .series import EnvelopeSeries

#: small multiples per layer: entry key of each, and which keys can feed the "fraction" one
SERIES = ("grad_norm", "update_ratio", "fraction")
FRACTION_KEYS = ("dead_fraction", "saturated_fraction")
HISTOGRAM_KINDS = ("weights", "gradients", "activations")
#: stored points per small multiple (a plot ~150 pixels wide; past it, min/max envelopes)
SMALL_MULTIPLE_CAP = 1024


class LayerHealthStore:
    """Series per (layer index, name), frames per (layer index, kind), history entries."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.series: dict[tuple[int, str], EnvelopeSeries] = {}
        self.frames: dict[tuple[int, str], list[tuple[int, float, float, np.ndarray]]] = {}
        self.entries: list[dict[str, Any]] = []
        self.fraction_names: dict[int, str] = {}
        self.version = 0  # bumped by every change, so views redraw only when needed

    # -- input ----------------------------------------------------------------------------
    def add_epochs(self, epochs: list[tuple[int, object]]) -> None:
        """(epoch number, :class:`~nnstudio.training.health.EpochHealth`) pairs of one bundle."""
        runs: list[tuple[bool, list[dict[str, Any]]]] = []  # in epoch order, judged or not
        grad_x: dict[int, list[float]] = {}
        grad_y: dict[int, list[float]] = {}
        for epoch, health in epochs:
            for layer in health.layers:  # every epoch has its gradient norms
                value = layer["grad_norm"]
                if value is not None:
                    grad_x.setdefault(layer["layer_index"], []).append(float(epoch))
                    grad_y.setdefault(layer["layer_index"], []).append(value)
            if not health.measured:  # most epochs of a fast run: nothing else, and nothing
                continue             # for the findings rules
            judged = not health.partial  # a point inside a long epoch is shown, not judged
            if not runs or runs[-1][0] != judged:
                runs.append((judged, []))
            runs[-1][1].append({"epoch": epoch, **health.history_fields()})
            for index, kinds in health.histograms.items():
                for kind, (low, high, counts) in kinds.items():
                    frames = self.frames.setdefault((index, kind), [])
                    frames.append((epoch, low, high, counts))
                    if len(frames) > MAX_FRAMES:  # as the recorder thins its own
                        frames[:] = frames[::2]
        for judged, entries in runs:
            self.add_entries(entries, judged, SERIES[1:])
        for index, xs in grad_x.items():
            self._extend((index, "grad_norm"), xs, grad_y[index])

    def add_entries(self, entries: list[dict[str, Any]], judged: bool = True,
                    names: tuple[str, ...] = SERIES) -> None:
        """History entries with "epoch" and "layers" (others are ignored); ``judged``: kept
        for the findings rules (interim points are not); ``names``: the series they feed."""
        points: dict[tuple[int, str], tuple[list[float], list[float]]] = {}
        for entry in entries:
            layers = entry.get("layers")
            if not isinstance(layers, list):
                continue
            if judged:
                self.entries.append(entry)
            epoch = float(entry["epoch"])
            for layer in layers:
                index = layer["layer_index"]
                for name in names:
                    key = name
                    if name == "fraction":
                        key = self.fraction_names.get(index)
                        if key is None or key not in layer:
                            key = next((k for k in FRACTION_KEYS if k in layer), None)
                            if key is None:
                                continue
                            self.fraction_names[index] = key
                    value = layer.get(key)
                    # math, not numpy: a fast run brings a thousand epochs a bundle
                    if value is not None and math.isfinite(value):
                        xs, ys = points.setdefault((index, name), ([], []))
                        xs.append(epoch)
                        ys.append(value)
        for key, (xs, ys) in points.items():
            self._extend(key, xs, ys)
        self.version += 1

    def _extend(self, key: tuple[int, str], xs: list[float], ys: list[float]) -> None:
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = EnvelopeSeries(SMALL_MULTIPLE_CAP)
            series.appended = 0
        series.extend(xs, ys)
        series.appended += len(xs)

    def load(self, history: list[dict[str, Any]], recorder=None) -> None:
        """Replace everything by a saved history and, if given, a recorder's kept frames."""
        self.clear()
        self.add_entries(history)
        if recorder is not None:
            for index in range(len(recorder.labels)):
                for kind, (low, high, epochs, counts) in recorder.frames(index).items():
                    self.frames[(index, kind)] = [(epoch, low, high, row)
                                                  for epoch, row in zip(epochs, counts)]
        self.version += 1

    # -- output ---------------------------------------------------------------------------
    def data(self, index: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        series = self.series.get((index, name))
        return series.data() if series is not None else (np.empty(0), np.empty(0))

    def count(self, index: int, name: str) -> int:
        """Points appended to a series so far (a redraw is needed when it changes)."""
        series = self.series.get((index, name))
        return 0 if series is None else series.appended

    def frame_count(self, index: int) -> int:
        return sum(len(self.frames.get((index, kind), ())) for kind in HISTOGRAM_KINDS)

    def heatmap(self, index: int, kind: str) -> tuple[float, float, list[int], np.ndarray]:
        """(low, high, epochs, share of the frame's values per bin (F, BINS)) of one tensor."""
        low, high, epochs, counts = align_frames(self.frames.get((index, kind), []))
        totals = counts.sum(axis=1, keepdims=True)
        shares = counts / np.maximum(totals, 1)
        return low, high, epochs, shares

    def findings(self, task: str, n_classes: int | None):
        return find_problems(self.entries, task, n_classes)
