"""Reference solution: a two-layer network in cs231n's FullyConnectedNet protocol.

``make_model(input_dim, num_classes, hidden_dim=..., reg=...)`` returns an object with
``params`` (name -> array) and ``loss(X, y) -> (loss, grads)``, grads keyed like params.
"""
import numpy as np


class TwoLayerNet:
    def __init__(self, input_dim, num_classes, hidden_dim=10, reg=0.1, weight_scale=1e-1, seed=0):
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y):
        """X: (N, D), y: (N,) int -> (softmax loss + L2, grads)."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        hidden = np.maximum(0.0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(probs[np.arange(n), y]).mean()
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {"W2": hidden.T @ dscores + self.reg * W2, "b2": dscores.sum(axis=0)}
        dhidden = (dscores @ W2.T) * (hidden > 0)
        grads["W1"] = X.T @ dhidden + self.reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        return loss, grads


def make_model(input_dim, num_classes, **kwargs):
    return TwoLayerNet(input_dim, num_classes, **kwargs)
