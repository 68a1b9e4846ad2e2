"""A trainer's resumable state as plain data: JSON-safe values plus a flat dict of arrays."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .progress import EpochProgress

if TYPE_CHECKING:
    from .trainer import Trainer

STATE_VERSION = 1


@dataclass(slots=True)
class LoadedState:
    """A validated :meth:`Trainer.state_dict`, for the trainer to take over."""

    epoch: int
    step: int
    elapsed: float
    optimizer: Any
    rng: np.random.Generator
    progress: EpochProgress | None
    arrays: dict[str, Any]


def trainer_state(*, epoch: int, step: int, elapsed: float, config: Any, optimizer: Any,
                  rng: np.random.Generator, progress: EpochProgress | None,
                  health: Any) -> dict[str, Any]:
    """See :meth:`Trainer.state_dict`; ``health`` is the trainer's recorder or None."""
    arrays = {f"optimizer/{key}": value for key, value in optimizer.state_dict().items()}
    if progress is not None:
        arrays["progress/order"] = progress.order.copy()
    if health is not None:
        arrays.update(health.to_arrays())
    return {
        "version": STATE_VERSION,
        "epoch": epoch,
        "step": step,
        "elapsed": elapsed,
        "optimizer": config.optimizer,
        "rng": copy.deepcopy(rng.bit_generator.state),
        "progress": None if progress is None else progress.to_json(),
        "arrays": arrays,
    }


def read_trainer_state(state: dict[str, Any], *, config: Any, network: Any, n_train: int,
                       grad_layers: int) -> LoadedState:
    """See :meth:`Trainer.load_state_dict`: ``state`` checked against the training settings,
    the network, ``n_train`` rows and ``grad_layers`` layers with gradients (ValueError
    names what is wrong); nothing is changed."""
    if not isinstance(state, dict):
        raise ValueError(f"trainer state must be an object, got {type(state).__name__}")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"trainer state: bad version {version!r}")
    if version > STATE_VERSION:
        raise ValueError(f"trainer state version {version} is newer than this NN Studio reads "
                         f"({STATE_VERSION})")
    epoch, step = _whole(state, "epoch"), _whole(state, "step")
    elapsed = state.get("elapsed", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not math.isfinite(elapsed) \
            or elapsed < 0:
        raise ValueError(f"trainer state: elapsed must be a non-negative number, got {elapsed!r}")
    if state.get("optimizer") != config.optimizer:
        raise ValueError(f"trainer state holds {state.get('optimizer')!r} optimizer state but the "
                         f"training settings use {config.optimizer!r}")
    arrays = state.get("arrays")
    if not isinstance(arrays, dict):
        raise ValueError("trainer state: 'arrays' must map names to arrays")
    optimizer = config.make_optimizer()
    optimizer.load_state_dict(_optimizer_arrays(network, config.optimizer, optimizer.SLOTS, arrays))
    rng = _generator(state.get("rng"))
    progress = None
    if state.get("progress") is not None:
        if not isinstance(state["progress"], dict) or "progress/order" not in arrays:
            raise ValueError("trainer state: an epoch in progress needs its sums and 'progress/order'")
        progress = EpochProgress.from_json(state["progress"], arrays["progress/order"], n_train,
                                           network.output_dim, grad_layers)
    return LoadedState(epoch, step, float(elapsed), optimizer, rng, progress, arrays)


def _optimizer_arrays(network: Any, kind: str, slots: tuple[str, ...],
                      arrays: dict[str, Any]) -> dict[str, np.ndarray]:
    """The "optimizer/..." arrays, checked against the network's parameters and ``slots``."""
    params = {name: value for _, name, value, _ in network.named_parameters()}
    flat: dict[str, np.ndarray] = {}
    for key, value in arrays.items():
        if not key.startswith("optimizer/"):
            continue
        name = key[len("optimizer/"):]
        value = np.asarray(value)
        if name == "steps":
            if value.shape != () or not np.issubdtype(value.dtype, np.integer):
                raise ValueError(f"trainer state: {key} must be one integer")
            flat[name] = value
            continue
        param, _, slot = name.rpartition("/")
        if param not in params:
            raise ValueError(f"trainer state: {key} refers to no parameter of the network")
        if slot not in slots:
            raise ValueError(f"trainer state: {key}: this {kind} optimizer has no slot {slot!r}; "
                             f"expected one of {slots}")
        expected_shape, expected_dtype = params[param].shape, params[param].dtype
        if value.shape != expected_shape or value.dtype != expected_dtype:
            raise ValueError(f"trainer state: {key}: expected {expected_dtype} of shape {expected_shape}, "
                             f"got {value.dtype} of shape {value.shape}")
        flat[name] = value
    return flat


def _generator(state: Any) -> np.random.Generator:
    rng = np.random.default_rng(0)
    if not isinstance(state, dict) or state.get("bit_generator") != type(rng.bit_generator).__name__:
        raise ValueError("trainer state: 'rng' is not the state of a PCG64 generator")
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"trainer state: bad random generator state ({exc})") from None
    return rng


def _whole(state: dict[str, Any], key: str) -> int:
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"trainer state: {key} must be a non-negative integer, got {value!r}")
    return value


def resume_gaps(trainer: "Trainer", state: dict[str, Any]) -> list[str]:
    """What of a saved run's optimizer state is missing and would start afresh on resume.

    Empty when nothing is missing (or nothing was trained yet). A gap means the continued
    run does not produce the numbers it would have produced had it never stopped.
    """
    if not isinstance(state, dict) or not state.get("step"):
        return []
    arrays = state.get("arrays") or {}
    gaps = []
    config = trainer.config
    if config.optimizer == "adam" or config.momentum > 0:
        names = [name for _, name, _, _ in trainer.network.named_parameters()]
        missing = [name for name in names
                   if not any(key.startswith(f"optimizer/{name}/") for key in arrays)]
        if missing:
            slots = "moments" if config.optimizer == "adam" else "momentum"
            shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
            gaps.append(f"the optimizer's {slots} of {len(missing)} of {len(names)} parameter "
                        f"tensors ({shown}) are reset to zero")
    if config.optimizer == "adam" and "optimizer/steps" not in arrays:  # its bias correction
        gaps.append(f"the optimizer's step count is reset to 0 (it was {state.get('step')})")
    return gaps
