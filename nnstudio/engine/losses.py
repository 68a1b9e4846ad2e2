"""Losses: a value averaged over the batch, and the gradient of that value."""
from __future__ import annotations

from typing import ClassVar

import numpy as np


class Loss:
    """``forward(out, y)`` returns the mean loss; ``backward()`` returns d(loss)/d(out).

    ``out`` may carry leading axes (..., N, C): the result then has shape (...), one loss
    per copy, which the gradient checker uses to evaluate many perturbations at once.
    """

    type_name: ClassVar[str] = ""
    FAULTS: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.cache: dict = {}
        self.fault: str | None = None

    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in self.FAULTS:
            known = ", ".join(sorted(self.FAULTS))
            raise ValueError(f"{self.type_name} has no fault {fault!r}; known faults: {known}")
        self.fault = fault

    def forward(self, out: np.ndarray, y: np.ndarray):
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by the negative log-likelihood of integer class labels.

    out: (..., N, C) logits; y: (N,) integers in [0, C).
    """

    type_name = "softmax_cross_entropy"
    FAULTS = {
        "not_divided_by_batch": "the gradient (softmax − onehot) is not divided by the batch size",
        "missing_softmax": "the gradient uses the raw logits instead of the softmax probabilities",
        "wrong_sign": "the gradient is onehot − softmax instead of softmax − onehot",
    }

    def forward(self, out: np.ndarray, y: np.ndarray):
        labels = check_labels(y, out)
        shifted = out - out.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        rows = np.arange(labels.shape[0])
        log_likelihood = shifted[..., rows, labels] - np.log(total[..., 0])
        exp /= total
        self.cache.update(probs=exp, labels=labels, logits=out)
        return np.add.reduce(log_likelihood, axis=-1) * (-1.0 / labels.shape[0])

    def backward(self) -> np.ndarray:
        probs, labels = self.cache["probs"], self.cache["labels"]
        n = labels.shape[0]
        # probs is not needed after backward, so the gradient is built in its place
        grad = self.cache["logits"].copy() if self.fault == "missing_softmax" else probs
        grad[..., np.arange(n), labels] -= 1
        if self.fault == "wrong_sign":
            grad = -grad
        if self.fault != "not_divided_by_batch":
            grad *= 1.0 / n
        self.cache.clear()
        return grad


class MeanSquaredError(Loss):
    """Mean over all elements of (out − y)², as ``torch.nn.MSELoss()``.

    out: (..., N, D); y: (N, D) or (N,) when D == 1.
    """

    type_name = "mse"
    FAULTS = {
        "missing_factor_2": "the gradient of (out − y)² is taken as (out − y), without the 2",
        "not_divided_by_batch": "the gradient is not divided by the number of elements",
    }

    def forward(self, out: np.ndarray, y: np.ndarray):
        target = np.asarray(y)
        if target.ndim == 1:
            target = target[:, None]
        if target.shape != out.shape[-2:]:
            raise ValueError(
                f"MSE target must have shape {out.shape[-2:]} to match the output, got {np.shape(y)}"
            )
        diff = out - target.astype(out.dtype, copy=False)
        self.cache["diff"] = diff
        return np.mean(diff * diff, axis=(-2, -1))

    def backward(self) -> np.ndarray:
        diff = self.cache["diff"]
        count = diff.shape[-2] * diff.shape[-1]
        grad = diff if self.fault == "missing_factor_2" else 2 * diff
        if self.fault != "not_divided_by_batch":
            grad = grad / count
        return grad


def check_labels(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Validate integer class labels against logits (..., N, C); return them as intp."""
    labels = np.asarray(y)
    n, classes = out.shape[-2], out.shape[-1]
    if labels.shape != (n,):
        raise ValueError(f"class labels must have shape ({n},), got {labels.shape}")
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind != "f" or np.any(labels != np.round(labels)):
            raise ValueError(f"class labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.intp, copy=False)
    if n and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"class label {bad} is out of range: expected 0..{classes - 1}")
    return labels


LOSS_TYPES: dict[str, type[Loss]] = {
    SoftmaxCrossEntropy.type_name: SoftmaxCrossEntropy,
    MeanSquaredError.type_name: MeanSquaredError,
}


def loss_for_task(task: str) -> Loss:
    """The loss that fits a task: cross-entropy for classification, MSE for regression."""
    if task == "classification":
        return SoftmaxCrossEntropy()
    if task == "regression":
        return MeanSquaredError()
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
