"""The forward-pass context: everything that changes a layer's behaviour, in one frozen value."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

BN_STATS_CHOICES: tuple[str, ...] = ("auto", "batch", "running")


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
    bn_stats: str = "auto"

    def __post_init__(self) -> None:
        if self.bn_stats not in BN_STATS_CHOICES:
            raise ValueError(
                f"bn_stats must be one of {BN_STATS_CHOICES}, got {self.bn_stats!r}"
            )

    @classmethod
    def train(cls, rng: np.random.Generator, bn_stats: str = "auto") -> "Context":
        """Context of a training step: dropout on, batch statistics, running stats move."""
        return cls(training=True, update_stats=True, rng=rng, bn_stats=bn_stats)

    @classmethod
    def inference(cls, bn_stats: str = "auto") -> "Context":
        """Context of prediction: dropout off, running statistics, nothing moves."""
        return cls(training=False, update_stats=False, rng=None, bn_stats=bn_stats)

    def with_(self, **changes) -> "Context":
        """A copy with some fields changed."""
        return replace(self, **changes)
