"""Batch normalisation in the layer-function convention, with running statistics kept in
LAYER_PARAM as cs231n's ``bn_param`` (momentum weights the OLD statistics here, as in the
course: running = momentum·running + (1 − momentum)·batch).

    nnstudio gradcheck builtin:iris --custom-layer resources/examples/layer_functions/student_batchnorm.py \
        --layers dense:16,student_bn,relu
"""
import numpy as np

NAME = "student_bn"
PARAMS = {"gamma": (("D",), "ones"), "beta": (("D",), "zeros")}
LAYER_PARAM = {"eps": 1e-5, "momentum": 0.9}


def forward(x, gamma, beta, bn_param):
    """x: (N, D) -> out: (N, D); bn_param["mode"] is "train" or "test"."""
    eps, momentum = bn_param["eps"], bn_param["momentum"]
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1], dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(x.shape[1], dtype=x.dtype))
    if bn_param["mode"] == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return gamma * xhat + beta, (xhat, gamma, inv_std, bn_param["mode"])


def backward(dout, cache):
    """dout: (N, D) -> dx: (N, D), dgamma: (D,), dbeta: (D,)."""
    xhat, gamma, inv_std, mode = cache
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    dxhat = dout * gamma
    if mode == "test":
        return dxhat * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta
