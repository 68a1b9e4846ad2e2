"""What the trainer checks and caches about its network and data before training."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.losses import loss_for_task
from ..engine.network import Network
from .divergence import layer_label


def check_fit(network: Network, dataset: Any) -> str:
    """The dataset's task, after checking that the network can be trained on it."""
    task: Any = getattr(dataset, "task", None)  # loss_for_task refuses all but the two tasks
    expected_loss = loss_for_task(task).type_name
    if network.input_dim is None:
        raise ValueError("the network is not built: build it for the dataset's features first")
    if network.input_dim != dataset.n_features:
        raise ValueError(f"the network takes {network.input_dim} inputs but the data has "
                         f"{dataset.n_features} features")
    if network.output_dim != dataset.n_outputs:
        raise ValueError(f"the network has {network.output_dim} outputs but the data needs "
                         f"{dataset.n_outputs} for its {task} target")
    if network.loss.type_name != expected_loss:
        raise ValueError(f"{task} needs the {expected_loss} loss, the network has {network.loss.type_name}")
    if len(dataset.x_train) == 0:
        raise ValueError("the training split is empty")
    return task


def layer_gradients(network: Network) -> dict[str, list[np.ndarray]]:
    """Layer label -> its gradient arrays; one contiguous view per layer when the network
    packs its parameters (a layer's tensors are adjacent there), so a norm is one call."""
    flat = network.flat_parameters()
    spans = {name: span for name, span, _ in flat[2]} if flat is not None else {}
    grads_by_layer = {}
    for index, layer in enumerate(network.layers):
        if not layer.params:
            continue
        names = [f"{index}.{name}" for name in layer.params]
        if flat is not None and all(name in spans for name in names):
            start, stop = spans[names[0]].start, spans[names[-1]].stop
            if stop - start == sum(value.size for value in layer.params.values()):
                grads_by_layer[layer_label(network, index)] = [flat[1][start:stop]]
                continue
        grads_by_layer[layer_label(network, index)] = list(layer.grads.values())
    return grads_by_layer


def split_arrays(dataset: Any, split: str, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    x = getattr(dataset, f"x_{split}", None)
    y = getattr(dataset, f"y_{split}", None)
    if x is None or y is None:
        return np.zeros((0, dataset.n_features), dtype=dtype), np.zeros(0, dtype=np.int64)
    return np.ascontiguousarray(x, dtype=dtype), np.ascontiguousarray(y)


def epoch_count(epochs: Any) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    return int(epochs)
