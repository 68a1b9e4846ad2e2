"""Layer functions in the cs231n convention: ``X_forward(...) -> (out, cache)`` and
``X_backward(dout, cache) -> (dx, d<params>...)``. Correct implementations.

Loaded as it is by ``nnstudio ... --custom-layer resources/examples/cs231n/layers.py``,
which registers cs231n_affine:UNITS, cs231n_relu, cs231n_batchnorm, cs231n_layernorm and
cs231n_dropout:P. ``p`` is the probability of KEEPING a unit here (the course's later
convention).
"""
import numpy as np

from .layer_utils_helpers import row_sums  # a sibling in the package: relative imports work


def affine_forward(x, w, b):
    """x: (N, D), w: (D, M), b: (M,) -> out: (N, M)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """dout: (N, M) -> dx: (N, D), dw: (D, M), db: (M,)."""
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = row_sums(dout)
    return dx, dw, db


def relu_forward(x):
    """x: any shape -> max(0, x)."""
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    """x: (N, D); bn_param: mode ("train"/"test"), eps, momentum, running_mean/var."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mu) * inv_std
        out = gamma * xhat + beta
        cache = ("train", xhat, gamma, inv_std)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        inv_std = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std
        out = gamma * xhat + beta
        cache = ("test", xhat, gamma, inv_std)
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """dout: (N, D) -> dx: (N, D), dgamma: (D,), dbeta: (D,)."""
    mode, xhat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    if mode == "test":
        return dout * gamma * inv_std, dgamma, dbeta
    N = dout.shape[0]
    dxhat = dout * gamma
    dx = inv_std / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Normalise each row of x: (N, D) over its features."""
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def layernorm_backward(dout, cache):
    xhat, gamma, inv_std = cache
    D = dout.shape[1]
    dxhat = dout * gamma
    dx = inv_std / D * (D * dxhat - dxhat.sum(axis=1, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def dropout_forward(x, dropout_param):
    """Inverted dropout; dropout_param: p (keep probability), mode, optional seed."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def softmax_loss(x, y):
    """Softmax cross-entropy: x: (N, C) scores, y: (N,) labels -> (loss, dx)."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
