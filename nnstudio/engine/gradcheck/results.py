"""The values a gradient check hands out: immutable, safe to pass between threads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..json_values import finite_or_none

OK = "ok"
MISMATCH = "mismatch"
KINK = "kink"
#: the noise floor would hide a 2x error of this element: neither right nor wrong, not a pass
UNVERIFIABLE = "unverifiable"

#: TensorInfo.kind: a learned parameter, or the gradient a layer returns for its input
PARAMETER, INPUT = "parameter", "input"
#: TensorInfo.param of an input-gradient tensor; not an identifier, so never a parameter name
INPUT_PARAM = "<input>"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that makes a check fail before any element is compared, or a warning.

    kind : {"shape", "non-finite", "nondeterministic", "buffers"}
    layer_index : the layer it concerns (None: the network as a whole)
    fails : whether the verdict is FAIL because of it (False: a warning)
    """

    kind: str
    layer_index: int | None
    layer_label: str
    message: str
    fails: bool = True

    def to_dict(self) -> dict:
        return {"kind": self.kind, "layer_index": self.layer_index,
                "layer_label": self.layer_label, "message": self.message, "fails": self.fails}


@dataclass(frozen=True, slots=True)
class KinkDetail:
    """Where a piecewise-linear switch flipped between θ+h and θ−h.

    Attributes
    ----------
    layer_index : int
        The layer whose on/off pattern changed (for ``source == "l1"``: the layer that
        owns the perturbed weight).
    layer_label : str
        ``describe()`` of that layer, e.g. ``"ReLU"``.
    units : int
        How many units (sample × feature positions) changed state; 1 for an L1 sign.
    source : {"activation", "l1"}
        An activation's on/off pattern, or the sign of the weight inside the L1 penalty.
    """

    layer_index: int
    layer_label: str
    units: int
    source: str = "activation"

    def to_dict(self) -> dict:
        return {"layer_index": self.layer_index, "layer_label": self.layer_label,
                "units": self.units, "source": self.source}


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One learned tensor of the checked network, known before anything is computed.

    ``name`` is the network's parameter name ``"<layer index>.<param>"``, e.g. ``"0.W"``.
    ``planned`` is how many of its elements the element check will visit (all, or the
    sampled ones). ``kind`` is "parameter", or "input" for the gradient layer
    ``layer_index`` returns for its input (name ``"k.<input>"``; k = number of layers
    for the loss's gradient with respect to the network output).
    """

    name: str
    layer_index: int
    layer_label: str
    param: str
    shape: tuple[int, ...]
    planned: int
    kind: str = PARAMETER

    @property
    def is_input(self) -> bool:
        return self.kind == INPUT

    @property
    def size(self) -> int:
        total = 1
        for extent in self.shape:
            total *= extent
        return total

    def to_dict(self) -> dict:
        return {"name": self.name, "layer_index": self.layer_index,
                "layer_label": self.layer_label, "param": self.param, "kind": self.kind,
                "shape": list(self.shape), "size": self.size, "planned": self.planned}


class ElementResult(NamedTuple):
    """The check of one parameter element (a named tuple: cheap to make, immutable).

    Attributes
    ----------
    tensor : str               parameter name, e.g. ``"3.W"``
    layer_index : int
    index : tuple of int       multi-index into the tensor, e.g. ``(4, 7)``
    flat_index : int           row-major position, ``numpy.ravel_multi_index(index, shape)``
    analytic : float           the backward pass's dL/dθ
    numeric : float            (f_plus − f_minus) / 2h
    abs_error : float          |analytic − numeric|
    rel_error : float          abs_error / max(|analytic|, |numeric|), 0 when both are 0
    verdict : {"ok", "mismatch", "kink", "unverifiable"}
    f_plus, f_minus : float    the objective at θ+h and θ−h (data loss + penalty)
    kinks : tuple of KinkDetail
        Every switch that flipped between θ+h and θ−h; empty when none did. An element
        whose error is within tolerance stays "ok" even if it crossed a kink.
    rule : str
        Which rule decided the verdict (see ``verdict.RULES``); ``numeric`` is then the
        estimate that rule used (e.g. a higher-order difference after a truncation doubt).
    """

    tensor: str
    layer_index: int
    index: tuple[int, ...]  # type: ignore[assignment]  # the field shadows tuple.index, by name
    flat_index: int
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    verdict: str
    f_plus: float
    f_minus: float
    kinks: tuple[KinkDetail, ...] = ()
    rule: str = "tolerance"

    @property
    def label(self) -> str:
        """E.g. ``"3.W[4, 7]"``."""
        return f"{self.tensor}[{', '.join(str(i) for i in self.index)}]"

    def to_dict(self) -> dict:
        return {
            "tensor": self.tensor, "layer_index": self.layer_index, "index": list(self.index),
            "flat_index": self.flat_index, "analytic": finite_or_none(self.analytic),
            "numeric": finite_or_none(self.numeric),
            "abs_error": finite_or_none(self.abs_error),
            "rel_error": finite_or_none(self.rel_error), "verdict": self.verdict,
            "f_plus": finite_or_none(self.f_plus), "f_minus": finite_or_none(self.f_minus),
            "kinks": [kink.to_dict() for kink in self.kinks], "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """The directional screen of one tensor: uᵀ∇L against the central difference along u.

    ``u`` is a seeded random unit vector. ``scale`` is what the relative error is measured
    against: max(|analytic|, |numeric|, ‖∇L‖/√size), the typical size of uᵀ∇L, so that a
    direction nearly orthogonal to the gradient does not turn noise into an alarm.
    """

    tensor: str
    layer_index: int
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    verdict: str
    kinks: tuple[KinkDetail, ...] = ()

    def to_dict(self) -> dict:
        return {"tensor": self.tensor, "layer_index": self.layer_index,
                "analytic": finite_or_none(self.analytic),
                "numeric": finite_or_none(self.numeric),
                "abs_error": finite_or_none(self.abs_error),
                "rel_error": finite_or_none(self.rel_error), "verdict": self.verdict,
                "kinks": [kink.to_dict() for kink in self.kinks]}

