"""Training throughput (samples/s) of our engine vs PyTorch CPU on the same networks.

Both sides run the same step: forward, softmax cross-entropy, backward, SGD with momentum.
Runs are interleaved (ours, torch, ours, torch, ...) and the median of the repeats is
reported, so machine noise hits both sides alike. Usage: python bench/train_throughput.py
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from nnstudio.engine import SGD, Context, build_network

CASES = [
    # (label, n_features, hidden spec, classes, batch size, torch hidden modules)
    ("784-256-128-10 ReLU, batch 128", 784, "dense:256,relu,dense:128,relu", 10, 128),
    ("20-64-64-5 ReLU+BN+Dropout(0.2), batch 32", 20,
     "dense:64,batchnorm,relu,dropout:0.2,dense:64,batchnorm,relu,dropout:0.2", 5, 32),
    ("4-16-16-3 tanh, batch 16", 4, "dense:16,tanh,dense:16,tanh", 3, 16),
]
STEPS, REPEATS = 200, 7


def torch_model(net) -> torch.nn.Sequential:
    """A torch.nn model with the same layers as our network (weights do not matter here)."""
    modules = []
    for layer in net.layers:
        kind = layer.type_name
        if kind == "dense":
            modules.append(torch.nn.Linear(layer.input_dim, layer.output_dim))
        elif kind == "batchnorm":
            modules.append(torch.nn.BatchNorm1d(layer.input_dim))
        elif kind == "dropout":
            modules.append(torch.nn.Dropout(layer.p))
        else:
            modules.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[kind]())
    return torch.nn.Sequential(*modules)


def time_ours(net, batches) -> float:
    rng = np.random.default_rng(0)
    optimizer = SGD(lr=0.01, momentum=0.9)
    ctx = Context.train(rng)
    start = time.perf_counter()
    for x, y in batches:
        net.compute_gradients(x, y, ctx)
        optimizer.step(net)
    return time.perf_counter() - start


def time_torch(model, batches) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def run_case(label, n_features, spec, classes, batch) -> tuple[str, float, float]:
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((STEPS, batch, n_features)).astype(np.float32)
    ys = rng.integers(0, classes, (STEPS, batch))
    ours_batches = list(zip(xs, ys))
    torch_batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in ours_batches]
    net = build_network(spec, n_features, "classification", classes, seed=0)
    model = torch_model(net)
    time_ours(net, ours_batches[:20]), time_torch(model, torch_batches[:20])  # warm-up
    ours_times, torch_times = [], []
    for _ in range(REPEATS):
        ours_times.append(time_ours(net, ours_batches))
        torch_times.append(time_torch(model, torch_batches))
    samples = STEPS * batch
    return label, samples / statistics.median(ours_times), samples / statistics.median(torch_times)


def main() -> None:
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {torch.get_num_threads()}; "
          f"{STEPS} steps x {REPEATS} interleaved repeats, median")
    print(f"| network | ours (samples/s) | PyTorch (samples/s) | ratio ours/torch |")
    print("|---|---:|---:|---:|")
    for case in CASES:
        label, ours, theirs = run_case(*case)
        print(f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}x |")


if __name__ == "__main__":
    main()
