"""The layer protocol every built-in and custom layer follows."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..context import Context


class Layer:
    """One step of a network: a forward/backward pair with explicit state.

    Subclasses set ``type_name`` (the name used in specs, project files and the palette),
    a one-line ``description``, if they can be broken on purpose, ``FAULTS``
    (fault name -> one-line explanation), and for settings that take one of a fixed list of
    values, ``CHOICES`` (setting -> the values). Constructor keyword arguments are the layer's
    settings and must round-trip through :meth:`config`.

    State
    -----
    params : dict[str, ndarray]   learned arrays, created by :meth:`build`
    grads : dict[str, ndarray]    same names and shapes; ``backward`` accumulates into them
    buffers : dict[str, ndarray]  state that is not learned (e.g. running statistics)
    cache : dict[str, Any]        what the last forward kept for backward
    fault : str or None           an injected backward mistake from ``FAULTS``
    """

    type_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    FAULTS: ClassVar[dict[str, str]] = {}
    #: settings whose value is one of a fixed list (the property editor offers the list)
    CHOICES: ClassVar[dict[str, tuple]] = {}
    #: names of params that L1/L2 regularization applies to (weights, never biases)
    regularized: ClassVar[tuple[str, ...]] = ()
    #: whether ``forward`` handles leading axes ``(..., N, D)`` of independent copies (the
    #: checker's fast path stacks perturbed copies). Custom layers get plain ``(N, D)``
    #: inputs, one call per copy, unless they opt in: a cs231n-style ``x.mean(0)`` would
    #: silently average over the copies.
    accepts_stacked_inputs: ClassVar[bool] = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.cache: dict[str, Any] = {}
        self.fault: str | None = None
        self.input_dim: int | None = None
        self.output_dim: int | None = None

    # -- construction -------------------------------------------------------------
    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        """Create parameters for inputs of width ``input_dim``; return the output width."""
        self.input_dim = self.output_dim = int(input_dim)
        return self.output_dim

    def config(self) -> dict[str, Any]:
        """The constructor keyword arguments that recreate this layer."""
        return {}

    def describe(self) -> str:
        """A short label for tables and the layer stack, e.g. ``Dense(16)``."""
        return type(self).__name__

    # -- computation --------------------------------------------------------------
    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        """x: (..., N, D_in) -> (..., N, D_out). Leading axes are independent copies."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, D_out) -> dx: (N, D_in); adds parameter gradients into ``grads``."""
        raise NotImplementedError

    def backward_params_only(self, dout: np.ndarray) -> None:
        """Like :meth:`backward` when nobody needs dx (the first layer); may skip its cost."""
        self.backward(dout)

    def kink_pattern(self) -> np.ndarray | None:
        """On/off pattern of a piecewise-linear nonlinearity in the last forward, if any.

        The gradient checker compares it between θ+h and θ−h to tell a kink from a bug.
        """
        return None

    # -- state --------------------------------------------------------------------
    def zero_grad(self) -> None:
        for grad in self.grads.values():
            grad.fill(0)

    def num_parameters(self) -> int:
        return int(sum(value.size for value in self.params.values()))

    def astype(self, dtype: np.dtype) -> None:
        """Cast learned parameters, their gradients and float buffers to ``dtype`` in place."""
        for store in (self.params, self.grads):
            for name, value in store.items():
                store[name] = value.astype(dtype)
        for name, value in self.buffers.items():
            if np.issubdtype(value.dtype, np.floating):
                self.buffers[name] = value.astype(dtype)
        self.cache.clear()

    def set_fault(self, fault: str | None) -> None:
        """Switch on one of ``FAULTS`` (or ``None`` to restore the correct backward)."""
        if fault is not None and fault not in self.FAULTS:
            known = ", ".join(sorted(self.FAULTS)) or "none"
            raise ValueError(
                f"{self.type_name} has no fault {fault!r}; known faults: {known}"
            )
        self.fault = fault

    def _init_param(self, name: str, value: np.ndarray) -> None:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def _require_built(self) -> None:
        if self.input_dim is None:
            raise ValueError(f"{self.describe()} is used before build(input_dim, ...)")

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim < 2 or x.shape[-1] != self.input_dim:
            raise ValueError(
                f"{self.describe()} expects input of shape (N, {self.input_dim}), "
                f"got {x.shape}"
            )
