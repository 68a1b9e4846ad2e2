"""Batch normalization over the features of a 2-D input, with PyTorch's conventions."""
from __future__ import annotations

import numpy as np

from ..context import AUTO, BN_STATS_CHOICES, Context, require_bn_stats
from .base import Layer


class BatchNorm(Layer):
    """Normalise each feature, then scale by ``gamma`` and shift by ``beta``.

    Follows ``torch.nn.BatchNorm1d``: ``momentum`` weights the new batch
    (``running = (1 − momentum)·running + momentum·batch``) and the running variance is
    the unbiased batch variance, while normalisation uses the biased one.

    ``stats`` overrides the context for this layer: "batch" or "running" statistics, or
    "auto" to follow the network-wide choice.
    """

    type_name = "batchnorm"
    accepts_stacked_inputs = True
    description = "Batch normalisation (PyTorch convention: momentum weights the new batch)"
    FAULTS = {
        "no_mean_path": "dx drops the −mean(dx̂) term: the mean's dependence on x is ignored",
        "no_variance_path": "dx drops the −x̂·mean(dx̂·x̂) term: the variance's dependence on x is ignored",
        "missing_1_over_n": "dx uses sums over the batch where means (1/N) belong",
        "gamma_grad_without_xhat": "dgamma sums dout instead of dout·x̂",
    }
    CHOICES = {"stats": BN_STATS_CHOICES}

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5, stats: str = AUTO) -> None:
        super().__init__()
        momentum, eps = float(momentum), float(eps)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1], got {momentum!r}")
        if not eps > 0 or not np.isfinite(eps):
            raise ValueError(f"BatchNorm eps must be a positive number, got {eps!r}")
        require_bn_stats(stats, "BatchNorm stats")
        self.momentum, self.eps, self.stats = momentum, eps, stats

    def config(self) -> dict:
        return {"momentum": self.momentum, "eps": self.eps, "stats": self.stats}

    def describe(self) -> str:
        return "BatchNorm" if self.stats == AUTO else f"BatchNorm[{self.stats}]"

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        self.input_dim = self.output_dim = int(input_dim)
        self._init_param("gamma", np.ones(input_dim, dtype=dtype))
        self._init_param("beta", np.zeros(input_dim, dtype=dtype))
        self.reset_running_stats()
        return self.output_dim

    def reset_running_stats(self) -> None:
        dtype = self.params["gamma"].dtype
        self.buffers["running_mean"] = np.zeros_like(self.params["gamma"], dtype=dtype)
        self.buffers["running_var"] = np.ones_like(self.params["gamma"], dtype=dtype)
        self.buffers["num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def uses_batch_stats(self, ctx: Context) -> bool:
        """Which statistics a forward under ``ctx`` uses: layer override, then ctx."""
        return ctx.uses_batch_stats(self.stats)

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        self._require_built()
        self._check_input(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        batch = self.uses_batch_stats(ctx)
        if batch:
            n = x.shape[-2]
            if n < 2:
                raise ValueError(
                    f"BatchNorm with batch statistics needs at least 2 samples per batch, got {n}"
                )
            # add.reduce and a multiply: np.mean's overhead dominates at these sizes
            mean = np.add.reduce(x, axis=-2, keepdims=True) * (1.0 / n)
            centered = x - mean
            var = np.add.reduce(centered * centered, axis=-2, keepdims=True) * (1.0 / n)
            if ctx.update_stats and x.ndim == 2:
                self._update_running(mean[0], var[0], n)
        else:
            centered = x - self.buffers["running_mean"]
            var = self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = centered
        xhat *= inv_std
        self.cache.update(xhat=xhat, inv_std=inv_std, batch=batch)
        out = xhat * gamma
        out += beta
        return out

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        momentum = self.momentum
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        # PyTorch keeps the unbiased variance: n/(n−1) turns the biased batch variance into it
        running_var *= 1 - momentum
        running_var += (momentum * n / (n - 1)) * var
        self.buffers["num_batches_tracked"] += 1

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, inv_std = self.cache["xhat"], self.cache["inv_std"]
        gamma = self.params["gamma"]
        dbeta = np.add.reduce(dout, axis=0)
        dgamma = np.add.reduce(dout * xhat, axis=0)
        self.grads["gamma"] += dbeta if self.fault == "gamma_grad_without_xhat" else dgamma
        self.grads["beta"] += dbeta
        if not self.cache["batch"]:
            return dout * (gamma * inv_std)
        # With dx̂ = dout·γ:  dx = (γ/σ)·(dout − mean(dout) − x̂·mean(dout·x̂)); the two
        # batch means are exactly dbeta/N and dgamma/N, so they are reused, not recomputed.
        n = dout.shape[0]
        if self.fault == "missing_1_over_n":
            return (gamma * inv_std) * (dout - dbeta - xhat * dgamma)
        dx = dout * n
        if self.fault != "no_mean_path":
            dx -= dbeta
        if self.fault != "no_variance_path":
            dx -= xhat * dgamma
        dx *= gamma * inv_std * (1.0 / n)
        return dx

    def set_population_stats(self, mean: np.ndarray, var: np.ndarray) -> None:
        """Set running statistics to a population's mean and unbiased variance."""
        dtype = self.buffers["running_mean"].dtype
        self.buffers["running_mean"][...] = np.asarray(mean, dtype=dtype)
        self.buffers["running_var"][...] = np.asarray(var, dtype=dtype)
