"""The layer-spec grammar of the command line: "dense:16,batchnorm,relu,dropout:0.2".

spec    := token ("," token)*
token   := type (":" arg)*
dense:UNITS[:he|xavier]   leakyrelu[:SLOPE]   dropout[:P]   batchnorm[:MOMENTUM[:EPS]]
relu  tanh  sigmoid       and any registered custom layer: name[:arg...] (positional
                          constructor arguments, numbers where they parse as numbers)
"""
from __future__ import annotations

import numpy as np

from .layers import LAYER_TYPES, Dense, Layer
from .losses import loss_for_task
from .network import Network


def parse_layer_spec(spec: str) -> list[Layer]:
    """Unbuilt layers for a comma-separated spec; an empty spec means no hidden layers."""
    layers: list[Layer] = []
    for position, token in enumerate(t.strip() for t in spec.split(",")):
        if not token:
            if spec.strip():
                raise ValueError(f"empty layer token at position {position + 1} in {spec!r}")
            continue
        name, *args = [part.strip() for part in token.split(":")]
        cls = LAYER_TYPES.get(name.lower())
        if cls is None:
            valid = ", ".join(sorted(LAYER_TYPES))
            raise ValueError(f"unknown layer {name!r} in {spec!r}; valid layers: {valid}")
        try:
            layers.append(cls(*[_parse_arg(arg) for arg in args]))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad layer token {token!r}: {exc}") from None
    return layers


def _parse_arg(text: str) -> int | float | str:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def build_network(hidden: str | list[Layer], n_features: int, task: str, n_outputs: int,
                  seed: int = 0, dtype=np.float32) -> Network:
    """Hidden layers from a spec, plus the output layer and loss that fit the task.

    Classification gets Dense(n_classes) and softmax cross-entropy; regression gets
    Dense(n_outputs) and mean squared error.
    """
    layers = parse_layer_spec(hidden) if isinstance(hidden, str) else list(hidden)
    if n_outputs < 1:
        raise ValueError(f"n_outputs must be at least 1, got {n_outputs}")
    if task == "classification" and n_outputs < 2:
        raise ValueError(f"classification needs at least 2 classes, got {n_outputs}")
    layers.append(Dense(n_outputs, init="xavier"))
    return Network(layers, loss_for_task(task), n_features, seed=seed, dtype=dtype)
