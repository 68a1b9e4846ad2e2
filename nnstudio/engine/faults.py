"""Fault injection: the catalog of classic backward mistakes, and switching them on a network.

Each layer type and loss lists its faults in ``FAULTS`` (name -> one-line explanation a
student can read). A fault changes only ``backward``: the forward pass, and so the loss the
numeric side differentiates, stays correct — which is what lets the gradient checker catch it.

    catalog()                       every fault of every registered layer type and loss
    set_fault(network, 3, "missing_1_over_n")      # layer 3 (or "loss")
    apply_fault_spec(network, "batchnorm:no_mean_path")
    clear_faults(network)
"""
from __future__ import annotations

from dataclasses import dataclass

from .layers import LAYER_TYPES, Layer
from .losses import LOSS_TYPES, Loss
from .network import Network

LOSS_TARGET = "loss"


@dataclass(frozen=True)
class Fault:
    """One catalog entry: ``owner`` is a layer ``type_name`` or a loss ``type_name``."""

    owner: str
    name: str
    explanation: str
    is_loss: bool = False

    def to_dict(self) -> dict:
        return {"owner": self.owner, "name": self.name, "explanation": self.explanation,
                "is_loss": self.is_loss}


def catalog() -> list[Fault]:
    """Every fault of every registered layer type (custom ones included), then the losses."""
    faults = [Fault(type_name, name, text)
              for type_name, cls in sorted(LAYER_TYPES.items())
              for name, text in cls.FAULTS.items()]
    faults += [Fault(type_name, name, text, is_loss=True)
               for type_name, cls in sorted(LOSS_TYPES.items())
               for name, text in cls.FAULTS.items()]
    return faults


def faults_for(target: Layer | Loss) -> dict[str, str]:
    """The faults one layer or loss offers: name -> explanation."""
    return dict(type(target).FAULTS)


def resolve_target(network: Network, where: int | str) -> Layer | Loss:
    """A layer by index, "loss", or a layer type name that occurs exactly once."""
    if where == LOSS_TARGET:
        return network.loss
    if isinstance(where, str) and where.lstrip("-").isdigit():
        where = int(where)
    if isinstance(where, int) and not isinstance(where, bool):
        if not 0 <= where < len(network.layers):
            raise ValueError(f"layer index {where} is out of range: the network has layers "
                             f"0..{len(network.layers) - 1}")
        return network.layers[where]
    if isinstance(where, str):
        matches = [i for i, layer in enumerate(network.layers) if layer.type_name == where.lower()]
        if len(matches) == 1:
            return network.layers[matches[0]]
        if matches:
            raise ValueError(f"{where!r} matches layers {matches}; name one by its index, "
                             f"e.g. {matches[0]}:FAULT")
    listing = ", ".join(f"{i} {layer.describe()}" for i, layer in enumerate(network.layers))
    raise ValueError(f"no layer {where!r}: use an index, a layer type or 'loss' ({listing})")


def set_fault(network: Network, where: int | str, fault: str | None) -> None:
    """Switch ``fault`` on (or off with None) in one layer or the loss."""
    target = resolve_target(network, where)
    target.set_fault(fault)  # raises ValueError listing the known faults


def clear_faults(network: Network) -> None:
    """Restore every correct backward."""
    for layer in network.layers:
        layer.set_fault(None)
    network.loss.set_fault(None)


def active_faults(network: Network) -> list[tuple[int | str, str]]:
    """(layer index or "loss", fault name) for every fault switched on."""
    active: list[tuple[int | str, str]] = [
        (index, layer.fault) for index, layer in enumerate(network.layers) if layer.fault]
    if network.loss.fault:
        active.append((LOSS_TARGET, network.loss.fault))
    return active


def apply_fault_spec(network: Network, spec: str) -> tuple[int | str, str]:
    """Apply "WHERE:FAULT" (WHERE = index, layer type or "loss"); return (where, fault)."""
    where, sep, fault = spec.partition(":")
    if not sep or not where.strip() or not fault.strip():
        raise ValueError(f"a fault is given as LAYER:FAULT (e.g. 2:no_mean_path or "
                         f"loss:wrong_sign), got {spec!r}")
    target = resolve_target(network, where.strip())
    target.set_fault(fault.strip())
    if target is network.loss:
        return LOSS_TARGET, fault.strip()
    assert isinstance(target, Layer)  # resolve_target returns the loss or a layer
    return network.layers.index(target), fault.strip()
