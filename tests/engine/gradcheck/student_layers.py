"""Hand-written layers as students write them: plain (N, D) code, numpy's global generator,
and the classic mistakes. Registered under their own type names for the tests."""
import numpy as np

from nnstudio.engine import Layer, register_layer


class StudentBatchNorm(Layer):
    """cs231n-style BatchNorm: ``x.mean(0)`` — correct only on a plain (N, D) input."""

    type_name = "student_bn"
    MISTAKE = None  # "no_mean_path" | "dgamma_from_x" | "dgamma_row" | "eps_in_backward"

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def build(self, input_dim, rng, dtype):
        out = super().build(input_dim, rng, dtype)
        self._init_param("gamma", np.ones(input_dim, dtype=dtype))
        self._init_param("beta", np.zeros(input_dim, dtype=dtype))
        self.buffers["running_mean"] = np.zeros(input_dim, dtype=dtype)
        self.buffers["running_var"] = np.ones(input_dim, dtype=dtype)
        return out

    def forward(self, x, ctx):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if ctx.bn_stats == "batch" or (ctx.bn_stats == "auto" and ctx.training):
            mu = x.mean(0)
            var = x.var(0)
            if ctx.update_stats:
                self.buffers["running_mean"] = 0.9 * self.buffers["running_mean"] + 0.1 * mu
                self.buffers["running_var"] = 0.9 * self.buffers["running_var"] + 0.1 * var
            batch = True
        else:
            mu, var, batch = self.buffers["running_mean"], self.buffers["running_var"], False
        xhat = (x - mu) / np.sqrt(var + self.eps)
        self.cache.update(x=x, xhat=xhat, var=var, mu=mu, batch=batch)
        return gamma * xhat + beta

    def backward(self, dout):
        c = self.cache
        x, xhat, var, mu = c["x"], c["xhat"], c["var"], c["mu"]
        gamma, n = self.params["gamma"], x.shape[0]
        eps = 0.0 if self.MISTAKE == "eps_in_backward" else self.eps  # forgot eps
        inv_std = 1.0 / np.sqrt(var + eps)
        if self.MISTAKE == "dgamma_from_x":
            dgamma = (dout * x).sum(0)
        else:
            dgamma = (dout * (x - mu) * inv_std).sum(0)
        if self.MISTAKE == "dgamma_row":
            self.grads["gamma"] = dgamma[None, :]           # shape (1, D), assigned
        else:
            self.grads["gamma"] += dgamma
        self.grads["beta"] += dout.sum(0)
        dxhat = dout * gamma
        if not c["batch"]:
            return dxhat * inv_std
        if self.MISTAKE == "no_mean_path":
            return inv_std * (dxhat - xhat * (dxhat * xhat).mean(0))
        return inv_std * (dxhat - dxhat.mean(0) - ((x - mu) * inv_std) * (dxhat * (x - mu) * inv_std).mean(0))


class StudentDropout(Layer):
    """Inverted dropout with ``np.random.rand`` — what most hand-written code does."""

    type_name = "student_dropout"
    SOURCE = "global"   # "global" | "ctx"
    MISTAKE = None      # "new_mask_in_backward" | "unseeded"

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x, ctx):
        if not ctx.training:
            self.cache["mask"] = None
            return x
        if self.MISTAKE == "unseeded":
            draw = np.random.default_rng().random(x.shape)
        elif self.SOURCE == "ctx":
            draw = ctx.rng.random(x.shape)
        else:
            draw = np.random.rand(*x.shape)
        mask = (draw >= self.p) / (1 - self.p)
        self.cache["mask"] = mask
        return x * mask

    def backward(self, dout):
        mask = self.cache["mask"]
        if mask is None:
            return dout
        if self.MISTAKE == "new_mask_in_backward":
            mask = (np.random.rand(*dout.shape) >= self.p) / (1 - self.p)
        return dout * mask


class StudentCrash(Layer):
    """A backward with an indexing bug: raises IndexError on line 'CRASH'."""

    type_name = "student_crash"

    def forward(self, x, ctx):
        self.cache["x"] = x
        return x * 2.0

    def backward(self, dout):
        return dout[:, :, 0] * 2.0  # CRASH: too many indices


for cls in (StudentBatchNorm, StudentDropout, StudentCrash):
    register_layer(cls)


class StudentLastRowBug(Layer):
    """x·2 whose dx is wrong in the last row only (an off-by-one in a loop over rows)."""

    type_name = "student_last_row_bug"

    def forward(self, x, ctx):
        return x * 2.0

    def backward(self, dout):
        dx = dout * 2.0
        dx[-1] *= 1.5
        return dx


register_layer(StudentLastRowBug)
