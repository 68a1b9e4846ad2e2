"""Settings of a gradient check, validated once, with the defaults the README justifies."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..context import BATCH, BN_STATS_MODES, require_bn_stats
from ..regularization import NO_REGULARIZATION, Regularization

DROPOUT_MODES: tuple[str, ...] = ("fixed", "off", "redraw")

#: Central-difference step in float64: truncation error ~h², rounding error ~1e-16/h.
DEFAULT_H = 1e-5
#: Verdict rule |a − n| ≤ floor + rtol·max(|a|, |n|); see README "Gradient checker" for the
#: measurements (false alarms on random correct networks vs. catalog faults) behind them.
DEFAULT_RTOL = 1e-4
#: None: the floor comes from the rounding error of the evaluations (verdict.FLOOR_SAFETY)
DEFAULT_ATOL = None


@dataclass(frozen=True)
class CheckConfig:
    """How to check.

    Attributes
    ----------
    h : float
        Central-difference step.
    rtol : float
        Verdict rule: an element is ok when |a − n| ≤ floor + rtol·max(|a|, |n|).
    atol : float or None
        The floor. None (default): estimated from the rounding error of the evaluations
        themselves, FLOOR_SAFETY·ε·S/h (``analytic.rounding_scale``), so it grows where
        rounding does and never exceeds the gradients by construction. A number fixes it.
    atol_scales_with_loss : bool
        With a fixed ``atol``: use atol·max(1, |L(θ)|) (the rule before the rounding
        estimate existed; kept for comparisons in bench/).
    check_inputs : bool
        Also check the gradient every layer returns for its input, and the loss's for the
        network output: what lets the report name the layer where an error starts.
    bn_stats : {"batch", "running"}
        BatchNorm statistics for the whole objective (a layer's own ``stats`` override
        still applies, on both sides alike).
    dropout : {"fixed", "off", "redraw"}
        "fixed": masks drawn once from ``seed`` and replayed in every evaluation;
        "off": dropout inactive; "redraw": a fresh mask per evaluation — the wrong way,
        kept to show why it fails.
    seed : int
        Dropout masks (unless a generator is given to the checker), sampled elements and
        screen directions.
    regularization : Regularization
        The training penalty; part of the objective only when ``include_regularization``.
    include_regularization : bool
    samples_per_tensor : int or None
        None checks every element; k checks k seeded random elements per tensor.
    screen_first : bool
        Run the directional screen first, then check elements only of the tensors it flags.
    max_chunk_seconds : float
        Work between two yields of the element stream, so a caller can stop promptly.
    """

    h: float = DEFAULT_H
    rtol: float = DEFAULT_RTOL
    atol: float | None = DEFAULT_ATOL
    atol_scales_with_loss: bool = False
    bn_stats: str = BATCH
    dropout: str = "fixed"
    seed: int = 0
    regularization: Regularization = field(default=NO_REGULARIZATION)
    include_regularization: bool = False
    samples_per_tensor: int | None = None
    screen_first: bool = False
    check_inputs: bool = True
    max_chunk_seconds: float = 0.005

    def __post_init__(self) -> None:
        _positive("h", self.h)
        _non_negative("rtol", self.rtol)
        if self.atol is not None:
            _non_negative("atol", self.atol)
        _positive("max_chunk_seconds", self.max_chunk_seconds)
        if self.h > 0.1:
            raise ValueError(f"h = {self.h!r} is far too large for a central difference; try 1e-5")
        require_bn_stats(self.bn_stats, choices=BN_STATS_MODES)
        if self.dropout not in DROPOUT_MODES:
            raise ValueError(f"dropout must be one of {DROPOUT_MODES}, got {self.dropout!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.regularization, Regularization):
            raise ValueError("regularization must be a Regularization(l1=..., l2=...)")
        k = self.samples_per_tensor
        if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer))
                              or k < 1):
            raise ValueError(f"samples_per_tensor must be a positive integer or None, got {k!r}")

    @property
    def objective_regularization(self) -> Regularization:
        """The penalty that is part of the checked objective."""
        return self.regularization if self.include_regularization else NO_REGULARIZATION

    def to_dict(self) -> dict:
        reg = self.regularization
        return {
            "h": self.h, "rtol": self.rtol, "atol": self.atol,
            "atol_scales_with_loss": self.atol_scales_with_loss, "bn_stats": self.bn_stats,
            "dropout": self.dropout, "seed": int(self.seed),
            "include_regularization": self.include_regularization,
            "l1": reg.l1, "l2": reg.l2, "samples_per_tensor": self.samples_per_tensor,
            "screen_first": self.screen_first, "check_inputs": self.check_inputs,
        }


def _positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
