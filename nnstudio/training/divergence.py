"""Divergence: keeping the last good weights, and finding the layer where NaN first appeared."""
from __future__ import annotations

import numpy as np

from ..engine.context import Context
from ..engine.network import Network, NonFiniteError


def layer_label(network: Network, index: int) -> str:
    """"index:Describe", the name of a layer in snapshots, histories and messages."""
    return f"{index}:{network.layers[index].describe()}"


class WeightBackup:
    """The network's parameters and buffers as they were at the start of the last two batches.

    A batch whose loss or gradients are not finite is caught before its update, but the
    update that caused it was applied a batch earlier, from finite gradients; so the
    weights to keep are those from before the previous batch: the last ones whose loss
    and gradients were both finite. Two preallocated slots, one ``copyto`` per array per
    batch, no allocation.
    """

    def __init__(self, network: Network) -> None:
        flat = network.flat_parameters()
        if flat is not None:  # one copy for all parameters when the network packs them
            live = [flat[0]]
        else:
            live = [value for _, _, value, _ in network.named_parameters()]
        live += [value for _, _, value in network.named_buffers()]
        self._live = live
        self._slots = [[np.empty_like(value) for value in live] for _ in range(2)]
        self._where: list[tuple[int, int, int] | None] = [None, None]
        self._newest = 1

    def save(self, epoch: int, batch: int, step: int) -> None:
        """Copy the live arrays into the older slot and mark it as the newest."""
        slot = 1 - self._newest
        for target, value in zip(self._slots[slot], self._live):
            np.copyto(target, value)
        self._where[slot] = (epoch, batch, step)
        self._newest = slot

    def restore(self) -> tuple[int, int, int] | None:
        """Copy back the state from before the previous batch (else before this one).

        Returns (epoch, batch, step) of the batch that state was saved at, or None if
        nothing was saved yet.
        """
        older = 1 - self._newest
        slot = older if self._where[older] is not None else self._newest
        if self._where[slot] is None:
            return None
        for value, saved in zip(self._live, self._slots[slot]):
            np.copyto(value, saved)
        where = self._where[slot]
        self._where = [None, None]
        return where


def _diagnostic_context(bn_stats: str) -> Context:
    """Training mode without moving running statistics; dropout masks come from a throwaway
    generator, which cannot matter here: a mask cannot create NaN."""
    return Context(training=True, update_stats=False, rng=np.random.default_rng(0), bn_stats=bn_stats)


def first_bad_activation(network: Network, x: np.ndarray, bn_stats: str) -> int | None:
    """Index of the first layer whose forward output on ``x`` is NaN or infinite, or None."""
    try:
        network.forward(x, _diagnostic_context(bn_stats), check_finite=True)
    except NonFiniteError as exc:
        return exc.layer_index
    return None


def first_bad_gradient(network: Network, x: np.ndarray, y: np.ndarray,
                       bn_stats: str) -> tuple[int | None, bool]:
    """Repeat the batch's forward and walk backward; the first layer with a non-finite result.

    Returns (layer index or None, whether the loss's own gradient was already non-finite).
    The gradients it leaves behind are about to be thrown away with the failed step.
    """
    network.zero_grad()
    network.loss.forward(network.forward(x, _diagnostic_context(bn_stats)), y)
    dout = network.loss.backward()
    if not np.all(np.isfinite(dout)):
        return None, True
    for index in reversed(range(len(network.layers))):
        layer = network.layers[index]
        dout = layer.backward(dout)
        grads_ok = all(np.all(np.isfinite(grad)) for grad in layer.grads.values())
        if not grads_ok or not np.all(np.isfinite(dout)):
            return index, False
    return None, False


def weights_finite(network: Network, index: int) -> bool:
    return all(np.all(np.isfinite(value)) for value in network.layers[index].params.values())


LEARNING_RATE_ADVICE = "Lower the learning rate (or add regularization) and continue."
TARGET_SCALE_ADVICE = ("Standardize the target (the default, turned off by "
                       "--no-standardize-target or the Data panel's 'standardise a regression "
                       "target') or divide it by a power of ten, and train again; a lower "
                       "learning rate does not help.")


def divergence_message(where: str, what: str, kept: tuple[int, int, int] | None,
                       advice: str = LEARNING_RATE_ADVICE) -> str:
    """One sentence for the user: where it happened, what went wrong, what was kept."""
    if kept is None:
        keep = "the weights are unchanged"
    else:
        keep = f"kept the last good weights, from before epoch {kept[0]}, batch {kept[1]}"
    return f"Training diverged at {where}: {what}; {keep}. {advice}"


def target_scale_cause(outputs: np.ndarray, y: np.ndarray) -> str | None:
    """Why a regression loss overflowed when the target, not the network, is too large.

    outputs : (N, K) finite network outputs; y : (N, K) float targets. The squared
    residuals then overflow the float type whatever the weights are, so the advice to
    lower the learning rate would be wrong.
    """
    if y.dtype.kind != "f" or not y.size or not np.all(np.isfinite(outputs)):
        return None
    scale = float(np.max(np.abs(y)))
    limit = float(np.finfo(outputs.dtype).max)
    if scale <= float(np.max(np.abs(outputs))) or scale * scale * y.size < limit:
        return None
    return (f"the regression target reaches {scale:.3g}, and its square overflows "
            f"{outputs.dtype.name} in the loss: the target's scale is the cause, not the training")
