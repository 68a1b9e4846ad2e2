"""Batch normalization over the features of a 2-D input, with PyTorch's conventions."""
from __future__ import annotations

import numpy as np

from ..context import Context
from .base import Layer

STATS_CHOICES = ("auto", "batch", "running")


class BatchNorm(Layer):
    """Normalise each feature, then scale by ``gamma`` and shift by ``beta``.

    Follows ``torch.nn.BatchNorm1d``: ``momentum`` weights the new batch
    (``running = (1 − momentum)·running + momentum·batch``) and the running variance is
    the unbiased batch variance, while normalisation uses the biased one.

    ``stats`` overrides the context for this layer: "batch" or "running" statistics, or
    "auto" to follow the network-wide choice.
    """

    type_name = "batchnorm"
    description = "Batch normalisation (PyTorch convention: momentum weights the new batch)"
    FAULTS = {
        "no_mean_path": "dx drops the −mean(dx̂) term: the mean's dependence on x is ignored",
        "no_variance_path": "dx drops the −x̂·mean(dx̂·x̂) term: the variance's dependence on x is ignored",
        "missing_1_over_n": "dx uses sums over the batch where means (1/N) belong",
        "gamma_grad_without_xhat": "dgamma sums dout instead of dout·x̂",
    }

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5, stats: str = "auto") -> None:
        super().__init__()
        momentum, eps = float(momentum), float(eps)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1], got {momentum!r}")
        if not eps > 0 or not np.isfinite(eps):
            raise ValueError(f"BatchNorm eps must be a positive number, got {eps!r}")
        if stats not in STATS_CHOICES:
            raise ValueError(f"BatchNorm stats must be one of {STATS_CHOICES}, got {stats!r}")
        self.momentum, self.eps, self.stats = momentum, eps, stats

    def config(self) -> dict:
        return {"momentum": self.momentum, "eps": self.eps, "stats": self.stats}

    def describe(self) -> str:
        return "BatchNorm" if self.stats == "auto" else f"BatchNorm[{self.stats}]"

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.input_dim = self.output_dim = int(input_dim)
        self._init_param("gamma", np.ones(input_dim, dtype=dtype))
        self._init_param("beta", np.zeros(input_dim, dtype=dtype))
        self.reset_running_stats()
        return self.output_dim

    def reset_running_stats(self) -> None:
        dtype = self.params["gamma"].dtype
        self.buffers["running_mean"] = np.zeros(self.input_dim, dtype=dtype)
        self.buffers["running_var"] = np.ones(self.input_dim, dtype=dtype)
        self.buffers["num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def uses_batch_stats(self, ctx: Context) -> bool:
        """Which statistics a forward under ``ctx`` uses: layer override, then ctx."""
        choice = self.stats if self.stats != "auto" else ctx.bn_stats
        if choice == "auto":
            return ctx.training
        return choice == "batch"

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        self._require_built()
        self._check_input(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        if self.uses_batch_stats(ctx):
            n = x.shape[-2]
            if n < 2:
                raise ValueError(
                    f"BatchNorm with batch statistics needs at least 2 samples per batch, got {n}"
                )
            mean = x.mean(axis=-2, keepdims=True)
            centered = x - mean
            var = np.mean(centered * centered, axis=-2, keepdims=True)
            if ctx.update_stats and x.ndim == 2:
                self._update_running(mean[0], var[0], n)
        else:
            centered = x - self.buffers["running_mean"]
            var = self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = centered * inv_std
        self.cache.update(xhat=xhat, inv_std=inv_std, batch=self.uses_batch_stats(ctx))
        return xhat * gamma + beta

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        m = self.momentum
        rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
        rm *= 1 - m
        rm += m * mean
        rv *= 1 - m
        rv += (m * n / (n - 1)) * var
        self.buffers["num_batches_tracked"] += 1

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, inv_std = self.cache["xhat"], self.cache["inv_std"]
        gamma = self.params["gamma"]
        if self.fault == "gamma_grad_without_xhat":
            self.grads["gamma"] += dout.sum(axis=0)
        else:
            self.grads["gamma"] += np.sum(dout * xhat, axis=0)
        self.grads["beta"] += dout.sum(axis=0)
        dxhat = dout * gamma
        if not self.cache["batch"]:
            return dxhat * inv_std
        reduce = np.sum if self.fault == "missing_1_over_n" else np.mean
        dx = dxhat
        if self.fault != "no_mean_path":
            dx = dx - reduce(dxhat, axis=0)
        if self.fault != "no_variance_path":
            dx = dx - xhat * reduce(dxhat * xhat, axis=0)
        return dx * inv_std

    def set_population_stats(self, mean: np.ndarray, var: np.ndarray) -> None:
        """Set running statistics to a population's mean and unbiased variance."""
        dtype = self.buffers["running_mean"].dtype
        self.buffers["running_mean"][...] = np.asarray(mean, dtype=dtype)
        self.buffers["running_var"][...] = np.asarray(var, dtype=dtype)
