"""Built-in layers and the registry that maps type names (specs, files, palette) to classes."""
from __future__ import annotations

from typing import Any

from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

BUILTIN_LAYERS: tuple[type[Layer], ...] = (Dense, ReLU, LeakyReLU, Tanh, Sigmoid, BatchNorm, Dropout)
LAYER_TYPES: dict[str, type[Layer]] = {cls.type_name: cls for cls in BUILTIN_LAYERS}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Make a layer class available by its ``type_name`` (custom layers use this)."""
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"{cls!r} is not a Layer subclass")
    name = getattr(cls, "type_name", "")
    if not name or not name.isidentifier():
        raise ValueError(f"{cls.__name__} needs a type_name that is an identifier, got {name!r}")
    existing = LAYER_TYPES.get(name)
    if existing is not None and existing in BUILTIN_LAYERS and existing is not cls:
        raise ValueError(f"type_name {name!r} of {cls.__name__} clashes with a built-in layer")
    LAYER_TYPES[name] = cls
    return cls


def layer_from_config(type_name: str, config: dict[str, Any] | None = None) -> Layer:
    """Create an unbuilt layer from its type name and settings."""
    cls = LAYER_TYPES.get(type_name)
    if cls is None:
        known = ", ".join(sorted(LAYER_TYPES))
        raise ValueError(f"unknown layer type {type_name!r}; known types: {known}")
    try:
        return cls(**(config or {}))
    except TypeError as exc:
        raise ValueError(f"bad settings for layer {type_name!r}: {exc}") from None


__all__ = [
    "BUILTIN_LAYERS", "LAYER_TYPES", "BatchNorm", "Dense", "Dropout", "Layer", "LeakyReLU",
    "ReLU", "Sigmoid", "Tanh", "layer_from_config", "register_layer",
]
