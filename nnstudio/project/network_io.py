"""The network part of a project: architecture and faults in JSON, weights in an npz."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.network import Network
from .archive import ProjectError


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
        network = Network.from_config(config)
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
