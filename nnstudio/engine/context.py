"""The forward-pass context: everything that changes a layer's behaviour, in one frozen value."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np

#: BatchNorm statistics: those of the batch at hand, or the running estimates in its buffers
BATCH: Final = "batch"
RUNNING: Final = "running"
#: a setting (network-wide or a layer's override) that defers: to ``Context.training``, or
#: for a layer to the network-wide choice
AUTO: Final = "auto"
#: what a BatchNorm statistics setting may say (``Context.bn_stats``, ``BatchNorm.stats``)
BN_STATS_CHOICES: tuple[str, ...] = (AUTO, BATCH, RUNNING)
#: the statistics actually used: what an evaluation, a gradient check or the window's switch picks
BN_STATS_MODES: tuple[str, ...] = (BATCH, RUNNING)
#: how each mode is named to a user, alone and with the phase it belongs to
BN_STATS_NAMES: dict[str, str] = {BATCH: "batch statistics", RUNNING: "running statistics"}
BN_STATS_LABELS: dict[str, str] = {BATCH: f"{BN_STATS_NAMES[BATCH]} (training mode)",
                                   RUNNING: f"{BN_STATS_NAMES[RUNNING]} (inference mode)"}


def require_bn_stats(value: str, what: str = "bn_stats",
                     choices: tuple[str, ...] = BN_STATS_CHOICES) -> None:
    """ValueError naming ``what`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{what} must be one of {choices}, got {value!r}")


def other_bn_mode(mode: str) -> str:
    """The other of the two modes: "batch" for "running" and vice versa."""
    return BATCH if mode == RUNNING else RUNNING


@dataclass(frozen=True)
class Context:
    """How a forward pass behaves.

    Attributes
    ----------
    training : bool
        Dropout is active and BatchNorm uses batch statistics (unless ``bn_stats`` or a
        layer's own override says otherwise).
    update_stats : bool
        Whether BatchNorm may move its running statistics. A gradient check forbids it;
        "frozen" is this flag, independent of ``training``.
    rng : numpy.random.Generator or None
        The only source of dropout masks. Required when dropout is active.
    bn_stats : {"auto", "batch", "running"}
        Network-wide choice of BatchNorm statistics; "auto" follows ``training``.
    """

    training: bool = False
    update_stats: bool = False
    rng: np.random.Generator | None = None
    # a str, not a Literal: it comes from files, the command line and the window, and
    # __post_init__ checks it
    bn_stats: str = AUTO

    def __post_init__(self) -> None:
        require_bn_stats(self.bn_stats)

    @classmethod
    def train(cls, rng: np.random.Generator, bn_stats: str = AUTO) -> "Context":
        """Context of a training step: dropout on, batch statistics, running stats move."""
        return cls(training=True, update_stats=True, rng=rng, bn_stats=bn_stats)

    @classmethod
    def inference(cls, bn_stats: str = AUTO) -> "Context":
        """Context of prediction: dropout off, running statistics, nothing moves."""
        return cls(training=False, update_stats=False, rng=None, bn_stats=bn_stats)

    def uses_batch_stats(self, override: str = AUTO) -> bool:
        """Whether BatchNorm takes the statistics of the batch under this context.

        ``override`` is a layer's own choice; it wins unless it is "auto", and "auto"
        network-wide follows ``training``.
        """
        choice = override if override != AUTO else self.bn_stats
        return self.training if choice == AUTO else choice == BATCH

    def with_(self, **changes) -> "Context":
        """A copy with some fields changed."""
        return replace(self, **changes)
