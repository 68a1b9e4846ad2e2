"""``nnstudio gradcheck DATA --model FILE[:FACTORY]``: check a whole hand-written model.

    nnstudio gradcheck builtin:iris --model resources/examples/cs231n/classifiers/fc_net.py
    nnstudio gradcheck lab.csv --target y --model cs231n/classifiers/fc_net.py:FullyConnectedNet \
        --model-kwargs '{"hidden_dims": [16, 16], "normalization": "batchnorm", "reg": 0.1}'

The model is made by ``FACTORY(input_dim=D, num_classes=C, **MODEL_KWARGS)`` and checked by
:func:`nnstudio.engine.gradcheck.model.check_model` on ``--batch`` seeded rows of the
training split: the fit phase, and the predict phase when the model's ``set_mode`` is
honoured by its ``loss`` (``--phase fit|predict|both`` chooses). Exit codes as ``gradcheck``: 0 pass, 1 a mismatch, 2 bad input
or an error in the model's code (``error in FILE:LINE: ...``).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from nnstudio.engine.gradcheck.model import check_model
from nnstudio.engine.json_values import json_safe
from nnstudio.engine.user_model import load_model, parse_model_spec

#: options of a network check that mean nothing for a model: its code decides
_NETWORK_ONLY = {"layers": "--layers", "fault": "--fault", "screen": "--screen",
                 "include_regularization": "--include-regularization", "l1": "--l1", "l2": "--l2",
                 "bn_stats": "--bn-stats (use --phase)", "dropout": "--dropout (use --phase)"}
#: --phase -> check_model's phases (None: fit, and predict when the model honours set_mode)
_PHASES = {"auto": None, "both": ("fit", "predict"), "fit": ("fit",), "predict": ("predict",)}


def add_arguments(group) -> None:
    """The two options, added to ``gradcheck``'s parser."""
    group.add_argument("--model", metavar="FILE[:FACTORY]",
                       help="check your own model instead of a network from --layers: "
                            "FACTORY(input_dim=D, num_classes=C) (default make_model; a class "
                            "works) returns an object with params and loss(X, y) -> (loss, grads); "
                            "runs the file's code")
    group.add_argument("--model-kwargs", metavar="JSON",
                       help="extra keyword arguments for FACTORY, a JSON object, e.g. "
                            "'{\"hidden_dims\": [16, 16], \"reg\": 0.1}'")


def run(args, load_dataset, batch) -> int:
    """Run the model check; the helpers come from ``gradcheck`` (one definition each)."""
    given = [flag for name, flag in _NETWORK_ONLY.items() if getattr(args, name, None)]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be used with --model: the model's own "
                         "code decides its layers and loss")
    source = args.source
    if source is None or source.endswith(".nnproj"):
        raise ValueError("--model checks your model on data: name a CSV file or builtin:NAME")
    kwargs = _kwargs(args.model_kwargs)
    path, factory = parse_model_spec(args.model)
    dataset = load_dataset(args)
    model = load_model(args.model, dataset.n_features, dataset.n_outputs, kwargs)
    x, y = batch(dataset, args.batch, args.seed)
    started = time.perf_counter()
    samples = getattr(args, "samples_per_tensor", None)
    report = check_model(model, x, y, h=args.h, rtol=args.rtol, atol=args.atol, seed=args.seed,
                         samples_per_tensor=samples,
                         phases=_PHASES[getattr(args, "phase", "auto") or "auto"])
    elapsed = time.perf_counter() - started
    description = f"{source} ({dataset.task}), model {path.name}:{factory}"
    if args.json:
        data = report.to_dict()
        for phase in data["phases"].values():
            phase["settings"].update({"source": description, "model_file": str(Path(path)),
                                      "factory": factory, "model_kwargs": kwargs})
        data["elapsed_seconds"] = round(elapsed, 4)
        print(json.dumps(json_safe(data), indent=1, allow_nan=False))
    else:
        print(description)
        print(report.format_text())
        print(f"({elapsed:.2f} s)")
    return 0 if report.passed else 1


def _kwargs(text: str | None) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"--model-kwargs is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"--model-kwargs must be a JSON object ({{...}}), got {text!r}")
    return value
