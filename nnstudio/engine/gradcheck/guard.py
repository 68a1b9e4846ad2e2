"""Calls into layers a user wrote, made fit for a gradient check.

Inside a check a custom layer (any class that is not one of the built-ins) is wrapped on
the checker's own float64 copy, so that:

- it sees plain ``(N, D)`` inputs, one call per perturbed copy, unless its class opts in
  to leading axes (``accepts_stacked_inputs``): a cs231n-style ``x.mean(0)`` on a stack of
  copies would average over the copies and hide a wrong backward;
- every forward call starts from the same random state — ``ctx.rng`` re-created from the
  check's seed and numpy's global generator seeded, then restored — so a mask drawn with
  ``np.random.rand`` or ``ctx.rng`` is the same in the analytic pass, f(θ+h) and f(θ−h);
  ``backward`` gets a *different* state, so a backward that draws its own mask is wrong
  here as it is in training;
- buffers it moves although ``ctx.update_stats`` is False are put back after each call
  (and the move is reported), so nothing drifts between evaluations;
- its exceptions become :class:`~nnstudio.engine.user_code.UserCodeError` naming its
  file and line, and an output of the wrong kind or shape is said to be one.
"""
from __future__ import annotations

import inspect

import numpy as np

from ..context import Context
from ..layers import BUILTIN_LAYERS, Layer
from ..user_code import UserCodeError, call_user

# Stream tags for np.random.SeedSequence([seed, tag, layer index]).
_FORWARD_RNG, _FORWARD_GLOBAL, _BACKWARD_GLOBAL = 3, 4, 5


def is_builtin(layer: Layer) -> bool:
    """Exact built-in types only: a subclass may compute something else."""
    return type(layer) in BUILTIN_LAYERS


def _global_seed(*entropy: int) -> int:
    return int(np.random.SeedSequence(list(entropy)).generate_state(1)[0])


def source_of(function) -> tuple[str | None, int | None]:
    """(file, first line) of a user's function, for messages about what it returned."""
    try:
        target = inspect.unwrap(getattr(function, "__func__", function))
        return inspect.getsourcefile(target), inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return None, None


class LayerGuard:
    """Wraps one custom layer of the check's copy (instance attributes shadow its methods).

    Parameters
    ----------
    layer : Layer          a layer of the checker's float64 copy (never the user's network)
    index : int            its position in the network
    seed : int             the check's seed
    shared_rng : bool      "redraw" dropout mode: the layer keeps the context's generator
                           (new draws every evaluation, the wrong way on purpose)
    """

    def __init__(self, layer: Layer, index: int, seed: int, shared_rng: bool) -> None:
        self.layer, self.index, self.seed, self.shared_rng = layer, index, seed, shared_rng
        self.label = f"layer {index} {call_user(layer.describe, context='in describe()')}"
        self._forward = layer.forward
        self._backward = layer.backward
        self._kink_pattern = layer.kink_pattern
        self._stacked_pattern: np.ndarray | None = None
        self._was_stacked = False
        self.backward_salt = 0           # the determinism probe changes it
        self.moved_buffers: set[str] = set()
        # the wrapping is the point: the checker's copy of the layer runs through this guard
        layer.forward = self.forward  # type: ignore[method-assign]
        layer.backward = self.backward  # type: ignore[method-assign]
        layer.kink_pattern = self.kink_pattern  # type: ignore[method-assign]
        layer.backward_params_only = self.backward  # type: ignore[method-assign, assignment]

    # -- forward ------------------------------------------------------------------
    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        """x: (..., N, D_in) -> (..., N, D_out); leading axes split into separate calls
        unless the class accepts them."""
        if x.ndim <= 2 or type(self.layer).accepts_stacked_inputs:
            self._was_stacked = False
            return self._one_forward(x, ctx)
        lead, plain = x.shape[:-2], x.reshape((-1,) + x.shape[-2:])
        outputs, patterns = [], []
        for copy in plain:
            outputs.append(self._one_forward(copy, ctx))
            pattern = self._own_pattern()
            patterns.append(None if pattern is None else np.array(pattern, dtype=bool))
        self._was_stacked = True
        present = [p for p in patterns if p is not None]
        self._stacked_pattern = (None if len(present) < len(patterns)
                                 else np.stack(present).reshape(lead + present[0].shape))
        return np.stack(outputs).reshape(lead + outputs[0].shape)

    def _one_forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        if not self.shared_rng:
            ctx = ctx.with_(rng=np.random.default_rng([self.seed, _FORWARD_RNG, self.index]))
        saved = {name: np.array(value, copy=True) for name, value in self.layer.buffers.items()}
        state = np.random.get_state()
        np.random.seed(_global_seed(self.seed, _FORWARD_GLOBAL, self.index))
        try:
            out = call_user(self._forward, x, ctx, context=f"in forward of {self.label}")
        finally:
            np.random.set_state(state)
            self._restore_buffers(saved)
        return self._checked_output(out, x)

    def _restore_buffers(self, saved: dict[str, np.ndarray]) -> None:
        for name, value in saved.items():
            current = self.layer.buffers.get(name)
            if current is None or current.shape != value.shape or not np.array_equal(current, value):
                self.moved_buffers.add(name)
                self.layer.buffers[name] = value

    def _checked_output(self, out, x: np.ndarray) -> np.ndarray:
        # source_of reads the file: only when there is something to report (it ran on every
        # forward call and was 80 % of a check of cs231n layer functions)
        if not isinstance(out, np.ndarray):
            raise UserCodeError(*source_of(self._forward), "TypeError",
                                f"forward of {self.label} returned {type(out).__name__}, "
                                "expected a numpy array")
        if not np.issubdtype(out.dtype, np.floating):
            raise UserCodeError(*source_of(self._forward), "TypeError",
                                f"forward of {self.label} returned an array of {out.dtype}, "
                                "expected floats")
        width = self.layer.output_dim
        expected = x.shape[:-1] + ((width,) if width is not None else out.shape[-1:])
        if out.shape != expected:
            raise UserCodeError(*source_of(self._forward), "ValueError",
                                f"forward of {self.label} returned shape {out.shape}, expected "
                                f"{expected} (input {x.shape})")
        return out.astype(np.float64, copy=False)

    def kink_pattern(self) -> np.ndarray | None:
        if self._was_stacked:
            return self._stacked_pattern
        return self._own_pattern()

    def _own_pattern(self) -> np.ndarray | None:
        pattern = call_user(self._kink_pattern, context=f"in kink_pattern of {self.label}")
        return None if pattern is None else np.asarray(pattern, dtype=bool)

    # -- backward -----------------------------------------------------------------
    def backward(self, dout: np.ndarray) -> np.ndarray:
        state = np.random.get_state()
        np.random.seed(_global_seed(self.seed, _BACKWARD_GLOBAL, self.index, self.backward_salt))
        try:
            return call_user(self._backward, dout, context=f"in backward of {self.label}")
        finally:
            np.random.set_state(state)


def guard_custom_layers(layers: list[Layer], seed: int, shared_rng: bool) -> dict[int, LayerGuard]:
    """Wrap every non-built-in layer of ``layers`` (the check's own copy) in place."""
    return {index: LayerGuard(layer, index, seed, shared_rng)
            for index, layer in enumerate(layers) if not is_builtin(layer)}
