"""The same network written with torch.nn.functional, sharing our weights and dropout masks."""
import numpy as np

from nnstudio.engine import BatchNorm, Dense, Dropout, LeakyReLU, ReLU, Sigmoid, Tanh


def torch_parameters(torch, network):
    """Leaf tensors (float64, requiring grad) holding copies of every parameter."""
    return {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
            for _, name, value, _ in network.named_parameters()}


def torch_forward(torch, network, params, x, batch_stats):
    """Forward through torch ops; ``batch_stats[i]`` says which statistics BatchNorm i used.

    Dropout layers reuse the keep-mask our forward just drew (``layer.cache["keep"]``).
    """
    F = torch.nn.functional
    out = torch.tensor(x, dtype=torch.float64)
    for index, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            out = out @ params[f"{index}.W"] + params[f"{index}.b"]
        elif isinstance(layer, ReLU):
            out = F.relu(out)
        elif isinstance(layer, LeakyReLU):
            out = F.leaky_relu(out, layer.slope)
        elif isinstance(layer, Tanh):
            out = torch.tanh(out)
        elif isinstance(layer, Sigmoid):
            out = torch.sigmoid(out)
        elif isinstance(layer, BatchNorm):
            mean = torch.tensor(layer.buffers["running_mean"], dtype=torch.float64)
            var = torch.tensor(layer.buffers["running_var"], dtype=torch.float64)
            out = F.batch_norm(out, mean, var, params[f"{index}.gamma"], params[f"{index}.beta"],
                               training=batch_stats[index], momentum=0.0, eps=layer.eps)
        elif isinstance(layer, Dropout):
            keep = layer.cache.get("keep")
            if keep is not None:
                out = out * torch.tensor(keep.astype(np.float64)) / (1 - layer.p)
        else:
            raise TypeError(f"no torch mirror for {layer!r}")
    return out
