"""The network part of a project: architecture and faults in JSON, weights in an npz.

The architecture is checked against the stored arrays' shapes and a parameter cap
before any layer allocates its weights: a few KB of JSON asking for 20,000 x 20,000
units must be refused in milliseconds, not after gigabytes of initialisation.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine.layers import BatchNorm, Dense, Layer, layer_from_config
from ..engine.network import Network
from .archive import ProjectError

#: parameters a project may hold (200 MB of float32): far beyond a teaching network
MAX_PARAMETERS = 50_000_000


def network_to_json(network: Network) -> dict[str, Any]:
    """``Network.config()`` plus each layer's injected fault, so a teacher's deliberately
    broken network stays broken in the file the students get."""
    if network.input_dim is None:
        raise ValueError("cannot save a network that is not built")
    config = network.config()
    for entry, layer in zip(config["layers"], network.layers):
        entry["fault"] = layer.fault
    config["loss_fault"] = network.loss.fault
    return config


def network_from_json(config: Any, weights: dict[str, np.ndarray]) -> Network:
    """Rebuild the architecture, put the faults back and load the weights, naming what is wrong."""
    if not isinstance(config, dict):
        raise ProjectError("project.json: 'network' must be an object")
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(isinstance(entry, dict) for entry in layers):
        raise ProjectError("project.json: 'network.layers' must be a list of objects")
    for position, entry in enumerate(layers):
        if not isinstance(entry.get("type"), str):
            raise ProjectError(f"project.json: network.layers[{position}] has no 'type'")
        if not isinstance(entry.get("config", {}), dict):
            raise ProjectError(f"project.json: network.layers[{position}].config must be an object")
    for key in ("loss", "dtype"):
        if not isinstance(config.get(key, ""), str):
            raise ProjectError(f"project.json: network.{key} must be a name")
    input_dim = config.get("input_dim")
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise ProjectError(f"project.json: network.input_dim must be a positive integer, got {input_dim!r}")
    try:
        check_sizes(layers, input_dim, weights)
        network = Network.from_config(config)
    except ProjectError:
        raise
    except (ValueError, TypeError) as exc:
        hint = ("; a custom layer must be loaded before opening the project"
                if "unknown layer type" in str(exc) else "")
        raise ProjectError(f"project.json: network: {exc}{hint}") from None
    _restore_faults(network, config, layers)
    try:
        network.load_state_dict(weights)
    except ValueError as exc:
        raise ProjectError(f"weights.npz does not fit the network: {exc}") from None
    return network


def check_sizes(layers: list[dict], input_dim: int, weights: dict[str, np.ndarray]) -> None:
    """Refuse an architecture whose parameters the stored arrays do not hold, or that has
    more than :data:`MAX_PARAMETERS`, without allocating anything.

    Shapes follow from the widths for the built-in layers; a custom layer's output width
    is unknown here, so the next Dense layer's stored input width is taken instead (its
    own allocation is then bounded by what the file holds).
    """
    width: int | None = input_dim
    total = 0
    for position, entry in enumerate(layers):
        layer = layer_from_config(entry.get("type"), entry.get("config"))
        expected: dict[str, tuple[int, ...]] = {}
        if isinstance(layer, Dense):
            if width is None:
                width = _stored_shape(weights, f"{position}.W", position)[0]
            expected = {"W": (width, layer.units), "b": (layer.units,)}
            width = layer.units
        elif isinstance(layer, BatchNorm):
            if width is None:
                width = _stored_shape(weights, f"{position}.gamma", position)[0]
            expected = {name: (width,) for name in ("gamma", "beta", "running_mean", "running_var")}
        elif type(layer).build is not Layer.build:  # a custom layer with parameters
            width = None
            total += sum(array.size for name, array in weights.items()
                         if name.startswith(f"{position}."))
        for name, shape in expected.items():
            stored = _stored_shape(weights, f"{position}.{name}", position)
            if tuple(stored) != shape:
                raise ProjectError(f"weights.npz does not fit the network: {position}.{name}: expected "
                                   f"shape {shape}, got {tuple(stored)} (network.layers[{position}] "
                                   f"is {layer.describe()})")
            total += math.prod(shape)
        if total > MAX_PARAMETERS:
            raise ProjectError(f"project.json: the network has more than {MAX_PARAMETERS:,} "
                               f"parameters (at network.layers[{position}], {layer.describe()}); "
                               "refusing to build it")


def _stored_shape(weights: dict[str, np.ndarray], name: str, position: int) -> tuple[int, ...]:
    if name not in weights:
        raise ProjectError(f"weights.npz does not fit the network: missing [{name!r}] "
                           f"(for network.layers[{position}])")
    shape = weights[name].shape
    if not shape:
        raise ProjectError(f"weights.npz: {name} is a single number, not an array of weights")
    return shape


def _restore_faults(network: Network, config: dict, layers: list[dict]) -> None:
    try:
        for position, (entry, layer) in enumerate(zip(layers, network.layers)):
            fault = entry.get("fault")
            if fault is not None and not isinstance(fault, str):
                raise ValueError(f"layer {position}: fault must be a name or null")
            layer.set_fault(fault)
        loss_fault = config.get("loss_fault")
        if loss_fault is not None and not isinstance(loss_fault, str):
            raise ValueError("loss_fault must be a name or null")
        network.loss.set_fault(loss_fault)
    except ValueError as exc:
        raise ProjectError(f"project.json: network: {exc}") from None
