"""SGD (momentum, Nesterov) and Adam, with state keyed by parameter name.

The update rules are those of ``torch.optim.SGD`` (dampening 0) and ``torch.optim.Adam``
(amsgrad off), so a run can be compared number for number with PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

class Optimizer:
    """Updates parameters in place from their gradients.

    ``step`` takes a :class:`Network` or any iterable of ``(layer, name, value, grad)``.
    State lives in ``state[name][slot]``; when the network keeps its parameters packed in
    one flat array, the slots are views into flat arrays of their own and the whole update
    is a handful of numpy calls instead of a handful per tensor.
    """

    type_name = ""
    SLOTS: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        self.lr = _positive("learning rate", lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0
        self._flat_slots: dict[str, np.ndarray] | None = None
        self._flat_names: list[str] = []

    def step(self, params: Any) -> None:
        self.steps += 1
        flat_getter = getattr(params, "flat_parameters", None)
        flat = flat_getter() if flat_getter is not None else None
        if flat is not None:
            values, grads, spans = flat
            self._update(self._packed_slots(values, spans), values, grads)
            return
        if flat_getter is not None:
            params = params.named_parameters()
        for _, name, value, grad in params:
            self._update(self._slots(name, value), value, grad)

    def _slots(self, name: str, value: np.ndarray) -> dict[str, np.ndarray]:
        slots = self.state.get(name)
        if slots is None:
            slots = self.state[name] = {slot: np.zeros_like(value) for slot in self.SLOTS}
        return slots

    def _packed_slots(self, values: np.ndarray, spans: list) -> dict[str, np.ndarray]:
        names = [name for name, _, _ in spans]
        if self._flat_slots is not None and self._flat_names == names:
            return self._flat_slots
        flat = {slot: np.zeros_like(values) for slot in self.SLOTS}
        for name, span, shape in spans:
            previous = self.state.get(name, {})
            for slot, array in flat.items():
                if slot in previous:  # state loaded or built per tensor carries over
                    array[span] = np.asarray(previous[slot], dtype=values.dtype).ravel()
            self.state[name] = {slot: array[span].reshape(shape) for slot, array in flat.items()}
        self._flat_slots, self._flat_names = flat, names
        return flat

    def _update(self, slots: dict[str, np.ndarray], value: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat copies "param_name/slot" -> array, plus the step count."""
        flat = {f"{name}/{slot}": array.copy()
                for name, slots in self.state.items() for slot, array in slots.items()}
        flat["steps"] = np.array(self.steps, dtype=np.int64)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        state: dict[str, dict[str, np.ndarray]] = {}
        for key, array in flat.items():
            if key == "steps":
                continue
            name, sep, slot = key.rpartition("/")
            if not sep or slot not in self.SLOTS:
                raise ValueError(f"optimizer state key {key!r} is not 'param/slot' with slot in {self.SLOTS}")
            state.setdefault(name, {})[slot] = np.array(array)
        self.state = state
        self.steps = int(flat.get("steps", 0))
        self._flat_slots, self._flat_names = None, []


class SGD(Optimizer):
    """v ← μ·v + g;  θ ← θ − lr·(g + μ·v if Nesterov else v).  μ = 0 is plain SGD.

    v starts at 0, so the first step gives v = g, as torch's buffer initialisation does.
    """

    type_name = "sgd"

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(lr)
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.SLOTS = ("velocity",) if self.momentum else ()

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, slots: dict[str, np.ndarray], value: np.ndarray, grad: np.ndarray) -> None:
        if not self.momentum:
            value -= self.lr * grad
            return
        velocity = slots["velocity"]
        velocity *= self.momentum
        velocity += grad
        if self.nesterov:
            value -= self.lr * (grad + self.momentum * velocity)
        else:
            value -= self.lr * velocity


class Adam(Optimizer):
    """Adam with bias correction: θ ← θ − lr·m̂ / (√v̂ + eps); t is the optimizer's step count."""

    type_name = "adam"
    SLOTS = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = _positive("eps", eps)

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, slots: dict[str, np.ndarray], value: np.ndarray, grad: np.ndarray) -> None:
        m, v, t = slots["m"], slots["v"], self.steps
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * (grad * grad)
        denom = np.sqrt(v)
        denom *= 1.0 / np.sqrt(1 - self.beta2 ** t)
        denom += self.eps
        value -= (self.lr / (1 - self.beta1 ** t)) * (m / denom)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


def make_optimizer(name: str, **settings: Any) -> Optimizer:
    """Create an optimizer by name ("sgd" or "adam") with its settings."""
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return cls(**settings)


def _positive(label: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{label} must be a positive number, got {value!r}")
    return value
