"""Inverted dropout in the layer-function convention: ``student_dropout:P`` (P = drop
probability). The mask comes from numpy's global generator, seeded from
``dropout_param["seed"]`` as cs231n does; NN Studio sets that seed so every evaluation of a
gradient check sees the same mask.
"""
import numpy as np

NAME = "student_dropout"
LAYER_PARAM = {"p": 0.5}


def forward(x, dropout_param):
    """x: (N, D) -> out: (N, D)."""
    p = dropout_param["p"]
    if dropout_param["mode"] != "train":
        return x, None
    np.random.seed(dropout_param["seed"])
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * mask, mask


def backward(dout, cache):
    """dout: (N, D) -> dx: (N, D) (a bare array: the layer has no parameters)."""
    mask = cache
    return dout if mask is None else dout * mask
