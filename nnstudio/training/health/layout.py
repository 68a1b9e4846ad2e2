"""How the recorder sees a network's layers: their kind, the histogram range of their
outputs, where their parameters sit in the packed array, and what a saved entry may hold."""
from __future__ import annotations

from typing import Any

import numpy as np

from ...engine.layers import BatchNorm, LeakyReLU, ReLU, Sigmoid, Tanh
from ...engine.network import Network
from .histograms import HistogramTrack


def layer_kind(layer) -> str:
    """"rectifier", "tanh", "sigmoid", "batchnorm" or "other" (built-in types only)."""
    if isinstance(layer, (ReLU, LeakyReLU)):
        return "rectifier"
    if isinstance(layer, Tanh):
        return "tanh"
    if isinstance(layer, Sigmoid):
        return "sigmoid"
    if isinstance(layer, BatchNorm):
        return "batchnorm"
    return "other"


def activation_track(layer) -> HistogramTrack:
    if isinstance(layer, Tanh):
        return HistogramTrack("fixed", (-1.0, 1.0))
    if isinstance(layer, Sigmoid):
        return HistogramTrack("fixed", (0.0, 1.0))
    return HistogramTrack("positive" if isinstance(layer, ReLU) else "signed")


def layer_spans(network: Network, param_layers: list[int]):
    """({layer index: slice of the packed parameters}, reduceat starts), or (None, None)
    when the network does not pack its parameters layer after layer."""
    flat = network.flat_parameters()
    if flat is None or not param_layers:
        return None, None
    spans = {name: span for name, span, _ in flat[2]}
    layer_spans = {}
    for index in param_layers:
        names = [f"{index}.{name}" for name in network.layers[index].params]
        if not all(name in spans for name in names):
            return None, None
        layer_spans[index] = slice(spans[names[0]].start, spans[names[-1]].stop)
    ordered = list(layer_spans.values())
    covered = all(a.stop == b.start for a, b in zip(ordered, ordered[1:]))
    if not covered or ordered[0].start != 0 or ordered[-1].stop != len(flat[0]):
        return None, None
    return layer_spans, np.array([span.start for span in ordered], dtype=np.intp)


def layer_entries_ok(value: Any) -> bool:
    """Whether ``value`` has the shape of a history entry's "layers" (as saved in a project):
    a list of objects with an integer layer_index, text label and type, numbers or null else."""
    if not isinstance(value, list):
        return False
    for layer in value:
        if not isinstance(layer, dict):
            return False
        for key, item in layer.items():
            if key == "layer_index":
                ok = isinstance(item, int) and not isinstance(item, bool) and item >= 0
            elif key in ("label", "type"):
                ok = isinstance(item, str)
            else:
                ok = item is None or (isinstance(item, (int, float)) and not isinstance(item, bool))
            if not ok:
                return False
    return True
