"""Reference solution: batch normalization in the cs231n layer-function convention."""
import numpy as np


def forward(x, gamma, beta, bn_param):
    """x: (N, D), gamma, beta: (D,) -> out: (N, D), cache.

    bn_param: "mode" ("train" | "test"), "eps", "momentum", "running_mean", "running_var" (D,).
    Train mode normalises with the batch statistics and moves the running ones
    (running = momentum * running + (1 - momentum) * batch); test mode uses the running ones.
    """
    mode, eps, momentum = bn_param["mode"], bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    mean, var = x.mean(axis=0), x.var(axis=0)  # bug: batch statistics in test mode too
    if mode == "train":
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode != "test":
        raise ValueError(f"invalid mode {mode!r}")
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, mode)


def backward(dout, cache):
    """dout: (N, D) -> dx: (N, D), dgamma: (D,), dbeta: (D,)."""
    x_hat, gamma, inv_std, mode = cache
    dgamma = np.sum(dout * x_hat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx_hat = dout * gamma
    n = dout.shape[0]
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0))
    return dx, dgamma, dbeta
