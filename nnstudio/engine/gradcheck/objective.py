"""The checked function L(θ): one fixed batch, one fixed context, both sides alike.

Everything that could make the analytic and the numeric side disagree for reasons other
than a wrong backward is pinned here, in one object: the float64 copy, the batch, the
single :class:`~nnstudio.engine.Context` (BatchNorm statistics mode, dropout on or off,
running statistics frozen), the dropout masks and the regularization.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..context import RUNNING, Context
from ..layers import BatchNorm, Dropout
from ..losses import SoftmaxCrossEntropy, check_labels
from ..network import Network, NonFiniteError
from .analytic import BackwardProblem, analytic_pass, determinism_probe, rounding_scale
from .config import CheckConfig
from .guard import guard_custom_layers
from .results import Problem
from .verdict import NEGLIGIBLE, noise_floor


@dataclass
class BasePass:
    """Caches of one forward pass at the unperturbed θ, shared by every perturbation.

    inputs[k] : (N, D_in_k)  what layer k received (inputs[0] is the batch)
    outputs[k] : (N, D_out_k)
    patterns[k] : bool (N, D_out_k) or None   kink pattern of layer k
    xhat[k] : (N, D) for BatchNorm layers     normalised input, for gamma perturbations
    data_loss : float                          loss without penalty
    penalty : float                            regularization part of the objective
    """

    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    patterns: list[np.ndarray | None]
    xhat: dict[int, np.ndarray]
    data_loss: float
    penalty: float


class Objective:
    """L(θ) = loss(network(x; θ, ctx), y) [+ penalty], on a float64 copy.

    Parameters
    ----------
    network : Network
        Left untouched: the objective works on ``network.copy(np.float64)``.
    x : (N, D) array
        The fixed batch.
    y : (N,) integer labels or (N, D_out) targets
    config : CheckConfig
    rng : numpy.random.Generator, optional
        Source of the dropout masks in "fixed" and "redraw" modes. A copy is used, so the
        caller's generator does not advance; without it ``config.seed`` seeds them.
    """

    def __init__(self, network: Network, x: np.ndarray, y: np.ndarray, config: CheckConfig,
                 rng: np.random.Generator | None = None) -> None:
        self.config = config
        self.network = network.copy(np.float64)
        self.x = self._validate_batch(x)
        self.y = np.asarray(y)
        self.regularization = config.objective_regularization
        self._row_shift: np.ndarray | None = None
        generator = copy.deepcopy(rng) if rng is not None else np.random.default_rng(config.seed)
        self.ctx = self._build_context(config, generator)
        #: custom layers of the copy, wrapped (plain inputs, replayed randomness, errors)
        self.guards = guard_custom_layers(self.network.layers, int(config.seed),
                                          shared_rng=config.dropout == "redraw")
        for layer in self.network.layers:
            if isinstance(layer, Dropout):
                layer.fixed_mask = None  # whatever the original carried, this check decides
        if config.dropout == "fixed":
            self._fix_dropout_masks(generator)
        #: what makes the check fail before elements are compared (or warnings)
        self.problems: list[Problem] = []
        self.gradients: dict[str, np.ndarray] = {}
        self.input_gradients: list[np.ndarray] | None = None
        try:
            analytic = analytic_pass(self.network, self.x, self.y, self.ctx, self.regularization)
            self.gradients, self.input_gradients = analytic.gradients, analytic.input_gradients
        except NonFiniteError as exc:
            raise ValueError(f"the objective is not finite at the current weights: {exc}") from None
        except BackwardProblem as exc:
            self.problems.append(exc.problem)
        self.base = self._base_pass()
        if self.input_gradients is not None:
            self.problems += determinism_probe(self.network, self.guards, self.base.inputs,
                                               self.base.outputs, self.ctx, int(config.seed))
        #: rounding-error scale S of one evaluation (see analytic.rounding_scale)
        self.rounding = self._rounding_scale()
        #: the verdict's noise floor: FLOOR_SAFETY·ε·S/h, or the configured atol
        self.atol = noise_floor(self.rounding, config.h, config.atol,
                                self.base.data_loss + self.base.penalty,
                                config.atol_scales_with_loss)
        #: |analytic| above this matters (NEGLIGIBLE times the largest gradient)
        self.significant = NEGLIGIBLE * self._largest_gradient()

    def boundary(self, index: int) -> np.ndarray:
        """The input of layer ``index`` at θ (the network output for index = num_layers)."""
        return self.base.inputs[index] if index < self.num_layers else self.base.outputs[-1]

    def _rounding_scale(self) -> float:
        if self.input_gradients is None:
            return abs(self.base.data_loss)
        boundaries = [self.boundary(k) for k in range(self.num_layers + 1)]
        params = [(value, self.gradients[name])
                  for _, name, value, _ in self.network.named_parameters()]
        return rounding_scale(self.base.data_loss, self.base.penalty, boundaries,
                              self.input_gradients, params, self.network.loss, self.y)

    def _largest_gradient(self) -> float:
        arrays = list(self.gradients.values()) + list(self.input_gradients or [])
        return max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)

    # -- construction -------------------------------------------------------------
    def _validate_batch(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"the check batch must be a 2-D array (N, features), got shape {x.shape}")
        if x.shape[0] < 1:
            raise ValueError("the check batch is empty")
        if self.network.input_dim is not None and x.shape[1] != self.network.input_dim:
            raise ValueError(
                f"the batch has {x.shape[1]} features, the network expects {self.network.input_dim}"
            )
        if not np.all(np.isfinite(x)):
            raise ValueError("the check batch contains NaN or infinity")
        checked = Context(bn_stats=self.config.bn_stats)
        needs_batch = [i for i, layer in self.network.batchnorm_layers()
                       if layer.uses_batch_stats(checked)]
        if needs_batch and x.shape[0] < 2:
            raise ValueError("BatchNorm with batch statistics needs a batch of at least 2 rows; "
                             f"use a larger batch or bn_stats={RUNNING!r}")
        return x

    def _build_context(self, config: CheckConfig, generator: np.random.Generator) -> Context:
        # One context for every pass, analytic and numeric: the BatchNorm mode is an explicit
        # choice (never "auto"), and update_stats is False so running statistics cannot move.
        if config.dropout == "off":
            return Context(training=False, update_stats=False, rng=None, bn_stats=config.bn_stats)
        # "fixed" replays masks drawn below and needs no generator afterwards: a layer that
        # still asks for one would be random per evaluation, and must fail loudly instead.
        rng = generator if config.dropout == "redraw" else None
        return Context(training=True, update_stats=False, rng=rng, bn_stats=config.bn_stats)

    def _fix_dropout_masks(self, generator: np.random.Generator) -> None:
        """Draw every dropout mask once (a forward with the generator), then replay it."""
        self.network.forward(self.x, self.ctx.with_(rng=generator))
        for layer in self.network.layers:
            if isinstance(layer, Dropout):
                keep = layer.cache.get("keep")
                layer.fixed_mask = None if keep is None else np.array(keep, dtype=bool)
        self._clear_caches()

    def _base_pass(self) -> BasePass:
        inputs, outputs, patterns, xhat = [], [], [], {}
        x = self.x
        for index, layer in enumerate(self.network.layers):
            inputs.append(x)
            x = layer.forward(x, self.ctx)
            if not np.all(np.isfinite(x)):
                raise ValueError(f"layer {index} ({layer.describe()}) produced NaN or infinity "
                                 "at the current weights; the objective cannot be checked")
            outputs.append(x)
            pattern = layer.kink_pattern()
            patterns.append(None if pattern is None else np.array(pattern, dtype=bool))
            if isinstance(layer, BatchNorm):
                xhat[index] = np.array(layer.cache["xhat"])
        data_loss = float(self.network.loss.forward(x, self.y))
        if isinstance(self.network.loss, SoftmaxCrossEntropy):
            self._labels = check_labels(self.y, x)
            self._rows = np.arange(x.shape[0])
            self._row_shift = x.max(axis=-1, keepdims=True)                  # (N, 1)
            self._flat_shift = np.repeat(self._row_shift[:, 0], x.shape[-1])     # (N·C,)
            self._flat_labels = self._rows * x.shape[-1] + self._labels          # (N,)
            self._ones = np.ones(x.shape[-1])
        if not np.isfinite(data_loss):
            raise ValueError("the loss is NaN or infinite at the current weights")
        penalty = self.penalty()
        self._clear_caches()
        return BasePass(inputs, outputs, patterns, xhat, data_loss, penalty)

    def _clear_caches(self) -> None:
        for layer in self.network.layers:
            layer.cache.clear()
        self.network.loss.cache.clear()

    # -- evaluation ---------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return len(self.network.layers)

    def penalty(self) -> float:
        if not self.regularization.active:
            return 0.0
        return self.regularization.penalty(self.network.regularized_weights())

    def forward_stack(self, stack: np.ndarray, start: int, network: Network | None = None
                      ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Run layers ``start..`` on many inputs at once.

        Parameters
        ----------
        stack : (P, N, D_in_start)
            P independent versions of layer ``start``'s input.
        start : int
            First layer to run; ``num_layers`` means ``stack`` already is the output.
        network : Network, optional
            A replica of ``self.network`` (same θ) with its own layer caches, for a
            second thread; default ``self.network``.

        Returns
        -------
        out : (P, N, D_out) network outputs
        patterns : {layer index: bool (P, N, D)} kink patterns of the layers that ran
            (views into layer caches: valid until the next forward)
        """
        network = self.network if network is None else network
        out = network.forward(stack, self.ctx, start=start) if start < self.num_layers else stack
        patterns = {}
        for index in range(start, self.num_layers):
            pattern = network.layers[index].kink_pattern()
            if pattern is not None:
                patterns[index] = pattern
        return out, patterns

    def stack_loss(self, out: np.ndarray, network: Network | None = None,
                   buffer: np.ndarray | None = None) -> np.ndarray:
        """Data loss per leading index of ``out`` (P, N, C) -> (P,).

        For the built-in cross-entropy this is the value its ``forward`` computes, about
        three times faster: the logits are shifted by the unperturbed row maxima (close to
        the perturbed ones, so exp cannot overflow; checked, with the loss's own forward
        as fallback), the class sum is a matrix-vector product (numpy reduces a short last
        axis slowly), and the exponentials may go into a caller's buffer (``out.size``
        float64 elements at least).
        """
        loss = (self.network if network is None else network).loss
        if type(loss) is SoftmaxCrossEntropy and self._row_shift is not None:
            # Flattened to (P, N·C) so every elementwise step runs over long contiguous rows.
            logits = out.reshape(out.shape[0], -1)
            exp = np.empty(logits.shape) if buffer is None else buffer[:out.size].reshape(logits.shape)
            np.subtract(logits, self._flat_shift, out=exp)
            np.exp(exp, out=exp)
            # Small stacked matrix-vector products: one large one would wake BLAS threads.
            total = exp.reshape(out.shape) @ self._ones                         # (P, N)
            if np.all(np.isfinite(total)) and np.all(total > 0):
                picked = logits[:, self._flat_labels] - self._row_shift[:, 0]
                return (np.log(total) - picked).mean(axis=1)
        return np.asarray(loss.forward(out, self.y), dtype=np.float64)
