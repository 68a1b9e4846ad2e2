"""A fully connected network in the shape of cs231n's ``FullyConnectedNet``.

    {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

``loss(X, y)`` returns ``(loss, grads)`` with ``grads`` keyed like ``params`` (W1, b1,
gamma1, beta1, ...) and the L2 term ``0.5·reg·ΣW²`` inside the loss. Beyond the course's
version it has ``set_mode("train" | "test")``, which ``loss(X, y)`` honours, so NN Studio
can check the predict phase too.
"""
import numpy as np

from ..layers import (affine_backward, affine_forward, batchnorm_backward, batchnorm_forward,
                      dropout_backward, dropout_forward, layernorm_backward, layernorm_forward,
                      relu_backward, relu_forward, softmax_loss)


class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0, weight_scale=1e-2,
                 dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = np.dtype(dtype)
        self.params = {}
        self.mode = None
        rng = np.random.RandomState(0 if seed is None else seed)
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(self.num_layers):
            self.params[f"W{i + 1}"] = weight_scale * rng.randn(dims[i], dims[i + 1])
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1])
            if normalization and i < self.num_layers - 1:
                self.params[f"gamma{i + 1}"] = np.ones(dims[i + 1])
                self.params[f"beta{i + 1}"] = np.zeros(dims[i + 1])
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed
        self.bn_params = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        if normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]
        for key, value in self.params.items():
            self.params[key] = value.astype(self.dtype)

    def set_mode(self, mode):
        """Force "train" or "test" for the next calls of loss (None: cs231n's rule)."""
        self.mode = mode

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = self.mode or ("test" if y is None else "train")
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode
        caches, out = [], X
        for i in range(1, self.num_layers):
            out, cache = affine_forward(out, self.params[f"W{i}"], self.params[f"b{i}"])
            caches.append(cache)
            if self.normalization == "batchnorm":
                out, cache = batchnorm_forward(out, self.params[f"gamma{i}"],
                                               self.params[f"beta{i}"], self.bn_params[i - 1])
                caches.append(cache)
            elif self.normalization == "layernorm":
                out, cache = layernorm_forward(out, self.params[f"gamma{i}"],
                                               self.params[f"beta{i}"], self.bn_params[i - 1])
                caches.append(cache)
            out, cache = relu_forward(out)
            caches.append(cache)
            if self.use_dropout:
                out, cache = dropout_forward(out, self.dropout_param)
                caches.append(cache)
        last = self.num_layers
        scores, cache = affine_forward(out, self.params[f"W{last}"], self.params[f"b{last}"])
        caches.append(cache)
        if y is None:
            return scores

        loss, dout = softmax_loss(scores, y)
        grads = {}
        for i in range(1, last + 1):
            loss += 0.5 * self.reg * np.sum(self.params[f"W{i}"] ** 2)
        dout, dw, db = affine_backward(dout, caches.pop())
        grads[f"W{last}"], grads[f"b{last}"] = dw + self.reg * self.params[f"W{last}"], db
        for i in range(last - 1, 0, -1):
            if self.use_dropout:
                dout = dropout_backward(dout, caches.pop())
            dout = relu_backward(dout, caches.pop())
            if self.normalization == "batchnorm":
                dout, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dout, caches.pop())
            elif self.normalization == "layernorm":
                dout, grads[f"gamma{i}"], grads[f"beta{i}"] = layernorm_backward(dout, caches.pop())
            dout, dw, db = affine_backward(dout, caches.pop())
            grads[f"W{i}"], grads[f"b{i}"] = dw + self.reg * self.params[f"W{i}"], db
        return loss, grads


def make_model(input_dim, num_classes, **kwargs):
    """The default factory of ``--model fc_net.py``: a small net with batchnorm and dropout."""
    settings = dict(hidden_dims=[16, 16], normalization="batchnorm", dropout_keep_ratio=0.8,
                    reg=0.1, dtype=np.float64, weight_scale=0.3, seed=0)
    settings.update(kwargs)
    return FullyConnectedNet(input_dim=input_dim, num_classes=num_classes, **settings)
