"""Verdicts that cannot lie: false alarms on correct networks, misses and culprits on faults.

What ``check_network`` (fit + predict phases, low-variance second look) says about

  1. many random *correct* networks, in families chosen to be hard: plain random networks
     (all layer types, L1/L2, fixed dropout masks), BatchNorm on a feature that is constant
     in the batch, low-variance BatchNorm features behind biases, saturated sigmoids on
     unstandardized inputs, regression targets from 1e0 to 1e8, dropout 0.9, BatchNorm
     eps down to 1e-7, L1 at weights that are exactly zero, and hand-written custom layers
     (a cs231n-style BatchNorm and a dropout drawing from numpy's global generator).
     Goal: 0 false alarms (a mismatch or a failing problem on a correct network).
     "Unverifiable" is counted apart: it is not a pass and says so, and it is right to
     say it when the loss's rounding noise is as large as the gradients (targets ~1e8).
  2. every catalog fault, injected at every position of its layer type into random
     networks, at every target scale (regression 1e0, 1e2, 1e4, 1e6, 1e8 and
     classification), plus the mistakes of hand-written layers. Goal: none passes (each
     is caught, or said to be unverifiable), and the culprit is the layer the fault is in.
  3. the weakest caught fault's excess over its tolerance.

    python bench/gradcheck_tolerances.py [--networks 10000] [--seed 1]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.engine.gradcheck import student_layers  # noqa: E402,F401 - registers them
from tests.engine.gradcheck.gradcheck_nets import random_case  # noqa: E402

from nnstudio.engine import Regularization, build_network  # noqa: E402
from nnstudio.engine.custom_layers import load_custom_layers  # noqa: E402
from nnstudio.engine.faults import catalog  # noqa: E402
from nnstudio.engine.gradcheck import CheckConfig, check_network  # noqa: E402
from nnstudio.resources import resource_path  # noqa: E402

SCALES = (1e0, 1e2, 1e4, 1e6, 1e8)


# -- correct networks, by family --------------------------------------------------------------
def family_random(rng):
    case = random_case(rng)
    return case.network, case.x, case.y, case.config


def family_constant_feature(rng):
    x = rng.normal(0, 1, (int(rng.integers(6, 17)), 4))
    x[:, int(rng.integers(4))] = float(rng.normal(0, 3))
    eps = float(rng.choice([1e-5, 1e-6, 1e-7]))
    net = build_network(f"batchnorm:0.1:{eps:g},dense:6,tanh", 4, "classification", 3,
                        seed=int(rng.integers(1 << 30)))
    return net, x, rng.integers(0, 3, len(x)), CheckConfig(seed=int(rng.integers(1 << 20)))


def family_low_variance(rng):
    x = rng.normal(0, 1, (int(rng.integers(6, 17)), 4))
    net = build_network("dense:6,batchnorm,relu,dense:5,tanh", 4, "classification", 3,
                        seed=int(rng.integers(1 << 30)))
    dense = net.layers[0]
    dense.params["W"][:, : int(rng.integers(1, 4))] *= 1e-4   # a few near-constant features
    dense.params["b"][:] = rng.normal(0, 2, dense.params["b"].shape)
    return net, x, rng.integers(0, 3, len(x)), CheckConfig(seed=int(rng.integers(1 << 20)))


def family_saturated(rng):
    x = rng.normal(50, 30, (int(rng.integers(8, 33)), 4))
    net = build_network("dense:12,sigmoid,dense:8,sigmoid", 4, "classification", 3,
                        seed=int(rng.integers(1 << 30)))
    return net, x, rng.integers(0, 3, len(x)), CheckConfig(seed=int(rng.integers(1 << 20)))


def family_target_scale(rng):
    scale = float(rng.choice(SCALES))
    x = rng.normal(0, 1, (int(rng.integers(8, 25)), 3))
    y = scale * (1 + 0.1 * rng.normal(size=(len(x), 1)))
    spec = str(rng.choice(["dense:4", "dense:6,relu", "dense:6,batchnorm,tanh"]))
    net = build_network(spec, 3, "regression", 1, seed=int(rng.integers(1 << 30)))
    return net, x, y, CheckConfig(seed=int(rng.integers(1 << 20)))


def family_heavy_dropout(rng):
    x = rng.normal(0, 1, (int(rng.integers(8, 17)), 4))
    net = build_network("dense:10,relu,dropout:0.9,dense:6,tanh", 4, "classification", 3,
                        seed=int(rng.integers(1 << 30)))
    return net, x, rng.integers(0, 3, len(x)), CheckConfig(seed=int(rng.integers(1 << 20)))


def family_l1_at_zero(rng):
    x = rng.normal(0, 1, (int(rng.integers(6, 17)), 3))
    net = build_network("dense:5,tanh,dense:4,relu", 3, "classification", 2,
                        seed=int(rng.integers(1 << 30)))
    for layer in net.layers:
        if "W" in layer.params:
            mask = rng.random(layer.params["W"].shape) < 0.3
            layer.params["W"][mask] = 0.0
    config = CheckConfig(seed=int(rng.integers(1 << 20)), include_regularization=True,
                         regularization=Regularization(l1=float(rng.choice([1e-3, 1e-2, 0.1]))))
    return net, x, rng.integers(0, 2, len(x)), config


def family_custom(rng):
    x = rng.normal(0, 1.5, (int(rng.integers(6, 17)), 4))
    spec = str(rng.choice(["dense:6,student_bn,relu", "student_bn,dense:5,tanh",
                           "dense:8,student_dropout:0.5,dense:5,tanh"]))
    net = build_network(spec, 4, "classification", 3, seed=int(rng.integers(1 << 30)))
    for layer in net.layers:
        if layer.type_name == "student_dropout":
            layer.SOURCE = str(rng.choice(["global", "ctx"]))
    return net, x, rng.integers(0, 3, len(x)), CheckConfig(seed=int(rng.integers(1 << 20)))


FAMILIES = {
    "random (all layer types, L1/L2)": (family_random, 0.40),
    "BatchNorm, constant feature": (family_constant_feature, 0.08),
    "BatchNorm, low-variance features": (family_low_variance, 0.08),
    "saturated sigmoids, raw inputs": (family_saturated, 0.08),
    "regression targets 1e0..1e8": (family_target_scale, 0.12),
    "dropout 0.9": (family_heavy_dropout, 0.08),
    "L1 at exactly zero weights": (family_l1_at_zero, 0.08),
    "custom layers (student code)": (family_custom, 0.08),
}


def worst_score(report) -> float:
    """The largest |a−n| / tolerance among elements judged ok (how close to an alarm)."""
    worst = 0.0
    for phase in report.phases.values():
        for tensor in phase.tensors:
            if tensor.worst is not None and tensor.worst.verdict == "ok" and tensor.worst.rule == "tolerance":
                s = phase.settings
                bound = s["atol_effective"] + s["rtol"] * max(abs(tensor.worst.analytic),
                                                               abs(tensor.worst.numeric))
                worst = max(worst, tensor.worst.abs_error / bound if bound > 0 else 0.0)
    return worst


def correct_networks(count: int, rng) -> dict:
    stats = defaultdict(Counter)
    worst = 0.0
    examples = {}
    names = list(FAMILIES)
    weights = np.array([FAMILIES[n][1] for n in names])
    for index in range(count):
        name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        network, x, y, config = FAMILIES[name][0](rng)
        report = check_network(network, x, y, config)
        stats[name]["networks"] += 1
        phases = list(report.phases.values()) + list(report.stress.values())
        alarm = any(p.totals["mismatch"] for p in phases) or any(
            problem.fails for p in phases for problem in p.problems)
        unverifiable = not alarm and any(p.totals["unverifiable"] for p in phases)
        stats[name]["false alarms"] += alarm
        stats[name]["unverifiable"] += unverifiable
        stats[name]["elements"] += sum(p.totals["checked"] for p in phases)
        if alarm and name not in examples:
            examples[name] = report.format_text()[-3000:]
        worst = max(worst, worst_score(report))
    return {"stats": stats, "worst": worst, "examples": examples}


# -- faults ---------------------------------------------------------------------------------
def _fault_network(rng, owner: str, scale: float | None):
    """A random network containing ``owner`` (a layer type or a loss), and its data."""
    task = "classification" if scale is None else "regression"
    blocks = {"dense": "dense:6,tanh", "relu": "dense:6,relu", "leakyrelu": "dense:6,leakyrelu:0.1",
              "tanh": "dense:6,tanh", "sigmoid": "dense:6,sigmoid",
              "batchnorm": "dense:6,batchnorm,tanh", "dropout": "dense:6,relu,dropout:0.3"}
    if owner in blocks:
        spec = ",".join([blocks[owner]] + [blocks[str(rng.choice(list(blocks)))]
                                           for _ in range(int(rng.integers(0, 2)))])
    else:
        spec = "dense:6,tanh,dense:5,relu"
    if owner == "mse":
        task, scale = "regression", scale or 1.0
    if owner == "softmax_cross_entropy":
        task, scale = "classification", None
    outputs = 3 if task == "classification" else 1
    network = build_network(spec, 4, task, outputs, seed=int(rng.integers(1 << 30)))
    x = rng.normal(0, 1, (int(rng.integers(8, 17)), 4))
    y = (rng.integers(0, 3, len(x)) if task == "classification"
         else scale * (1 + 0.1 * rng.normal(size=(len(x), 1))))
    return network, x, y


def _changed(network, x, y, config, target, fault) -> bool:
    from nnstudio.engine.gradcheck import GradientChecker
    from nnstudio.engine.gradcheck.phases import phase_config
    for phase in ("fit", "predict"):
        cfg = phase_config(config, phase)
        clean = GradientChecker(network, x, y, cfg).objective
        target.set_fault(fault)
        try:
            broken = GradientChecker(network, x, y, cfg).objective
        finally:
            target.set_fault(None)
        grads = list(zip(list(clean.gradients.values()) + clean.input_gradients,
                         list(broken.gradients.values()) + broken.input_gradients))
        if any(np.any(np.abs(b - c) > 1e-6 * (np.abs(c) + 1e-6)) for c, b in grads):
            return True
    return False


def fault_injections(rng, per_case: int) -> dict:
    results = defaultdict(Counter)
    weakest = np.inf
    for fault in catalog():
        scales = ([None] + list(SCALES)) if fault.owner not in ("softmax_cross_entropy",) else [None]
        if fault.owner == "mse":
            scales = list(SCALES)
        for scale in scales:
            key = (f"{fault.owner}:{fault.name}", "class" if scale is None else f"{scale:.0e}")
            done = 0
            for _ in range(40 * per_case):
                if done >= per_case:
                    break
                network, x, y = _fault_network(rng, fault.owner, scale)
                config = CheckConfig(seed=int(rng.integers(1 << 20)))
                if fault.is_loss:
                    if network.loss.type_name != fault.owner:
                        continue
                    targets = [(len(network.layers), network.loss)]
                else:
                    targets = [(i, layer) for i, layer in enumerate(network.layers)
                               if layer.type_name == fault.owner]
                for index, target in targets:
                    if not _changed(network, x, y, config, target, fault.name):
                        continue
                    target.set_fault(fault.name)
                    report = check_network(network, x, y, config)
                    target.set_fault(None)
                    _score(results[key], report, index, fault.is_loss)
                    weakest = min(weakest, _excess(report))
                    done += 1
    return {"results": results, "weakest": weakest}


def custom_mistakes(rng, per_case: int) -> dict:
    load_custom_layers(resource_path("examples", "faulty_swish_layer.py"))
    cases = {"student_bn:no_mean_path": ("dense:6,student_bn,relu", 1, "MISTAKE", "no_mean_path"),
             "student_bn:dgamma_from_x": ("dense:6,student_bn,relu", 1, "MISTAKE", "dgamma_from_x"),
             "student_bn:dgamma_row (shape)": ("dense:6,student_bn,relu", 1, "MISTAKE", "dgamma_row"),
             "student_bn:eps_in_backward": ("student_bn,dense:6,relu", 0, "MISTAKE", "eps_in_backward"),
             "student_dropout:new_mask_in_backward": ("dense:8,student_dropout:0.5,dense:5,tanh", 1,
                                                      "MISTAKE", "new_mask_in_backward"),
             "student_dropout:unseeded": ("dense:8,student_dropout:0.5,dense:5,tanh", 1, "MISTAKE",
                                          "unseeded"),
             "swish_faulty (parameter-free)": ("dense:6,swish_faulty,dense:4,tanh", 1, None, None)}
    results = defaultdict(Counter)
    for key, (spec, index, attribute, value) in cases.items():
        for _ in range(per_case):
            network = build_network(spec, 4, "classification", 3, seed=int(rng.integers(1 << 30)))
            if spec.startswith("dense:6,student_bn"):
                network.layers[0].params["b"][:] = rng.normal(0, 3, network.layers[0].params["b"].shape)
            if attribute:
                setattr(network.layers[index], attribute, value)
            x = rng.normal(0, 1.5, (int(rng.integers(8, 17)), 4))
            report = check_network(network, x, rng.integers(0, 3, len(x)),
                                   CheckConfig(seed=int(rng.integers(1 << 20))))
            _score(results[(key, "class")], report, index, False)
    return {"results": results}


def _score(counter: Counter, report, index: int, is_loss: bool) -> None:
    counter["injections"] += 1
    if report.passed:
        counter["passed"] += 1
        return
    phases = list(report.phases.values()) + list(report.stress.values())
    caught = any(p.totals["mismatch"] for p in phases) or any(
        problem.fails for p in phases for problem in p.problems)
    counter["caught" if caught else "unverifiable"] += 1
    if caught:
        located = [c for _, c in report.culprits if c.located]
        if not located:  # e.g. at 1e8 the gradient reaching the layer is itself noise
            counter["unlocated"] += 1
            return
        places = {c.layer_index for c in located}
        parts = {c.part for c in located}
        right = places == {index} and (("loss" in parts) == is_loss)
        counter["culprit right"] += right
        counter["located"] += 1


def _excess(report) -> float:
    worst = 0.0
    for phase in report.phases.values():
        for tensor in phase.tensors:
            if tensor.mismatch and tensor.worst is not None:
                s = phase.settings
                bound = s["atol_effective"] + s["rtol"] * max(abs(tensor.worst.analytic),
                                                               abs(tensor.worst.numeric))
                worst = max(worst, tensor.worst.abs_error / bound if bound > 0 else np.inf)
    return worst if worst > 0 else np.inf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=10_000)
    parser.add_argument("--faults-per-case", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    correct = correct_networks(args.networks, rng)
    print(f"Correct networks ({args.networks:,}), check_network defaults (fit + predict + "
          "low-variance look):")
    print(f"  {'family':<36} {'networks':>8} {'elements':>11} {'false alarms':>12} "
          f"{'unverifiable':>12}")
    totals = Counter()
    for name, stats in correct["stats"].items():
        totals.update(stats)
        print(f"  {name:<36} {stats['networks']:>8,} {stats['elements']:>11,} "
              f"{stats['false alarms']:>12} {stats['unverifiable']:>12}")
    print(f"  {'all':<36} {totals['networks']:>8,} {totals['elements']:>11,} "
          f"{totals['false alarms']:>12} {totals['unverifiable']:>12}")
    for name, text in correct["examples"].items():
        print(f"\nFALSE ALARM in family {name}:\n{text}")

    faults = fault_injections(rng, args.faults_per_case)
    custom = custom_mistakes(rng, args.faults_per_case)
    print(f"\nFault injections (catalog x target scale, and hand-written mistakes), "
          f"{args.faults_per_case} networks each:")
    print(f"  {'fault':<40} {'targets':<7} {'injected':>8} {'caught':>6} {'unverif.':>8} "
          f"{'passed':>6} {'culprit right':>13} {'not located':>11}")
    all_faults = Counter()
    for (name, scale), c in list(faults["results"].items()) + list(custom["results"].items()):
        all_faults.update(c)
        print(f"  {name:<40} {scale:<7} {c['injections']:>8} {c['caught']:>6} "
              f"{c['unverifiable']:>8} {c['passed']:>6} {c['culprit right']:>6} of "
              f"{c['located']:<4} {c['unlocated']:>11}")
    print(f"  {'all':<40} {'':<7} {all_faults['injections']:>8} {all_faults['caught']:>6} "
          f"{all_faults['unverifiable']:>8} {all_faults['passed']:>6} "
          f"{all_faults['culprit right']:>6} of {all_faults['located']:<4} "
          f"{all_faults['unlocated']:>11}")
    print(f"  weakest caught fault: its worst element is {faults['weakest']:,.0f}x past its tolerance")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
