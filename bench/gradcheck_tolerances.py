"""How the verdict rule's defaults were chosen: false alarms against detected faults.

The rule is |a − n| ≤ atol·max(1, |L|) + rtol·max(|a|, |n|). This script

  1. checks every element of many random *correct* networks (all layer types, both
     BatchNorm modes, fixed dropout masks, L1/L2 on and off, several input, weight and
     target scales) and records the error of every element that crossed no kink;
  2. injects every catalog fault into random networks (BatchNorm on batch statistics) at
     a random layer of its type, keeps the injections that change some gradient, and
     records the errors of exactly the elements whose analytic gradient changed;
  3. prints the noise seen, then, for a grid of (rtol, atol), how many correct networks
     raise a false alarm and how many injected faults go unnoticed, and the margins of
     the defaults on both sides.

    python bench/gradcheck_tolerances.py [--networks 2000] [--faults-per-entry 10] [--seed 1]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.engine.gradcheck.gradcheck_nets import random_case  # noqa: E402

from nnstudio.engine.faults import catalog  # noqa: E402
from nnstudio.engine.gradcheck import (DEFAULT_ATOL, DEFAULT_H, DEFAULT_RTOL,  # noqa: E402
                                       GradientChecker)

RTOLS = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3)
ATOLS = (1e-10, 1e-9, 1e-8, 1e-7)


def measured(checker: GradientChecker, keep_mask=None) -> tuple[np.ndarray, np.ndarray, float]:
    """(abs errors, scales, |L|) of the kink-free elements (optionally only some)."""
    cols = checker.element_columns()
    keep = ~cols["kinked"] if keep_mask is None else keep_mask & ~cols["kinked"]
    loss = abs(checker.objective.base.data_loss + checker.objective.base.penalty)
    return cols["abs_error"][keep], cols["scale"][keep], loss


def correct_errors(count: int, rng: np.random.Generator) -> list[tuple]:
    results = []
    for _ in range(count):
        case = random_case(rng)
        checker = GradientChecker(case.network, case.x, case.y, case.config)
        checker.run()
        results.append(measured(checker))
    return results


def injected(fault, rng: np.random.Generator):
    """One random network with ``fault`` switched on where it changes some gradient."""
    case = random_case(rng, bn_stats="batch")
    if fault.is_loss:
        targets = [case.network.loss] if case.network.loss.type_name == fault.owner else []
    else:
        targets = [layer for layer in case.network.layers if layer.type_name == fault.owner]
    if not targets:
        return None
    target = targets[int(rng.integers(len(targets)))]
    clean = GradientChecker(case.network, case.x, case.y, case.config).objective.gradients
    target.set_fault(fault.name)
    checker = GradientChecker(case.network, case.x, case.y, case.config)
    target.set_fault(None)
    changed = {name: np.abs(grad - clean[name]) > 1e-6 * (np.abs(clean[name]) + 1e-6)
               for name, grad in checker.objective.gradients.items()}
    if not any(mask.any() for mask in changed.values()):
        return None  # no effect here (e.g. nothing upstream of it): not a detection case
    checker.run()
    cols = checker.element_columns()
    names = [info.name for info in checker.tensors]
    hit = np.array([changed[names[t]].reshape(-1)[f] for t, f in zip(cols["tensor"], cols["flat"])])
    return measured(checker, hit)


def fault_errors(rng: np.random.Generator, per_entry: int) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for fault in catalog():
        key = f"{fault.owner}:{fault.name}"
        found[key] = []
        for _ in range(200 * per_entry):
            if len(found[key]) >= per_entry:
                break
            result = injected(fault, rng)
            if result is not None and result[0].size:
                found[key].append(result)
    return found


def scores(result: tuple, rtol: float, atol: float) -> np.ndarray:
    abs_error, scale, loss = result
    return abs_error / (atol * max(1.0, loss) + rtol * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=2000)
    parser.add_argument("--faults-per-entry", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    correct = correct_errors(args.networks, rng)
    count = sum(r[0].size for r in correct)
    floor_ratio = max(float(np.max(r[0][r[1] < 1e-9 * max(1, r[2])], initial=0)) / max(1.0, r[2])
                      for r in correct)
    # relative errors of elements well above the noise floor (|gradient| > 1e-4·max(1, |L|))
    rel = np.concatenate([r[0][r[1] > 1e-4 * max(1, r[2])] / r[1][r[1] > 1e-4 * max(1, r[2])]
                          for r in correct])
    print(f"h = {DEFAULT_H:g}. Correct networks: {len(correct)}, kink-free elements: {count:,}")
    print(f"  noise where the true gradient is ~0: |a-n| <= {floor_ratio:.1e} x max(1, |L|)")
    print(f"  relative error where max(|a|,|n|) > 1e-4 x max(1, |L|): median {np.median(rel):.1e}, "
          f"99.9th percentile {np.quantile(rel, 0.999):.1e}, max {rel.max():.1e}")

    faults = fault_errors(rng, args.faults_per_entry)
    flat = [r for results in faults.values() for r in results]
    weakest = min(float(np.max(r[0] / np.maximum(r[1], 1e-300))) for r in flat)
    empty = [key for key, results in faults.items() if not results]
    print(f"Fault injections that change a gradient: {len(flat)} over "
          f"{len(faults) - len(empty)} catalog entries{' (none for ' + ', '.join(empty) + ')' if empty else ''}")
    print(f"  weakest injection: its worst corrupted element is off by {weakest:.1e} (relative)")

    print(f"\n{'rtol':>7} {'atol':>7}   false-alarm networks   missed faults")
    for rtol in RTOLS:
        for atol in ATOLS:
            alarms = sum(bool(np.any(scores(r, rtol, atol) > 1)) for r in correct)
            missed = sum(not np.any(scores(r, rtol, atol) > 1) for r in flat)
            print(f"{rtol:>7.0e} {atol:>7.0e}   {alarms:>5} of {len(correct):<12} {missed:>4} of {len(flat)}")
    print(f"\nMargins at atol={DEFAULT_ATOL:g} (default rtol {DEFAULT_RTOL:g}):")
    for rtol in (1e-5, 1e-4, 1e-3):
        worst_correct = max(float(scores(r, rtol, DEFAULT_ATOL).max(initial=0)) for r in correct)
        weakest_fault = min(float(scores(r, rtol, DEFAULT_ATOL).max()) for r in flat)
        print(f"  rtol={rtol:g}: the worst correct element uses {worst_correct:.1%} of its "
              f"tolerance; the weakest injected fault exceeds it {weakest_fault:,.0f}-fold")


if __name__ == "__main__":
    main()
