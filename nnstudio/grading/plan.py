"""The inputs the parent chooses for every check, and the calls it asks a child to make.

For a layer (functions convention) and a check with seed ``s``: a batch ``x`` (data rows,
through the ``before`` layers), parameter values drawn around their init, the layer's
parameter dict with ``mode`` and realistic state (running mean and variance near the batch's),
and the upstream gradient ``G`` (random, or the gradient the ``after`` layers and the loss send
back). The checked objective is ``L = sum(out * G)``; its central differences come from forward
calls at θ ± h, one element at a time, its analytic gradient from one forward + backward.
For a model: parameters near the reference model's own init, a batch ``(X, y)``, and
``loss(X, y)`` at θ ± h against the returned ``grads``.

Nothing here is shown to a student: seeds, G and the elements sampled stay in the parent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .assignment import Assignment, Check


#: The second look: every element is also differenced at h / CONFIRM_FACTOR. A wrong backward
#: disagrees at both steps; truncation error (∝ h²) and a switch crossed inside the step (a
#: kink) do not survive the smaller step — as ``nnstudio gradcheck`` confirms a mismatch.
CONFIRM_FACTOR = 10.0


@dataclass
class Probe:
    """One checked element: tensor, flat index, and the ids of its f(θ ± h) and
    f(θ ± h/CONFIRM_FACTOR) calls."""
    tensor: str
    index: int
    plus: int
    minus: int
    fine_plus: int
    fine_minus: int

    @property
    def ids(self) -> tuple[int, int, int, int]:
        return self.plus, self.minus, self.fine_plus, self.fine_minus


@dataclass
class CheckPlan:
    """The calls of one check and the parent-side values needed to score them."""
    check: Check
    base: int                                  # the forward(+backward) call at θ
    tensors: dict[str, tuple] = field(default_factory=dict)   # name -> expected shape
    grad_names: dict[str, str] = field(default_factory=dict)  # tensor -> returned array name
    probes: list[Probe] = field(default_factory=list)
    weight: np.ndarray | None = None           # G for a layer; None for a model (L = loss)
    out_shape: tuple | None = None
    state: list[str] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # θ: x and params, or a model's


@dataclass
class Plan:
    request: dict
    checks: list[CheckPlan]


def rng_for(check: Check, purpose: int) -> np.random.Generator:
    return np.random.default_rng([check.seed, purpose])


def layer_inputs(assignment: Assignment, check: Check, batch) -> dict:
    """x, params (name -> array), layer_param (with arrays), output width: all seeded."""
    spec = assignment.functions
    assert spec is not None  # a layer assignment has its functions
    x = batch.x(check)
    width = x.shape[1]
    rng = rng_for(check, 1)
    sizes = {"D": width, "units": spec.units}
    params = {}
    for param in spec.params:
        shape = tuple(sizes[s] if isinstance(s, str) else s for s in param.shape)
        noise = rng.standard_normal(shape)
        if param.init == "ones":
            params[param.name] = 1.0 + 0.3 * noise
        elif param.init == "zeros":
            params[param.name] = 0.3 * noise
        else:
            params[param.name] = noise / np.sqrt(shape[0])
    layer_param = None
    if spec.layer_param is not None:
        layer_param = dict(spec.layer_param, mode=check.mode)
        mean, std = x.mean(axis=0), x.std(axis=0)
        for key, fill in spec.state.items():
            if fill == "mean":
                layer_param[key] = mean + 0.3 * std * rng.standard_normal(width)
            elif fill == "var":
                layer_param[key] = std ** 2 * rng.uniform(0.5, 1.5, width) + 1e-3
            else:
                layer_param[key] = np.full(width, 1.0 if fill == "ones" else 0.0)
    out_width = spec.units if spec.output == "units" else width
    return {"x": x, "params": params, "layer_param": layer_param, "out_width": out_width}


def _deltas(check: Check) -> tuple[float, float, float, float]:
    fine = check.h / CONFIRM_FACTOR
    return check.h, -check.h, fine, -fine


def _elements(check: Check, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    size = int(np.prod(shape))
    if check.samples_per_tensor is None or check.samples_per_tensor >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=check.samples_per_tensor, replace=False))


class _Builder:
    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self.arrays: dict[str, dict] = {}
        self.calls: list[dict] = []

    def array(self, name: str, value: np.ndarray) -> dict:
        value = np.asarray(value, dtype=np.float64)
        self.arrays[name] = {"shape": list(value.shape), "data": value.ravel().tolist()}
        return {"array": name}

    def call(self, **fields) -> int:
        fields["id"] = len(self.calls)
        self.calls.append(fields)
        return fields["id"]


def layer_plan(assignment: Assignment, batch, douts: dict[str, np.ndarray]) -> Plan:
    """Every check's calls for a layer; ``douts[check.name]`` is its G (from
    :func:`upstream_gradient`, chosen before any student runs)."""
    spec = assignment.functions
    assert spec is not None  # a layer assignment has its functions
    builder = _Builder(assignment)
    plans = []
    for number, check in enumerate(assignment.checks):
        inputs = layer_inputs(assignment, check, batch)
        prefix = f"c{number}."
        refs = {"x": builder.array(prefix + "x", inputs["x"])}
        refs.update({name: builder.array(prefix + name, value)
                     for name, value in inputs["params"].items()})
        param_ref = None
        if inputs["layer_param"] is not None:
            param_ref = {key: builder.array(f"{prefix}param.{key}", value)
                         if isinstance(value, np.ndarray) else value
                         for key, value in inputs["layer_param"].items()}
        weight = douts[check.name]
        order = ["x", *[p.name for p in spec.params]]
        common = {"forward": spec.forward, "param": param_ref, "seed": check.seed,
                  "returns_cache": True}
        grad_names = ["dx", *[f"d{p.name}" for p in spec.params]]
        base = builder.call(op="forward_backward", backward=spec.backward,
                            args=[refs[name] for name in order],
                            dout=builder.array(prefix + "dout", weight), grad_names=grad_names,
                            state=list(spec.state) if check.mode == "train" else [],
                            context=f"forward and backward, mode {check.mode!r}", **common)
        plan = CheckPlan(check, base, weight=weight, out_shape=weight.shape,
                         state=list(spec.state) if check.mode == "train" else [])
        values = {"x": inputs["x"], **inputs["params"]}
        plan.values = values
        rng = rng_for(check, 3)
        for name, grad_name in zip(order, grad_names):
            plan.tensors[name] = values[name].shape
            plan.grad_names[name] = grad_name
            if check.kind != "gradient":
                continue
            for index in _elements(check, values[name].shape, rng):
                ids = []
                for delta in _deltas(check):
                    args = [dict(refs[n], perturb=[int(index), delta]) if n == name else refs[n]
                            for n in order]
                    ids.append(builder.call(op="forward", args=args, state=[],
                                            context=f"forward, mode {check.mode!r}", **common))
                plan.probes.append(Probe(name, int(index), *ids))
        plans.append(plan)
    request = {"file": assignment.file, "convention": "functions", "arrays": builder.arrays,
               "calls": builder.calls}
    return Plan(request, plans)


def model_plan(assignment: Assignment, batch, initial: dict[str, np.ndarray]) -> Plan:
    """Every check's calls for a model; ``initial`` holds the reference model's params."""
    builder = _Builder(assignment)
    plans = []
    for number, check in enumerate(assignment.checks):
        rng = rng_for(check, 1)
        x, y = batch.xy(check)
        prefix = f"c{number}."
        params, refs = {}, {}
        for name, value in initial.items():
            spread = float(np.std(value)) or 0.1
            params[name] = value + 0.3 * spread * rng.standard_normal(value.shape)
            refs[name] = builder.array(prefix + name, params[name])
        x_ref = builder.array(prefix + "X", x)
        common = {"x": x_ref, "y": [int(v) for v in y], "mode": check.mode, "seed": check.seed,
                  "context": f"loss(X, y), mode {check.mode!r}"}
        base = builder.call(op="model_loss", params=refs, grads=True, **common)
        plan = CheckPlan(check, base, values=params)
        prng = rng_for(check, 3)
        for name, value in params.items():
            plan.tensors[name] = value.shape
            plan.grad_names[name] = f"grad.{name}"
            if check.kind != "gradient":
                continue
            for index in _elements(check, value.shape, prng):
                ids = [builder.call(op="model_loss", grads=False, **common,
                                    params={n: dict(r, perturb=[int(index), delta]) if n == name
                                            else r for n, r in refs.items()})
                       for delta in _deltas(check)]
                plan.probes.append(Probe(name, int(index), *ids))
        plans.append(plan)
    spec = assignment.model
    assert spec is not None  # a model assignment has its model
    request = {"file": assignment.file, "convention": "model", "arrays": builder.arrays,
               "calls": builder.calls, "factory": spec.factory,
               "factory_kwargs": dict(spec.kwargs, input_dim=batch.width,
                                      num_classes=batch.classes)}
    return Plan(request, plans)


def forward_only_request(assignment: Assignment, batch) -> dict:
    """The reference's outputs at θ for every check: what ``dout = "network"`` starts from."""
    plan = layer_plan(assignment, batch, {c.name: np.zeros((1, 1)) for c in assignment.checks})
    calls = [dict(plan.request["calls"][p.base], op="forward", state=[]) for p in plan.checks]
    for number, call in enumerate(calls):
        call["id"] = number
    return dict(plan.request, calls=calls)


def params_request(assignment: Assignment, batch) -> dict:
    """Ask the reference model for its initial params (their names and shapes)."""
    spec = assignment.model
    assert spec is not None  # a model assignment has its model
    return {"file": assignment.file, "convention": "model", "arrays": {}, "factory": spec.factory,
            "factory_kwargs": dict(spec.kwargs, input_dim=batch.width, num_classes=batch.classes),
            "calls": [{"id": 0, "op": "model_params", "context": "building the model"}]}
