"""Gradient check speed: NN Studio's checker against torch.autograd.gradcheck, same run.

Two networks, batch 32, float64, softmax cross-entropy:
  A  20-64-64-5, Dense→BatchNorm(batch statistics)→ReLU ×2   (6,085 parameters)
  B  64-128-128-10, Dense→Tanh ×2                            (26,122 parameters)

Rows compare, per phase (fit: batch statistics; predict: running statistics — the two a
default check runs for network A; B has no BatchNorm and is checked once)
  * our full element-by-element check (every parameter, and for localization every
    layer's input gradient; disagreements confirmed at second steps; results and summaries
    built) with torch.autograd.gradcheck in its default slow mode (a numerical Jacobian
    column per parameter element, all parameters as inputs via torch.func.functional_call;
    it checks the parameters only);
  * our directional screen (one random direction per tensor) with gradcheck(fast_mode=True).
Both sides start from the same weights and batch and include their own set-up (our float64
copy, analytic pass and cached forward). Each time is the best of ``--repeat`` runs.

    python bench/gradcheck_speed.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from torch.func import functional_call

from nnstudio.engine import build_network
from nnstudio.engine.gradcheck import CheckConfig, choose_phases, phase_checker

NETWORKS = {
    "A 20-64-64-5 ReLU+BN": ("dense:64,batchnorm,relu,dense:64,batchnorm,relu", 20, 5),
    "B 64-128-128-10 tanh": ("dense:128,tanh,dense:128,tanh", 64, 10),
}
BATCH = 32


def torch_model(network, train: bool = True) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """The same architecture and weights in torch (float64; train mode: batch statistics,
    eval mode: running statistics)."""
    modules, params = [], {}
    for index, layer in enumerate(network.layers):
        if layer.type_name == "dense":
            module = torch.nn.Linear(layer.input_dim, layer.output_dim)
            params[f"{index}.weight"] = torch.tensor(layer.params["W"].T.astype(np.float64))
            params[f"{index}.bias"] = torch.tensor(layer.params["b"].astype(np.float64))
        elif layer.type_name == "batchnorm":
            module = torch.nn.BatchNorm1d(layer.input_dim, eps=layer.eps)
            with torch.no_grad():
                module.running_mean.copy_(torch.tensor(layer.buffers["running_mean"].astype(np.float64)))
                module.running_var.copy_(torch.tensor(layer.buffers["running_var"].astype(np.float64)))
            params[f"{index}.weight"] = torch.tensor(layer.params["gamma"].astype(np.float64))
            params[f"{index}.bias"] = torch.tensor(layer.params["beta"].astype(np.float64))
        else:
            module = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[layer.type_name]()
        modules.append(module)
    model = torch.nn.Sequential(*modules).double().train(train)
    return model, params


def time_torch(network, x: np.ndarray, y: np.ndarray, fast: bool, phase: str) -> tuple[float, bool]:
    model, params = torch_model(network, train=phase == "fit")
    names = list(params)
    inputs = tuple(params[name].clone().requires_grad_(True) for name in names)
    buffers = {name: value.clone() for name, value in model.named_buffers()}
    xt, yt = torch.tensor(x), torch.tensor(y)

    def objective(*values):
        state = dict(zip(names, values))
        state.update({name: value.clone() for name, value in buffers.items()})
        return torch.nn.functional.cross_entropy(functional_call(model, state, (xt,)), yt)

    started = time.perf_counter()
    passed = torch.autograd.gradcheck(objective, inputs, eps=1e-6, atol=1e-5, rtol=1e-3,
                                      fast_mode=fast, raise_exception=False)
    return time.perf_counter() - started, passed


def time_ours(network, x: np.ndarray, y: np.ndarray, screen: bool, phase: str) -> tuple[float, bool]:
    started = time.perf_counter()
    checker, _notes = phase_checker(network, x, y, CheckConfig(), phase)
    if screen:
        passed = all(result.verdict == "ok" for result in checker.screen())
    else:
        passed = checker.run().passed
    return time.perf_counter() - started, passed


def _predict_copy(network, x, phase: str):
    """The network torch checks in a phase: for predict, with the same running statistics
    our predict phase uses (the check batch's population statistics, as it is untrained)."""
    if phase != "predict":
        return network
    from nnstudio.engine.gradcheck.phases import predict_network
    return predict_network(network, x)[0]


def best_of(repeat: int, run) -> tuple[float, bool]:
    results = [run() for _ in range(repeat)]
    return min(t for t, _ in results), all(ok for _, ok in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best counts")
    args = parser.parse_args()
    torch.set_default_dtype(torch.float64)
    rows = []
    for label, (spec, features, classes) in NETWORKS.items():
        rng = np.random.default_rng(0)
        network = build_network(spec, features, "classification", classes, seed=0,
                                dtype=np.float64)
        x = rng.standard_normal((BATCH, features))
        y = rng.integers(0, classes, BATCH)
        # A never-trained network: the predict phase gets the batch's population statistics.
        for phase in choose_phases(network):
            for mode, fast in (("element check vs slow", False), ("screen vs fast_mode", True)):
                ours, ours_ok = best_of(args.repeat, lambda: time_ours(network, x, y, fast, phase))
                peer, peer_ok = best_of(args.repeat,
                                        lambda: time_torch(_predict_copy(network, x, phase), x, y,
                                                           fast, phase))
                rows.append((label, phase, network.num_parameters(), mode, ours, peer, ours_ok,
                             peer_ok))
    print(f"{'network':<22} {'phase':<8} {'params':>7}  {'comparison':<22} {'ours':>9} "
          f"{'torch':>9} {'torch/ours':>10}  passed (ours/torch)")
    for label, phase, count, mode, ours, peer, ours_ok, peer_ok in rows:
        print(f"{label:<22} {phase:<8} {count:>7,}  {mode:<22} {ours:>8.3f}s {peer:>8.3f}s "
              f"{peer / ours:>9.1f}x  {ours_ok}/{peer_ok}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load average {load} (compare runs on a quiet machine)")


if __name__ == "__main__":
    main()
