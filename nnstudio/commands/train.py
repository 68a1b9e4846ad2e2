"""``nnstudio train``: train on a CSV file or a built-in dataset, or continue a saved project.

    nnstudio train DATA.csv --target COLUMN --layers "dense:16,batchnorm,relu" --save run.nnproj
    nnstudio train builtin:two_spirals --layers "dense:32,relu,dense:32,relu" --epochs 300
    nnstudio train run.nnproj --epochs 50          # continues, and saves back to run.nnproj

Exit codes: 0 trained, 1 training diverged (the last good weights are kept and saved),
2 bad input (a message naming the problem, no traceback).
"""
from __future__ import annotations

import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from nnstudio.data import LoadOptions, load_csv, make_builtin
from nnstudio.data.filecheck import file_problem
from nnstudio.engine import build_network
from nnstudio.engine.context import AUTO, BN_STATS_CHOICES
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.project import load_project, save_project
from nnstudio.project.archive import check_writable
from nnstudio.training import BatchSnapshot, DivergedSnapshot, EpochSnapshot, TrainConfig, Trainer
from nnstudio.training.health import find_problems
from nnstudio.training.snapshots import json_float

from .info import network_summary

DEFAULTS = {"layers": "dense:16,relu", "epochs": 100, "batch_size": 32, "optimizer": "adam",
            "lr": 0.01, "momentum": 0.9, "l1": 0.0, "l2": 0.0, "val_split": 0.15,
            "test_split": 0.15, "seed": 0, "bn_stats": AUTO, "missing": "drop",
            "samples": 500, "noise": 0.1}
#: options that define the data or the architecture, fixed once a project exists
FIXED_IN_PROJECT = ("target", "task", "layers", "val_split", "test_split", "seed", "missing",
                    "samples", "noise")
TRAINING_OPTIONS = ("batch_size", "optimizer", "lr", "momentum", "l1", "l2", "bn_stats")


def add_arguments(parser) -> None:
    parser.add_argument("data", help="a CSV file, builtin:NAME (iris, two_spirals, xor, circles, "
                                     "gaussians, regression_surface) or a .nnproj project to continue")
    data = parser.add_argument_group("data (new runs only)")
    data.add_argument("--target", help="column to predict (default: the last column)")
    data.add_argument("--task", choices=("classification", "regression"),
                      help="default: inferred from the target column")
    data.add_argument("--val-split", type=float, help="validation share of the rows (default 0.15)")
    data.add_argument("--test-split", type=float, help="test share of the rows (default 0.15)")
    data.add_argument("--missing", choices=("drop", "mean", "most_frequent"),
                      help="missing feature values: drop the row (default) or fill them")
    data.add_argument("--no-standardize", action="store_true", help="keep features in their units")
    data.add_argument("--no-standardize-target", action="store_true",
                      help="regression: train on the target in its own units (default: "
                           "standardized on the training split; RMSE is reported in its units)")
    data.add_argument("--samples", type=int, help="points of a generated built-in dataset (default 500)")
    data.add_argument("--noise", type=float, help="noise of a generated built-in dataset, 0..1 (default 0.1)")
    model = parser.add_argument_group("network and training")
    model.add_argument("--layers", help='hidden layers, e.g. "dense:16,batchnorm,relu,dropout:0.2"; '
                                        "the output layer is added (default dense:16,relu)")
    model.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                       help="load layers from a Python file first (runs its code): Layer "
                            "subclasses, layer functions or a cs231n layers.py; repeatable")
    model.add_argument("--epochs", type=int, help="epochs to train (default 100; for a project: "
                                                  "up to its configured epochs, or this many more)")
    model.add_argument("--batch-size", type=int, help="default 32")
    model.add_argument("--optimizer", choices=("sgd", "adam"), help="default adam")
    model.add_argument("--lr", type=float, help="learning rate (default 0.01)")
    model.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    model.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    model.add_argument("--l1", type=float, help="L1 penalty weight (default 0)")
    model.add_argument("--l2", type=float, help="L2 penalty weight (default 0)")
    model.add_argument("--bn-stats", choices=BN_STATS_CHOICES,
                       help="BatchNorm statistics while training (default auto)")
    model.add_argument("--seed", type=int, help="seed of the split, weights, shuffling, dropout (default 0)")
    out = parser.add_argument_group("output")
    out.add_argument("--save", metavar="FILE.nnproj", help="save the project (a continued project "
                                                           "is saved back to its file by default)")
    out.add_argument("--embed-data", action="store_true", help="store a copy of the data in the project")
    out.add_argument("--strict", action="store_true",
                     help="refuse to continue a project whose optimizer state is missing "
                          "(default: warn and start it afresh)")
    out.add_argument("--json", action="store_true",
                     help="print final metrics and per-epoch history as one JSON object")


def run(args) -> int:
    for path in getattr(args, "custom_layer", []):
        load_custom_layers(path)
    save_path: Path | None
    if _is_project(args.data):
        trainer, source, epochs, save_path = _continue_project(args)
    else:
        trainer, source, epochs, save_path = _new_run(args)
    if save_path is not None:  # say so before training, not after
        check_writable(save_path)
    _warn_left_out(trainer.dataset)
    reporter = ProgressReporter(sys.stderr, trainer, epochs, enabled=not args.json)
    diverged = None
    try:
        for snapshot in trainer.run(epochs):
            reporter.update(snapshot)
            if isinstance(snapshot, DivergedSnapshot):
                diverged = snapshot
    except KeyboardInterrupt:
        reporter.finish()
        if save_path is not None:  # every yield leaves a consistent, resumable state
            save_project(save_path, trainer.network, source, trainer, embed_data=args.embed_data)
            print(f"interrupted; progress saved to {save_path}", file=sys.stderr)
        raise
    reporter.finish()
    if save_path is not None:
        save_project(save_path, trainer.network, source, trainer, embed_data=args.embed_data)
    report = _report(trainer, diverged, save_path)
    if args.json:
        print(json.dumps(report, indent=1, allow_nan=False))
    else:
        print(_text(report))
    if diverged is not None:
        print(f"nnstudio train: {diverged.message}", file=sys.stderr)
        return 1
    return 0


def _is_project(spec: str) -> bool:
    """A project by its suffix, or by being a zip archive (a CSV file never is).

    Only a regular file is opened to look: a FIFO would block; the CSV reader refuses it.
    """
    if spec.endswith(".nnproj"):
        return True
    return not spec.startswith("builtin:") and file_problem(spec) is None and zipfile.is_zipfile(spec)


def _warn_left_out(dataset) -> None:
    """Every column the data left out, and why, so nothing goes missing silently."""
    report = getattr(dataset, "report", None)
    for column in getattr(report, "columns", None) or []:
        if not column.used and column.kind != "target":
            print(f"nnstudio train: note: column {column.name!r} {column.note or 'left out'}",
                  file=sys.stderr)


def _new_run(args) -> tuple[Trainer, Any, int, Path | None]:
    settings: dict[str, Any] = {key: DEFAULTS[key] if getattr(args, key, None) is None
                                else getattr(args, key) for key in DEFAULTS}
    dataset = _load_data(args.data, args, settings)
    network = build_network(settings["layers"], dataset.n_features, dataset.task, dataset.n_outputs,
                            seed=settings["seed"])
    config = TrainConfig(optimizer=settings["optimizer"], lr=settings["lr"],
                         momentum=settings["momentum"], nesterov=args.nesterov, l1=settings["l1"],
                         l2=settings["l2"], batch_size=settings["batch_size"],
                         epochs=settings["epochs"], seed=settings["seed"], bn_stats=settings["bn_stats"])
    save_path = Path(args.save) if args.save else None
    return Trainer(network, dataset, config), dataset, config.epochs, save_path


def _load_data(spec: str, args, settings: dict[str, Any]):
    fractions = dict(val_fraction=settings["val_split"], test_fraction=settings["test_split"],
                     seed=settings["seed"], standardize=not args.no_standardize,
                     standardize_target=not args.no_standardize_target)
    if spec.startswith("builtin:"):
        if args.target or args.task or args.missing:
            raise ValueError("--target, --task and --missing do not apply to built-in datasets")
        return make_builtin(spec.removeprefix("builtin:"), n_samples=settings["samples"],
                            noise=settings["noise"], **fractions)
    if args.samples is not None or args.noise is not None:
        raise ValueError("--samples and --noise apply only to generated built-in datasets")
    options = LoadOptions(target=args.target, task=args.task, missing=settings["missing"], **fractions)
    return load_csv(spec, options)


def _continue_project(args) -> tuple[Trainer, Any, int | None, Path]:
    fixed = [f"--{name.replace('_', '-')}" for name in FIXED_IN_PROJECT if getattr(args, name) is not None]
    if args.no_standardize:
        fixed.append("--no-standardize")
    if args.no_standardize_target:
        fixed.append("--no-standardize-target")
    if fixed:
        raise ValueError(f"{', '.join(fixed)} cannot change when continuing a project; "
                         "start a new run from the data file instead")
    project = load_project(args.data)
    for note in project.custom_layer_notes:
        print(f"note: {note}", file=sys.stderr)
    trainer = project.make_trainer(strict=args.strict)
    for note in project.resume_notes:
        print(f"nnstudio train: warning: {note} (use --strict to refuse)", file=sys.stderr)
    changes = {name: getattr(args, name) for name in TRAINING_OPTIONS if getattr(args, name) is not None}
    if args.nesterov:
        changes["nesterov"] = True
    if changes:
        trainer.update_config(**changes)
    epochs = args.epochs
    if epochs is None and trainer.epoch >= trainer.config.epochs:
        epochs = 0  # already done: nothing to train unless --epochs asks for more
    source = project.data_source
    return trainer, source, epochs, Path(args.save) if args.save else project.path


def _report(trainer: Trainer, diverged: DivergedSnapshot | None, save_path: Path | None) -> dict:
    """The JSON object of ``--json``: final metrics per split, the history, the outcome."""
    dataset = trainer.dataset
    final = {split: {key: json_float(value) if isinstance(value, float) else value
                     for key, value in trainer.evaluate(split).items()}
             for split in ("train", "val", "test")}
    return {
        "status": "diverged" if diverged is not None else "ok",
        "data": {"source": str(dataset.source), "task": dataset.task, "target": dataset.target,
                 "features": dataset.n_features, "outputs": dataset.n_outputs,
                 "rows": {split: int(len(getattr(dataset, f"x_{split}"))) for split in ("train", "val", "test")}},
        "network": network_summary(trainer.network),
        "config": trainer.config.to_dict(),
        "epochs": trainer.epoch, "steps": trainer.step, "elapsed": round(trainer.elapsed, 3),
        "metric_name": trainer.metric_name,
        "final": final,
        "history": trainer.history,
        "diverged": None if diverged is None else diverged.to_dict(),
        "findings": [finding.to_dict() for finding in
                     find_problems(trainer.history, dataset.task, dataset.n_outputs)],
        "saved": None if save_path is None else str(save_path),
    }


def _text(report: dict) -> str:
    name = report["metric_name"]
    lines = [f"trained {report['epochs']} epochs ({report['steps']} steps) in {report['elapsed']:.2g} s"]
    for split, numbers in report["final"].items():
        if numbers["n"]:
            rmse = f"  RMSE {_fmt(numbers['rmse'])}" if numbers.get("rmse") is not None else ""
            lines.append(f"  {split:<5} loss {_fmt(numbers['loss'])}  {name} {_fmt(numbers['metric'])}"
                         f"{rmse}  ({numbers['n']} rows)")
    if report["findings"]:
        lines.append("layer health:")
        lines.extend(f"  epoch {finding['epoch']}: {finding['message']}" for finding in report["findings"])
    elif any("layers" in entry for entry in report["history"]):
        lines.append("layer health: no findings")
    if report["saved"]:
        lines.append(f"saved to {report['saved']}")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


class ProgressReporter:
    """A progress bar with loss and ETA on a terminal; a line per tenth of the run otherwise.

    Redraws at most ten times a second, so a fast run is not slowed down by its own bar.
    """

    def __init__(self, stream, trainer: Trainer, epochs: int | None, enabled: bool = True) -> None:
        self.stream, self.trainer = stream, trainer
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.lines = enabled and not self.tty
        self.target = trainer.config.epochs if epochs is None else trainer.epoch + epochs
        self.start = (trainer.epoch, trainer.step, trainer.elapsed, trainer.batch)
        self.every = max(1, (self.target - trainer.epoch) // 10)
        self.last_draw, self.drawn = 0.0, False
        self.last_epoch: EpochSnapshot | None = None

    def update(self, snapshot) -> None:
        if isinstance(snapshot, EpochSnapshot):
            self.last_epoch = snapshot
            if self.lines and (snapshot.epoch % self.every == 0 or snapshot.epoch == self.target):
                print(self._status(snapshot.epoch, snapshot.train_loss, snapshot.elapsed, snapshot.step),
                      file=self.stream, flush=True)
        if self.tty and isinstance(snapshot, (BatchSnapshot, EpochSnapshot)):
            now = time.monotonic()
            if now - self.last_draw >= 0.1 or isinstance(snapshot, EpochSnapshot):
                loss = snapshot.loss if isinstance(snapshot, BatchSnapshot) else snapshot.train_loss
                self.stream.write("\r" + self._status(snapshot.epoch, loss, snapshot.elapsed,
                                                      snapshot.step, bar=True) + "\x1b[K")
                self.stream.flush()
                self.last_draw, self.drawn = now, True

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def _status(self, epoch: int, loss: float, elapsed: float, step: int, bar: bool = False) -> str:
        start_epoch, start_step, start_elapsed, start_batch = self.start
        total = max(1, (self.target - start_epoch) * self.trainer.batches_per_epoch - start_batch)
        done = step - start_step
        text = f"epoch {epoch}/{self.target}"
        if bar:
            filled = min(20, int(20 * done / total))
            text += " [" + "#" * filled + "." * (20 - filled) + "]"
        text += f"  loss {loss:.4f}"
        if self.last_epoch is not None and self.last_epoch.val_metric is not None:
            text += f"  val {self.last_epoch.metric_name} {self.last_epoch.val_metric:.3f}"
        if done > 0:
            remaining = (elapsed - start_elapsed) / done * max(total - done, 0)
            text += f"  ETA {int(remaining // 60)}:{int(remaining % 60):02d}"
        return text
