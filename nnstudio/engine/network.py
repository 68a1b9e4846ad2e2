"""A network: an ordered list of layers plus a loss."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from .context import Context
from .layers import BatchNorm, Layer, layer_from_config
from .losses import LOSS_TYPES, Loss
from .regularization import NO_REGULARIZATION, Regularization

DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass(frozen=True)
class LossValue:
    """The objective split into its parts: ``total = data + penalty``."""

    total: float
    data: float
    penalty: float


class NonFiniteError(ArithmeticError):
    """A forward pass or gradient produced NaN or infinity; names where it first happened."""

    def __init__(self, message: str, layer_index: int | None = None) -> None:
        super().__init__(message)
        self.layer_index = layer_index


class Network:
    """Layers applied in order, then a loss.

    Parameters
    ----------
    layers : list of Layer (built or not)
    loss : Loss
    input_dim : int, optional
        If given, the layers are built at once from ``seed``.
    seed : int or numpy.random.Generator
        Source of the initial weights.
    dtype : float32 (training) or float64 (checking).
    """

    def __init__(self, layers: list[Layer], loss: Loss, input_dim: int | None = None,
                 seed: int | np.random.Generator = 0, dtype: Any = np.float32) -> None:
        self.layers = list(layers)
        self.loss = loss
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.input_dim: int | None = None
        if input_dim is not None:
            self.build(input_dim, seed)

    # -- construction -------------------------------------------------------------
    def build(self, input_dim: int, seed: int | np.random.Generator = 0) -> None:
        """(Re)create every layer's parameters for inputs of width ``input_dim``."""
        if isinstance(input_dim, bool) or int(input_dim) != input_dim or input_dim < 1:
            raise ValueError(f"input_dim must be a positive integer, got {input_dim!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        width = int(input_dim)
        for layer in self.layers:
            width = layer.build(width, rng, self.dtype)
        self.input_dim = int(input_dim)
        self._pack_parameters()

    def _pack_parameters(self) -> None:
        """Move every parameter (and gradient) into one flat array, leaving views in the layers.

        Optimizers and ``zero_grad`` then touch one array instead of one per tensor, which
        is most of a small network's step time.
        """
        shapes = [(index, layer, name, value.shape, value.size)
                  for index, layer in enumerate(self.layers) for name, value in layer.params.items()]
        total = sum(size for *_, size in shapes)
        values, grads = np.empty(total, self.dtype), np.zeros(total, self.dtype)
        spans, views, offset = [], [], 0
        for index, layer, name, shape, size in shapes:
            span = slice(offset, offset + size)
            values[span] = layer.params[name].ravel()
            grads[span] = layer.grads[name].ravel()
            layer.params[name] = values[span].reshape(shape)
            layer.grads[name] = grads[span].reshape(shape)
            spans.append((f"{index}.{name}", span, shape))
            views.append((layer.params, layer.grads, name, layer.params[name], layer.grads[name]))
            offset += size
        self._flat = (values, grads, spans)
        self._flat_views = views

    def flat_parameters(self) -> tuple[np.ndarray, np.ndarray, list] | None:
        """(values, grads, [(name, slice, shape)]) if every parameter still lives in the
        packed arrays, else None (someone replaced an array; callers fall back per tensor)."""
        flat = getattr(self, "_flat", None)
        if flat is None:
            return None
        views = self._flat_views
        if views and views[0][3].base is not flat[0]:  # e.g. copy.deepcopy made separate arrays
            return None
        # identity checks only: this runs twice per training step
        for params, grads, name, value, grad in views:
            if params.get(name) is not value or grads.get(name) is not grad:
                return None
        return flat

    @property
    def output_dim(self) -> int:
        # None only before build(); every reader holds a built network
        dim = self.layers[-1].output_dim if self.layers else self.input_dim
        return dim  # type: ignore[return-value]

    def output_dims(self) -> list[int]:
        return [layer.output_dim for layer in self.layers]  # type: ignore[misc]  # built, as above

    def num_parameters(self) -> int:
        return sum(layer.num_parameters() for layer in self.layers)

    def copy(self, dtype: Any = None) -> "Network":
        """An independent deep copy, optionally cast to another float dtype."""
        clone = copy.deepcopy(self)
        if dtype is not None and np.dtype(dtype) != clone.dtype:
            clone.dtype = np.dtype(dtype)
            for layer in clone.layers:
                layer.astype(clone.dtype)
        for layer in clone.layers:
            layer.cache.clear()
        clone.loss.cache.clear()
        if clone.input_dim is not None:
            clone._pack_parameters()  # deepcopy turned the views into separate arrays
        return clone

    # -- computation --------------------------------------------------------------
    def forward(self, x: np.ndarray, ctx: Context, start: int = 0,
                check_finite: bool = False) -> np.ndarray:
        """x: (..., N, input_dim) -> (..., N, output_dim).

        ``start`` skips the first layers, for callers that feed a cached activation of
        layer ``start − 1``. With ``check_finite`` a non-finite output raises
        :class:`NonFiniteError` naming the first layer that produced it.
        """
        if start == 0:
            x = self._as_input(x)
        for index in range(start, len(self.layers)):
            x = self.layers[index].forward(x, ctx)
            if check_finite and not np.all(np.isfinite(x)):
                layer = self.layers[index]
                raise NonFiniteError(
                    f"layer {index} ({layer.describe()}) produced NaN or infinity", index
                )
        return x

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Back-propagate d(loss)/d(output) through every layer; return d(loss)/d(input).

        With ``input_grad=False`` the first layer skips dx (a whole matmul for a wide
        input) and None is returned.
        """
        layers = self.layers if input_grad else self.layers[1:]
        for layer in reversed(layers):
            dout = layer.backward(dout)
        if not input_grad and self.layers:
            self.layers[0].backward_params_only(dout)
            return None
        return dout

    def zero_grad(self) -> None:
        flat = self.flat_parameters()
        if flat is not None:
            flat[1].fill(0)
            return
        for layer in self.layers:
            layer.zero_grad()

    def evaluate(self, x: np.ndarray, y: np.ndarray, ctx: Context,
                 regularization: Regularization = NO_REGULARIZATION) -> LossValue:
        """The objective on (x, y) without computing gradients."""
        data = float(self.loss.forward(self.forward(x, ctx), y))
        penalty = regularization.penalty(self.regularized_weights()) if regularization.active else 0.0
        return LossValue(data + penalty, data, penalty)

    def compute_gradients(self, x: np.ndarray, y: np.ndarray, ctx: Context,
                          regularization: Regularization = NO_REGULARIZATION) -> LossValue:
        """Zero the gradients, then forward, loss and backward; grads hold d(total)/dθ."""
        self.zero_grad()
        data = float(self.loss.forward(self.forward(x, ctx), y))
        self.backward(self.loss.backward(), input_grad=False)
        penalty = self.add_penalty_gradients(regularization)
        return LossValue(data + penalty, data, penalty)

    def add_penalty_gradients(self, regularization: Regularization) -> float:
        """Add d(penalty)/dθ to the gradients; return the penalty at the current weights."""
        if not regularization.active:
            return 0.0
        for layer in self.layers:
            for name in layer.regularized:
                layer.grads[name] += regularization.gradient(layer.params[name])
        return regularization.penalty(self.regularized_weights())

    def predict(self, x: np.ndarray, ctx: Context | None = None,
                batch_size: int = 4096) -> np.ndarray:
        """Network outputs (logits or regression values) in inference mode, in chunks."""
        ctx = ctx or Context.inference()
        x = self._as_input(x)
        if x.shape[0] <= batch_size:
            return self.forward(x, ctx)
        parts = [self.forward(x[i:i + batch_size], ctx) for i in range(0, x.shape[0], batch_size)]
        return np.concatenate(parts, axis=0)

    def predict_classes(self, x: np.ndarray, ctx: Context | None = None) -> np.ndarray:
        return np.argmax(self.predict(x, ctx), axis=-1)

    def _as_input(self, x: np.ndarray) -> np.ndarray:
        if self.input_dim is None:
            raise ValueError("the network is not built yet: call build(input_dim)")
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.input_dim:
            raise ValueError(f"expected input of shape (N, {self.input_dim}), got {x.shape}")
        return x.astype(self.dtype, copy=False)

    # -- parameters and state -----------------------------------------------------
    def named_parameters(self) -> Iterator[tuple[Layer, str, np.ndarray, np.ndarray]]:
        """(layer, full name "index.param", value, grad) for every learned tensor."""
        for index, layer in enumerate(self.layers):
            for name, value in layer.params.items():
                yield layer, f"{index}.{name}", value, layer.grads[name]

    def named_buffers(self) -> Iterator[tuple[Layer, str, np.ndarray]]:
        for index, layer in enumerate(self.layers):
            for name, value in layer.buffers.items():
                yield layer, f"{index}.{name}", value

    def regularized_weights(self) -> Iterator[np.ndarray]:
        for layer in self.layers:
            for name in layer.regularized:
                yield layer.params[name]

    def batchnorm_layers(self) -> list[tuple[int, BatchNorm]]:
        return [(i, layer) for i, layer in enumerate(self.layers) if isinstance(layer, BatchNorm)]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed "index.name"."""
        state = {name: value.copy() for _, name, value, _ in self.named_parameters()}
        state.update({name: value.copy() for _, name, value in self.named_buffers()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values in after checking that names, shapes and dtypes all match."""
        targets = {name: value for _, name, value, _ in self.named_parameters()}
        targets.update({name: value for _, name, value in self.named_buffers()})
        missing = sorted(set(targets) - set(state))
        unexpected = sorted(set(state) - set(targets))
        if missing or unexpected:
            raise ValueError(f"state does not fit the network: missing {missing}, unexpected {unexpected}")
        for name, target in targets.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"{name}: expected shape {target.shape}, got {value.shape}")
            if value.dtype != target.dtype:
                raise ValueError(f"{name}: expected dtype {target.dtype}, got {value.dtype}")
        for name, target in targets.items():
            target[...] = state[name]

    def reset_running_statistics(self) -> None:
        for _, layer in self.batchnorm_layers():
            layer.reset_running_stats()

    def recompute_population_statistics(self, x: np.ndarray) -> dict[int, tuple[float, float]]:
        """Set each BatchNorm's running mean/var to the population statistics of its input
        (and those of any layer keeping ``running_mean`` / ``running_var`` buffers of its
        input's width, as a user's own normalization layer may).

        The inference procedure of Ioffe & Szegedy (2015): layers before each BatchNorm run
        in inference mode with their own statistics already recomputed; the variance is
        the unbiased one, as in training. x: (N, input_dim), N ≥ 2.

        Returns ``{layer index: (largest |change| of the running mean, of the running
        variance)}``, for telling the user what moved.
        """
        x = self._as_input(x)
        if x.shape[0] < 2:
            raise ValueError(f"population statistics need at least 2 samples, got {x.shape[0]}")
        ctx = Context.inference()
        moved = {}
        for index, layer in enumerate(self.layers):
            buffers = layer.buffers
            if "running_mean" in buffers and "running_var" in buffers \
                    and buffers["running_mean"].shape == x.shape[-1:]:
                old_mean = buffers["running_mean"].astype(np.float64)
                old_var = buffers["running_var"].astype(np.float64)
                mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
                if isinstance(layer, BatchNorm):
                    layer.set_population_stats(mean, var)
                else:
                    buffers["running_mean"][...] = mean
                    buffers["running_var"][...] = var
                moved[index] = (float(np.max(np.abs(buffers["running_mean"] - old_mean))),
                                float(np.max(np.abs(buffers["running_var"] - old_var))))
            x = layer.forward(x, ctx)
        for layer in self.layers:
            layer.cache.clear()
        return moved

    # -- description --------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Architecture as plain data: input width, layers with settings, loss, dtype."""
        return {
            "input_dim": self.input_dim,
            "layers": [{"type": layer.type_name, "config": layer.config()} for layer in self.layers],
            "loss": self.loss.type_name,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], seed: int = 0) -> "Network":
        """Rebuild an architecture from :meth:`config` (weights freshly initialised)."""
        try:
            layer_entries, loss_name = config["layers"], config["loss"]
            input_dim, dtype_name = config["input_dim"], config.get("dtype", "float32")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"network config is missing {exc}") from None
        if loss_name not in LOSS_TYPES:
            raise ValueError(f"unknown loss {loss_name!r}; known losses: {sorted(LOSS_TYPES)}")
        if dtype_name not in DTYPES:
            raise ValueError(f"unknown dtype {dtype_name!r}; expected one of {sorted(DTYPES)}")
        layers = [layer_from_config(entry.get("type"), entry.get("config")) for entry in layer_entries]
        return cls(layers, LOSS_TYPES[loss_name](), input_dim, seed=seed, dtype=DTYPES[dtype_name])
