"""What the Layers view has received: per-layer series over epochs, histogram frames, and the
history entries the engine's findings rules read. Bookkeeping only; numbers come from the
trainer's snapshots (live) or a trainer's history and recorder (a loaded project).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nnstudio.training.health import align_frames, find_problems
from nnstudio.training.health.histograms import MAX_FRAMES

from .series import EnvelopeSeries

#: small multiples per layer: entry key of each, and which keys can feed the "fraction" one
SERIES = ("grad_norm", "update_ratio", "fraction")
FRACTION_KEYS = ("dead_fraction", "saturated_fraction")
HISTOGRAM_KINDS = ("weights", "gradients", "activations")


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
    def add_epoch(self, epoch: int, health) -> None:
        """One :class:`~nnstudio.training.health.EpochHealth` of epoch number ``epoch``."""
        self.add_entry({"epoch": epoch, **health.history_fields()})
        for index, kinds in health.histograms.items():
            for kind, (low, high, counts) in kinds.items():
                frames = self.frames.setdefault((index, kind), [])
                frames.append((epoch, low, high, counts))
                if len(frames) > MAX_FRAMES:  # as the recorder thins its own
                    frames[:] = frames[::2]

    def add_entry(self, entry: dict[str, Any]) -> None:
        """A history entry with "epoch" and "layers" (others are ignored)."""
        layers = entry.get("layers")
        if not isinstance(layers, list):
            return
        self.entries.append(entry)
        epoch = float(entry["epoch"])
        for layer in layers:
            index = layer["layer_index"]
            for name in SERIES:
                key = name
                if name == "fraction":
                    key = next((k for k in FRACTION_KEYS if k in layer), None)
                    if key is None:
                        continue
                    self.fraction_names[index] = key
                value = layer.get(key)
                if isinstance(value, (int, float)) and np.isfinite(value):
                    self.series.setdefault((index, name), EnvelopeSeries()).extend([epoch], [value])
        self.version += 1

    def load(self, history: list[dict[str, Any]], recorder=None) -> None:
        """Replace everything by a saved history and, if given, a recorder's kept frames."""
        self.clear()
        for entry in history:
            self.add_entry(entry)
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

    def heatmap(self, index: int, kind: str) -> tuple[float, float, list[int], np.ndarray]:
        """(low, high, epochs, share of the frame's values per bin (F, BINS)) of one tensor."""
        low, high, epochs, counts = align_frames(self.frames.get((index, kind), []))
        totals = counts.sum(axis=1, keepdims=True)
        shares = counts / np.maximum(totals, 1)
        return low, high, epochs, shares

    def findings(self, task: str, n_classes: int | None):
        return find_problems(self.entries, task, n_classes)
