"""Training throughput (samples/s) of our engine vs PyTorch CPU on the same networks, and
what layer-health statistics cost the trainer.

Both sides run the same step: forward, softmax cross-entropy, backward, SGD with momentum.
Runs are interleaved (ours, torch, ours, torch, ...) and the median of the repeats is
reported, so machine noise hits both sides alike. The second table runs ``Trainer`` itself
(shuffling, metrics, validation at every epoch end) with layer statistics on and off, on the
same networks plus the window's default network on Iris (4 batches per epoch: the epoch-end
work counts most there), interleaved the same way. Goal: "on" within 5 % of "off".
Usage: python bench/train_throughput.py [--health-only]
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

from nnstudio.data import Dataset, make_builtin
from nnstudio.engine import SGD, Context, build_network
from nnstudio.training import TrainConfig, Trainer

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


HEALTH_CASES = [
    # (label, dataset maker, hidden spec, batch size, steps per repeat)
    ("Iris 4-16-BN-16-3 ReLU (window default), batch 32", lambda: make_builtin("iris"),
     "dense:16,batchnorm,relu,dense:16,relu", 32, 512),
    *[(label, lambda n=n_features, c=classes: synthetic(n, c), spec, batch, 1024 // (batch // 16))
      for label, n_features, spec, classes, batch in CASES],
]
HEALTH_REPEATS = 41


def synthetic(n_features: int, classes: int, rows: int = 4000):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((rows, n_features)).astype(np.float32)
    return Dataset.from_arrays(x, rng.integers(0, classes, rows), "classification")


def pulled(dataset, spec: str, batch: int, health: bool):
    network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=10**9, batch_size=batch, optimizer="sgd",
                                                    lr=0.01, momentum=0.9), health=health)
    run = trainer.run()
    for _ in range(100):  # warm-up: the first epoch's allocations and caches
        next(run)
    return trainer, run


def time_steps(trainer, run, steps: int) -> float:
    start_step, start = trainer.step, time.process_time()
    while trainer.step - start_step < steps:
        next(run)
    return time.process_time() - start


def health_case(label, make_dataset, spec, batch, steps) -> tuple[str, float, float, float]:
    """(label, samples/s on, samples/s off, median of the per-pair on/off ratios).

    Short segments in adjacent pairs, the order alternating, so that a change of load on a
    shared machine hits both sides of a pair alike; the ratio is the median over pairs.
    """
    dataset = make_dataset()
    sides = {True: pulled(dataset, spec, batch, True), False: pulled(dataset, spec, batch, False)}
    times: dict[bool, list[float]] = {True: [], False: []}
    for repeat in range(HEALTH_REPEATS):
        for health in ((True, False) if repeat % 2 == 0 else (False, True)):
            times[health].append(time_steps(*sides[health], steps))
    ratio = statistics.median(off / on for on, off in zip(times[True], times[False]))
    return (label, steps * batch / statistics.median(times[True]),
            steps * batch / statistics.median(times[False]), ratio)


def main() -> None:
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {torch.get_num_threads()}; "
          f"{STEPS} steps x {REPEATS} interleaved repeats, median")
    if "--health-only" not in sys.argv:
        print(f"| network | ours (samples/s) | PyTorch (samples/s) | ratio ours/torch |")
        print("|---|---:|---:|---:|")
        for case in CASES:
            label, ours, theirs = run_case(*case)
            print(f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f}x |")
    print()
    print(f"Trainer with layer statistics on vs off (CPU time; {HEALTH_REPEATS} adjacent on/off pairs "
          "of short segments, order alternating; medians)")
    print("| network | statistics on (samples/s) | off (samples/s) | on/off (median of pairs) |")
    print("|---|---:|---:|---:|")
    for case in HEALTH_CASES:
        label, on, off, ratio = health_case(*case)
        print(f"| {label} | {on:,.0f} | {off:,.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
