"""``nnstudio gradcheck``: check a network's backward pass against central differences.

    nnstudio gradcheck DATA.csv --target COL --layers "dense:16,batchnorm,relu" [--fault 1:no_mean_path]
    nnstudio gradcheck builtin:iris --layers dense:8,tanh --json
    nnstudio gradcheck lab.nnproj --bn-stats running --samples-per-tensor 50
    nnstudio gradcheck builtin:iris --model cs231n/classifiers/fc_net.py:FullyConnectedNet

With BatchNorm or Dropout (or a custom layer) both phases are checked by default: fit
(batch statistics, one fixed dropout mask) and predict (running statistics, dropout off).
Exit codes: 0 every phase passed, 1 a phase failed (a mismatch, an unverifiable element, a
wrong shape or an irreproducible random draw), 2 bad input or an error in user code
(``error in FILE:LINE: ...``, never a traceback). ``--json`` prints
``{"format", "status", "passed", "phases": {"fit": {...}, "predict": {...}}, "culprits"}``,
each phase the object documented in ``nnstudio.engine.gradcheck.report``.
"""
from __future__ import annotations

import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nnstudio.engine import Regularization, build_network
from nnstudio.engine.context import BATCH
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.engine.faults import apply_fault_spec, catalog
from nnstudio.commands import gradcheck_model
from nnstudio.engine.gradcheck import (BN_STATS_MODES, DEFAULT_H, DEFAULT_RTOL, DROPOUT_MODES,
                                       FORMAT, PHASE_CHOICES, SELECTED, CheckConfig, PhasedReport,
                                       check_batch, check_network)
from nnstudio.engine.json_values import json_safe
from nnstudio.engine.user_code import UserCodeError

DEFAULT_LAYERS = "dense:16,relu"
DEFAULT_BATCH = 32


def add_arguments(parser) -> None:
    parser.add_argument("source", nargs="?", help="a .nnproj project, a CSV file, or builtin:NAME "
                                                  "(iris, two_spirals, xor, circles, gaussians, "
                                                  "regression_surface)")
    data = parser.add_argument_group("data and network (CSV and built-in data)")
    data.add_argument("--target", help="column to predict (default: the last column)")
    data.add_argument("--task", choices=("classification", "regression"),
                      help="default: inferred from the target column")
    data.add_argument("--layers", help=f"hidden layers, e.g. \"dense:16,batchnorm,relu\"; the "
                                       f"output layer is added (default {DEFAULT_LAYERS})")
    data.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                      help="load Layer subclasses from a Python file first (runs its code); "
                           "repeatable")
    gradcheck_model.add_arguments(parser.add_argument_group("your own model"))
    _check_arguments(parser.add_argument_group("the check"))
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the result as one JSON object")
    out.add_argument("--list-faults", action="store_true",
                     help="list every layer's and loss's catalog faults and exit")


def _check_arguments(check) -> None:
    check.add_argument("--phase", choices=PHASE_CHOICES, default="auto",
                       help="fit (batch statistics, fixed dropout mask), predict (running "
                            "statistics, dropout off), or both (default when the network has "
                            "BatchNorm, Dropout or a custom layer)")
    check.add_argument("--bn-stats", choices=BN_STATS_MODES, default=None,
                       help="one phase with these BatchNorm statistics on both sides of the "
                            "check (instead of fit + predict)")
    check.add_argument("--dropout", choices=DROPOUT_MODES, default=None,
                       help="one phase with this dropout mode: a mask drawn from --seed and "
                            "replayed (fixed), dropout off, or a new mask per evaluation "
                            "(redraw: fails, on purpose)")
    check.add_argument("--seed", type=int, default=0,
                       help="seed of the network (CSV), batch rows, dropout mask and samples")
    check.add_argument("--h", type=float, default=DEFAULT_H, help=f"step (default {DEFAULT_H:g})")
    check.add_argument("--rtol", type=float, default=DEFAULT_RTOL,
                       help=f"relative tolerance (default {DEFAULT_RTOL:g})")
    check.add_argument("--atol", type=float, default=None,
                       help="a fixed noise floor (default: estimated from the rounding error "
                            "of the evaluations)")
    which = check.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="check every element (the default)")
    which.add_argument("--samples-per-tensor", type=int, metavar="K",
                       help="check K seeded random elements of each tensor")
    check.add_argument("--screen", action="store_true",
                       help="directional screen first; check elements only of flagged tensors")
    check.add_argument("--batch", type=int, default=DEFAULT_BATCH, metavar="N",
                       help=f"rows of the training split in the check batch (default {DEFAULT_BATCH})")
    check.add_argument("--fault", action="append", default=[], metavar="LAYER:FAULT",
                       help="switch on a catalog fault, LAYER = index, layer type or 'loss'; "
                            "repeatable (see --list-faults)")
    check.add_argument("--include-regularization", action="store_true",
                       help="make the L1/L2 penalty part of the checked objective")
    check.add_argument("--l1", type=float, help="L1 weight (default: the project's, else 0)")
    check.add_argument("--l2", type=float, help="L2 weight (default: the project's, else 0)")


def run(args) -> int:
    try:
        return _run(args)
    except UserCodeError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"format": FORMAT, "status": "error", "passed": False,
                              "error": json_safe(exc.to_dict()), "message": str(exc)},
                             indent=1, allow_nan=False))
        else:
            print(f"nnstudio gradcheck: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    for path in args.custom_layer:
        load_custom_layers(path)
    if args.list_faults:
        print(_fault_listing())
        return 0
    if not args.source:
        raise ValueError("name what to check: a .nnproj project, a CSV file or builtin:NAME")
    if args.model:
        return gradcheck_model.run(args, _load_dataset, _batch)
    network, dataset, train_l1_l2, description = _load(args)
    applied = [apply_fault_spec(network, spec) for spec in args.fault]
    x, y = _batch(dataset, args.batch, args.seed)
    config = _config(args, train_l1_l2)
    started = time.perf_counter()
    report = _check(network, x, y, config, args)
    elapsed = time.perf_counter() - started
    settings = {"source": description, "faults": [f"{where}:{name}" for where, name in applied],
                "custom_layers": [str(Path(p).resolve()) for p in args.custom_layer]}
    if args.json:
        data = report.to_dict()
        for phase in data["phases"].values():
            phase["settings"].update(settings)
        data["elapsed_seconds"] = round(elapsed, 4)
        print(json.dumps(json_safe(data), indent=1, allow_nan=False))
    else:
        print(f"{description}; faults: {', '.join(settings['faults']) or 'none'}")
        print(report.format_text())
        print(f"({elapsed:.2f} s)")
    return 0 if report.passed else 1


def _check(network, x, y, config: CheckConfig, args) -> PhasedReport:
    """Both phases by default; one phase when --phase, --bn-stats or --dropout says so."""
    if args.bn_stats is not None or args.dropout is not None:
        if args.phase != "auto":
            raise ValueError("--phase cannot be combined with --bn-stats/--dropout")
        return check_network(network, x, y, config, phases=SELECTED)
    return check_network(network, x, y, config, phases=args.phase)


def _load(args) -> tuple[Any, Any, tuple[float, float], str]:
    """(network, dataset, training (l1, l2), a one-line description of the source)."""
    source = args.source
    if source.endswith(".nnproj") or (Path(source).is_file() and zipfile.is_zipfile(source)):
        return _load_project(args)
    dataset = _load_dataset(args)
    layers = args.layers if args.layers is not None else DEFAULT_LAYERS
    network = build_network(layers, dataset.n_features, dataset.task, dataset.n_outputs,
                            seed=args.seed)
    return network, dataset, (0.0, 0.0), f"{source} ({dataset.task}), layers {layers or 'none'}"


def _load_project(args) -> tuple[Any, Any, tuple[float, float], str]:
    from nnstudio.project import load_project  # only when a project is asked for

    given = [f"--{name}" for name in ("target", "task", "layers") if getattr(args, name) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be used with a project: its data and "
                         "architecture are saved in it")
    project = load_project(args.source)
    for note in project.custom_layer_notes:
        print(f"note: {note}", file=sys.stderr)
    if project.dataset is None:
        raise ValueError(f"{args.source}: the project's data could not be loaded "
                         f"({project.data_note or 'no data source'}); a check needs a batch")
    config = project.train_config
    return project.network, project.dataset, (config.l1, config.l2), f"project {args.source}"


def _load_dataset(args):
    from nnstudio.data import LoadOptions, load_csv, make_builtin

    if args.source.startswith("builtin:"):
        if args.target or args.task:
            raise ValueError("--target and --task do not apply to built-in datasets")
        return make_builtin(args.source.removeprefix("builtin:"), seed=args.seed)
    return load_csv(args.source, LoadOptions(target=args.target, task=args.task, seed=args.seed))


def _batch(dataset, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` seeded rows of the training split (all of them if it has fewer)."""
    if size < 1:
        raise ValueError(f"--batch must be at least 1, got {size}")
    return check_batch(dataset.x_train, dataset.y_train, size, seed)


def _config(args, train_l1_l2: tuple[float, float]) -> CheckConfig:
    l1 = train_l1_l2[0] if args.l1 is None else args.l1
    l2 = train_l1_l2[1] if args.l2 is None else args.l2
    if (args.l1 or args.l2) and not args.include_regularization:
        raise ValueError("--l1/--l2 only matter with --include-regularization")
    return CheckConfig(h=args.h, rtol=args.rtol, atol=args.atol,
                       bn_stats=args.bn_stats or BATCH, dropout=args.dropout or "fixed",
                       seed=args.seed,
                       regularization=Regularization(l1=l1, l2=l2),
                       include_regularization=args.include_regularization,
                       samples_per_tensor=args.samples_per_tensor, screen_first=args.screen)


def _fault_listing() -> str:
    lines = ["Faults (use --fault LAYER:NAME, LAYER = layer index, layer type or 'loss'):"]
    owner = None
    for fault in catalog():
        if fault.owner != owner:
            owner = fault.owner
            lines.append(f"  {owner}{' (loss)' if fault.is_loss else ''}")
        lines.append(f"    {fault.name:<26} {fault.explanation}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - run through ``nnstudio gradcheck``
    sys.exit("use: nnstudio gradcheck ...")
