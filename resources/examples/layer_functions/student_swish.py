"""A parameter-free activation in the layer-function convention: swish x·σ(x).

With no PARAMS and no LAYER_PARAM, forward(x) -> (out, cache) and backward(dout, cache)
-> dx (a bare array, like cs231n's relu_backward).
"""
import numpy as np

NAME = "student_swish"


def forward(x):
    """x: (N, D) -> x·σ(x)."""
    sigma = 0.5 * (1.0 + np.tanh(0.5 * x))
    return x * sigma, (x, sigma)


def backward(dout, cache):
    x, sigma = cache
    return dout * (sigma + x * sigma * (1 - sigma))
