"""The network part of a project: architecture and faults in JSON, weights in an npz.

The architecture is checked against the stored arrays' shapes and a parameter cap
before any layer allocates its weights: a few KB of JSON asking for 20,000 x 20,000
units must be refused in milliseconds, not after gigabytes of initialisation.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..engine.layers import BatchNorm, Dense, Layer, layer_from_config
from ..engine.network import Network
from .archive import ProjectError

#: parameters a project may hold (200 MB of float32): far beyond a teaching network
MAX_PARAMETERS = 50_000_000


class SizeError(ProjectError):
    """The architecture does not fit the stored arrays, or is beyond the parameter cap."""


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
    layers, input_dim = _checked_structure(config)
    try:
        check_sizes(layers, input_dim, {name: array.shape for name, array in weights.items()})
        network = Network.from_config(config)
    except ProjectError:
        raise
    except (ValueError, TypeError) as exc:
        hint = ("; a custom layer must be loaded before opening the project"
                if "unknown layer type" in str(exc) else "")
        raise ProjectError(f"project.json: network: {exc}{hint}") from None
    _restore_faults(network, config, layers)
    for index, layer in enumerate(network.layers):
        adopt = getattr(layer, "adopt_buffers", None)  # layer functions create state lazily
        if adopt is not None:
            prefix = f"{index}."
            adopt({key[len(prefix):]: value for key, value in weights.items()
                   if key.startswith(prefix)})
    try:
        network.load_state_dict(weights)
    except ValueError as exc:
        raise ProjectError(f"weights.npz does not fit the network: {exc}") from None
    return network


def _checked_structure(config: Any) -> tuple[list[dict], int]:
    """The layers and input width of a network's JSON, whose structure is checked."""
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
    return layers, input_dim


def size_check(config: Any) -> Callable[[dict[str, tuple[int, ...]]], None]:
    """For :func:`decode_npz`: judge the architecture against the stored arrays' header
    shapes before the arrays are decoded. Other problems of the JSON are left to
    :func:`network_from_json`, which names them in context."""
    def check(shapes: dict[str, tuple[int, ...]]) -> None:
        try:
            check_sizes(*_checked_structure(config), shapes)
        except SizeError:
            raise
        except (ValueError, TypeError):  # ProjectErrors of the structure, unknown layers
            pass
    return check


def check_sizes(layers: list[dict], input_dim: int, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse an architecture whose parameters the stored arrays do not hold, or that has
    more than :data:`MAX_PARAMETERS`, without allocating anything.

    Shapes follow from the widths for the built-in layers; a custom layer's output width
    is unknown here, so the next Dense layer's stored input width is taken instead (its
    own allocation is then bounded by what the file holds).
    """
    width: int | None = input_dim
    total = 0
    for position, entry in enumerate(layers):
        layer = layer_from_config(entry["type"], entry.get("config"))  # _checked_structure: a str
        expected: dict[str, tuple[int, ...]] = {}
        if isinstance(layer, Dense):
            if width is None:
                width = _stored_shape(shapes, f"{position}.W", position)[0]
            expected = {"W": (width, layer.units), "b": (layer.units,)}
            width = layer.units
        elif isinstance(layer, BatchNorm):
            if width is None:
                width = _stored_shape(shapes, f"{position}.gamma", position)[0]
            expected = {name: (width,) for name in ("gamma", "beta", "running_mean", "running_var")}
        elif type(layer).build is not Layer.build:  # a custom layer with parameters
            width = None
            total += sum(math.prod(shape) for name, shape in shapes.items()
                         if name.startswith(f"{position}."))
        for name, shape in expected.items():
            stored = _stored_shape(shapes, f"{position}.{name}", position)
            if tuple(stored) != shape:
                raise SizeError(f"weights.npz does not fit the network: {position}.{name}: expected "
                                   f"shape {shape}, got {tuple(stored)} (network.layers[{position}] "
                                   f"is {layer.describe()})")
            total += math.prod(shape)
        if total > MAX_PARAMETERS:
            raise SizeError(f"project.json: the network has more than {MAX_PARAMETERS:,} "
                               f"parameters (at network.layers[{position}], {layer.describe()}); "
                               "refusing to build it")


def _stored_shape(shapes: dict[str, tuple[int, ...]], name: str, position: int) -> tuple[int, ...]:
    if name not in shapes:
        raise SizeError(f"weights.npz does not fit the network: missing [{name!r}] "
                           f"(for network.layers[{position}])")
    shape = tuple(shapes[name])
    if not shape:
        raise SizeError(f"weights.npz: {name} is a single number, not an array of weights")
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
