"""The assignment file (TOML): what to grade, on which inputs, for how many points.

A complete example is ``resources/examples/grading/batchnorm.toml``; every key is described
in the README ("Grading a class"). Unknown keys are refused, so a typo never silently falls
back to a default. Every error names the file and the key.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from .sandbox import Limits

CONVENTIONS = ("functions", "model")
CHECK_KINDS = ("gradient", "reference")
MODES = ("train", "test")
PARTIAL = ("tensor", "all")
INITS = ("ones", "zeros", "normal")
STATE_FILLS = ("mean", "var", "zeros", "ones")


class AssignmentError(ValueError):
    """A bad assignment file; the message names the file and the key."""


@dataclass(frozen=True)
class Param:
    """A learned argument of the student's forward, after ``x``: its shape and init."""
    name: str
    shape: tuple            # entries: "D" (input width), "units", or ints
    init: str = "normal"    # the grader draws values *around* this init from the check seed


@dataclass(frozen=True)
class Functions:
    """cs231n layer functions: ``forward(x, *params[, layer_param]) -> (out, cache)``."""
    forward: str = "forward"
    backward: str = "backward"
    params: tuple[Param, ...] = ()
    layer_param: dict | None = None
    state: dict[str, str] = field(default_factory=dict)   # key in layer_param -> fill
    units: int | None = None
    output: str = "D"


@dataclass(frozen=True)
class Model:
    """cs231n ``FullyConnectedNet``: ``FACTORY(input_dim=, num_classes=, **kwargs)``."""
    factory: str = "make_model"
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    kind: str               # "gradient" or "reference"
    mode: str               # "train" or "test"
    points: float
    seed: int
    partial: str = "tensor"
    rtol: float = 1e-4
    atol: float | None = None   # None: gradient checks use the rounding floor; reference 1e-12
    h: float = 1e-5
    samples_per_tensor: int | None = None

    @property
    def column(self) -> str:
        return self.name


@dataclass(frozen=True)
class Data:
    source: str = "generated"   # "generated", "builtin:NAME" or a CSV path (absolute here)
    target: str | None = None
    batch: int = 8
    features: int = 5           # generated data only
    classes: int = 3            # generated data only


@dataclass(frozen=True)
class Assignment:
    path: Path
    name: str
    file: str
    convention: str
    reference: Path
    data: Data
    checks: tuple[Check, ...]
    limits: Limits
    functions: Functions | None = None
    model: Model | None = None
    before: str = ""
    after: str = ""
    dout: str = "random"

    @property
    def max_score(self) -> float:
        return float(sum(check.points for check in self.checks))


def load_assignment(path: str | Path) -> Assignment:
    """Read and validate an assignment file; raises :class:`AssignmentError`."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise AssignmentError(f"{path}: no such assignment file") from None
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"{path}: not valid TOML: {exc}") from None
    reader = _Reader(path)
    return reader.assignment(raw)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.resolve().parent

    def fail(self, key: str, message: str) -> NoReturn:
        raise AssignmentError(f"{self.path}: [{key}] {message}")

    def table(self, raw: dict, key: str, allowed: set[str], required: bool = False) -> dict:
        value = raw.get(key, None)
        if value is None:
            if required:
                self.fail(key, "is missing")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.fail(f"{key}.{unknown[0]}", f"is not a known key (known: {', '.join(sorted(allowed))})")
        return value

    def get(self, table: dict, where: str, key: str, kind, default=None, choices=None):
        if key not in table:
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(f"{where}.{key}", f"must be {getattr(kind, '__name__', kind)}, got {value!r}")
        if choices is not None and value not in choices:
            self.fail(f"{where}.{key}", f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def assignment(self, raw: dict) -> Assignment:
        unknown = sorted(set(raw) - {"assignment", "functions", "model", "data", "network",
                                     "checks", "limits"})
        if unknown:
            self.fail(unknown[0], "is not a known table")
        top = self.table(raw, "assignment", {"name", "file", "convention", "reference"}, True)
        file = self.get(top, "assignment", "file", str)
        if not file or Path(file).is_absolute() or ".." in Path(file).parts:
            self.fail("assignment.file", "must name the submission's file, relative to its folder")
        convention = self.get(top, "assignment", "convention", str, "functions", CONVENTIONS)
        reference = self.get(top, "assignment", "reference", str)
        if not reference:
            self.fail("assignment.reference", "is missing: the reference solution's file")
        reference_path = (self.folder / reference).resolve()
        if not reference_path.is_file():
            self.fail("assignment.reference", f"{reference_path} does not exist")
        functions = self.functions(raw) if convention == "functions" else None
        model = self.model(raw) if convention == "model" else None
        if convention == "functions" and "model" in raw:
            self.fail("model", "only applies with convention = \"model\"")
        if convention == "model" and "functions" in raw:
            self.fail("functions", "only applies with convention = \"functions\"")
        network = self.table(raw, "network", {"before", "after", "dout"})
        dout = self.get(network, "network", "dout", str, "random", ("random", "network"))
        after = self.get(network, "network", "after", str, "")
        if network and convention == "model":
            self.fail("network", "does not apply to a model (its own loss(X, y) is checked)")
        return Assignment(
            path=self.path, name=self.get(top, "assignment", "name", str, file),
            file=file, convention=convention, reference=reference_path, data=self.data(raw),
            checks=self.checks(raw, convention), limits=self.limits(raw), functions=functions,
            model=model, before=self.get(network, "network", "before", str, ""), after=after,
            dout=dout)

    def functions(self, raw: dict) -> Functions:
        table = self.table(raw, "functions", {"forward", "backward", "params", "layer_param",
                                              "state", "units", "output"})
        params = []
        raw_params = table.get("params", {})
        if not isinstance(raw_params, dict):
            self.fail("functions.params", "must be a table of name = { shape, init }")
        for name, spec in raw_params.items():
            where = f"functions.params.{name}"
            if not isinstance(spec, dict):
                self.fail(where, "must be a table like { shape = [\"D\"], init = \"ones\" }")
            extra = sorted(set(spec) - {"shape", "init"})
            if extra:
                self.fail(f"{where}.{extra[0]}", "is not a known key (known: init, shape)")
            shape = spec.get("shape", ["D"])
            if not isinstance(shape, list) or not all(
                    s in ("D", "units") or (isinstance(s, int) and s > 0) for s in shape):
                self.fail(f"{where}.shape", f"entries must be \"D\", \"units\" or positive "
                                            f"integers, got {shape!r}")
            init = spec.get("init", "normal")
            if init not in INITS:
                self.fail(f"{where}.init", f"must be one of {', '.join(INITS)}, got {init!r}")
            params.append(Param(name, tuple(shape), init))
        layer_param = table.get("layer_param")
        if layer_param is not None and not isinstance(layer_param, dict):
            self.fail("functions.layer_param", "must be a table of scalars")
        state = table.get("state", {})
        if not isinstance(state, dict) or not all(v in STATE_FILLS for v in state.values()):
            self.fail("functions.state", f"must map names to one of {', '.join(STATE_FILLS)}")
        if state and layer_param is None:
            self.fail("functions.state", "needs a [functions.layer_param] to keep the state in")
        units = self.get(table, "functions", "units", int)
        output = self.get(table, "functions", "output", str, "D", ("D", "units"))
        uses_units = output == "units" or any("units" in p.shape for p in params)
        if uses_units and (units is None or units < 1):
            self.fail("functions.units", "must be a positive integer (a shape uses \"units\")")
        return Functions(self.get(table, "functions", "forward", str, "forward"),
                         self.get(table, "functions", "backward", str, "backward"),
                         tuple(params), dict(layer_param) if layer_param is not None else None,
                         dict(state), units, output)

    def model(self, raw: dict) -> Model:
        table = self.table(raw, "model", {"factory", "kwargs"})
        kwargs = table.get("kwargs", {})
        if not isinstance(kwargs, dict):
            self.fail("model.kwargs", "must be a table")
        return Model(self.get(table, "model", "factory", str, "make_model"), dict(kwargs))

    def data(self, raw: dict) -> Data:
        table = self.table(raw, "data", {"source", "target", "batch", "features", "classes"})
        source = self.get(table, "data", "source", str, "generated")
        if source != "generated" and not source.startswith("builtin:"):
            csv = (self.folder / source).resolve()
            if not csv.is_file():
                self.fail("data.source", f"{csv} does not exist")
            source = str(csv)
        batch = self.get(table, "data", "batch", int, 8)
        features = self.get(table, "data", "features", int, 5)
        classes = self.get(table, "data", "classes", int, 3)
        for key, value, low in (("batch", batch, 2), ("features", features, 1), ("classes", classes, 2)):
            if value < low or value > 4096:
                self.fail(f"data.{key}", f"must be between {low} and 4096, got {value}")
        return Data(source, self.get(table, "data", "target", str), batch, features, classes)

    def checks(self, raw: dict, convention: str) -> tuple[Check, ...]:
        entries = raw.get("checks")
        if not isinstance(entries, list) or not entries:
            self.fail("checks", "is missing: add at least one [[checks]] table")
        checks, names = [], set()
        allowed = {"name", "kind", "mode", "points", "seed", "partial", "rtol", "atol", "h",
                   "samples_per_tensor"}
        for number, entry in enumerate(entries, start=1):
            where = f"checks.{number}"
            if not isinstance(entry, dict):
                self.fail(where, "must be a table")
            extra = sorted(set(entry) - allowed)
            if extra:
                self.fail(f"{where}.{extra[0]}", f"is not a known key (known: {', '.join(sorted(allowed))})")
            kind = self.get(entry, where, "kind", str, "gradient", CHECK_KINDS)
            mode = self.get(entry, where, "mode", str, "train", MODES)
            name = self.get(entry, where, "name", str, f"{kind} ({mode})")
            if name in names or name in ("student", "score", "max_score", "status"):
                self.fail(f"{where}.name", f"{name!r} is used twice or is a reserved column")
            names.add(name)
            points = self.get(entry, where, "points", float, 1.0)
            if points < 0:
                self.fail(f"{where}.points", "must be >= 0")
            seed = self.get(entry, where, "seed", int, number)
            samples = self.get(entry, where, "samples_per_tensor", int)
            if samples is not None and samples < 1:
                self.fail(f"{where}.samples_per_tensor", "must be >= 1")
            tolerances = {key: self.get(entry, where, key, float, default)
                          for key, default in (("rtol", 1e-4 if kind == "gradient" else 1e-6),
                                               ("atol", None), ("h", 1e-5))}
            if (tolerances["h"] <= 0 or tolerances["rtol"] < 0
                    or (tolerances["atol"] is not None and tolerances["atol"] < 0)):
                self.fail(where, "h must be > 0, rtol and atol >= 0")
            checks.append(Check(name, kind, mode, points, seed,
                                self.get(entry, where, "partial", str, "tensor", PARTIAL),
                                samples_per_tensor=samples, **tolerances))
        return tuple(checks)

    def limits(self, raw: dict) -> Limits:
        table = self.table(raw, "limits", {"wall_seconds", "cpu_seconds", "memory_mb"})
        wall = self.get(table, "limits", "wall_seconds", float, 20.0)
        cpu = self.get(table, "limits", "cpu_seconds", float, 15.0)
        memory = self.get(table, "limits", "memory_mb", int, 1024)
        if wall <= 0 or cpu <= 0 or memory < 64:
            self.fail("limits", "wall_seconds and cpu_seconds must be > 0, memory_mb >= 64")
        return Limits(wall, cpu, memory)
