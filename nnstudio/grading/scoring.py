"""Scores computed in the parent from the child's plain arrays, with the checker's verdict rule.

Every value a child returned is a float64 copy; here its shape is compared with the shape
the parent expects and its finiteness is checked before any arithmetic. Central differences
of ``L = sum(out * G)`` (or the model's loss) are formed here, and each element is judged by
``nnstudio.engine.gradcheck.verdict`` — the same rule ``nnstudio gradcheck`` uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnstudio.engine.gradcheck import verdict
from nnstudio.engine.gradcheck.results import MISMATCH, OK
from nnstudio.engine.gradcheck.verdict import CODE_OK, classify, errors, violation
from nnstudio.engine.json_values import finite_or_none

from .plan import CONFIRM_FACTOR, CheckPlan
from .sandbox import MAX_LOG_BYTES, CallResult

#: a tensor's status beyond the gradient checker's verdicts OK and MISMATCH
SHAPE, NONFINITE, FAILED = "wrong shape", "not finite", "error"


@dataclass
class TensorResult:
    """One tensor of one check. ``rel_error`` has the tensor's shape, NaN where unchecked."""
    name: str
    status: str
    shape: tuple
    checked: int = 0
    mismatches: int = 0
    max_rel_error: float = 0.0
    message: str = ""
    rel_error: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "shape": list(self.shape),
                "checked": self.checked, "mismatches": self.mismatches,
                "max_rel_error": finite_or_none(self.max_rel_error), "message": self.message}


@dataclass
class CheckResult:
    name: str
    kind: str
    mode: str
    points: float
    max_points: float
    tensors: list[TensorResult] = field(default_factory=list)
    message: str = ""
    error: dict | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(t.status == OK for t in self.tensors)

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "mode": self.mode,
                "points": round(self.points, 6), "max_points": self.max_points,
                "passed": self.passed, "message": self.message, "error": self.error,
                "tensors": [t.to_dict() for t in self.tensors]}


def score_check(plan: CheckPlan, calls: dict[int, CallResult],
                reference: dict[int, CallResult] | None) -> CheckResult:
    check = plan.check
    result = CheckResult(check.name, check.kind, check.mode, 0.0, check.points)
    failed = _first_error(plan, calls)
    if failed is not None:
        result.error = failed
        result.message = explain_error(failed)
        result.tensors = [TensorResult(display_name(plan.grad_names[name]), FAILED, shape)
                          for name, shape in plan.tensors.items()]
        return result
    if check.kind == "gradient":
        trusted = calls[plan.base] if reference is None else reference[plan.base]
        result.tensors = _gradient_tensors(plan, calls, noise_floor(plan, trusted))
    else:
        assert reference is not None  # a reference check is scored with the reference's calls
        result.tensors = _reference_tensors(plan, calls[plan.base], reference[plan.base])
    good = sum(t.status == OK for t in result.tensors)
    if check.partial == "tensor" and result.tensors:
        result.points = check.points * good / len(result.tensors)
    else:
        result.points = check.points if good == len(result.tensors) else 0.0
    bad = [t for t in result.tensors if t.status != OK]
    result.message = bad[0].message if bad else f"all {len(result.tensors)} tensors agree"
    return result


def _first_error(plan: CheckPlan, calls: dict[int, CallResult]) -> dict | None:
    ids = [plan.base] + [i for p in plan.probes for i in p.ids]
    for call_id in ids:
        answer = calls.get(call_id)
        if answer is None:
            return {"type": "NoAnswer", "message": "the submission stopped before answering",
                    "file": None, "line": None}
        if answer.error is not None:
            return answer.error
    return None


def objective(plan: CheckPlan, answer: CallResult) -> float | str:
    """L at one call, or a message saying why the returned output cannot be used."""
    if plan.weight is None:
        loss = answer.arrays.get("loss")
        if loss is None or loss.size != 1:
            return f"loss(X, y) returned a loss of shape {None if loss is None else loss.shape}, not a number"
        value = float(loss.reshape(-1)[0])
    else:
        out = answer.arrays.get("out")
        if out is None or out.shape != plan.out_shape:
            return (f"forward returned out of shape {None if out is None else out.shape}; "
                    f"expected {plan.out_shape}")
        value = float(np.sum(out * plan.weight))
    return value if np.isfinite(value) else "the output contains NaN or infinity"


def noise_floor(plan: CheckPlan, trusted: CallResult) -> float:
    """The absolute floor of the verdict rule: ``atol`` when the assignment fixes it, else
    the rounding error of one evaluation of L, FLOOR_SAFETY·ε·S/h as ``nnstudio gradcheck``
    estimates it. S (first-order error analysis) sums |value · ∂L/∂value| over the output,
    the inputs and the parameters — taken from the *reference's* answers, so a submission
    cannot widen its own tolerance by returning huge gradients."""
    check = plan.check
    if check.atol is not None:
        return check.atol
    level = objective(plan, trusted)
    total = abs(level) if not isinstance(level, str) else 0.0
    if plan.weight is None:
        total += 1.0  # softmax cross-entropy: the log of a sum >= 1 per row
    else:
        total += float(np.abs(trusted.arrays["out"] * plan.weight).sum())
    for name, value in plan.values.items():
        grad = trusted.arrays.get(plan.grad_names[name])
        if grad is not None and grad.shape == value.shape:
            total += float(np.abs(value * grad).sum())
    return verdict.noise_floor(total, check.h)


def _gradient_tensors(plan: CheckPlan, calls: dict[int, CallResult],
                      floor: float) -> list[TensorResult]:
    check = plan.check
    base = calls[plan.base]
    level = objective(plan, base)
    tensors = []
    for name, shape in plan.tensors.items():
        label = plan.grad_names[name]
        analytic = base.arrays.get(label)
        shown = display_name(label)
        if isinstance(level, str):
            tensors.append(TensorResult(shown, NONFINITE if "NaN" in level else SHAPE, shape,
                                        message=f"mode {check.mode}: {level}"))
            continue
        if analytic is None or analytic.shape != tuple(shape):
            got = None if analytic is None else analytic.shape
            tensors.append(TensorResult(shown, SHAPE, shape, message=(
                f"mode {check.mode}: {shown} has shape {got}, {name} has {tuple(shape)}")))
            continue
        probes = [p for p in plan.probes if p.tensor == name]
        values = [[objective(plan, calls[i]) for i in probe.ids] for probe in probes]
        bad = next((v for row in values for v in row if isinstance(v, str)), None)
        if bad is not None:
            tensors.append(TensorResult(shown, NONFINITE if "NaN" in bad else SHAPE, shape,
                                        message=f"mode {check.mode}: {bad}"))
            continue
        index = np.array([p.index for p in probes], dtype=np.int64)
        numeric, floors = _better_estimate(analytic.reshape(-1)[index],
                                           np.array(values, dtype=np.float64).reshape(-1, 4),
                                           check, floor)
        tensors.append(_judge(shown, shape, analytic.reshape(-1)[index], numeric, index,
                              check.rtol, floors, check.mode,
                              "the central differences at h and at h/10"))
    return tensors


def _better_estimate(analytic: np.ndarray, values: np.ndarray, check,
                     floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Per element, the central difference (at h or h/CONFIRM_FACTOR) that agrees better, and
    its floor (rounding grows like 1/h). values: (P, 4) f(θ+h), f(θ−h), f(θ+h'), f(θ−h')."""
    fine_h = check.h / CONFIRM_FACTOR
    coarse = (values[:, 0] - values[:, 1]) / (2 * check.h)
    fine = (values[:, 2] - values[:, 3]) / (2 * fine_h)
    fine_floor = floor * CONFIRM_FACTOR if check.atol is None else floor
    abs_c, _, scale_c = errors(analytic, coarse)
    abs_f, _, scale_f = errors(analytic, fine)
    use_fine = (violation(abs_f, scale_f, check.rtol, fine_floor)
                < violation(abs_c, scale_c, check.rtol, floor))
    return (np.where(use_fine, fine, coarse),
            np.where(use_fine, fine_floor, floor).astype(np.float64))


def _reference_tensors(plan: CheckPlan, mine: CallResult, theirs: CallResult) -> list[TensorResult]:
    check = plan.check
    tensors = []
    for name, expected in theirs.arrays.items():
        got = mine.arrays.get(name)
        shown = display_name(name)
        if got is None or got.shape != expected.shape:
            tensors.append(TensorResult(shown, SHAPE, expected.shape, message=(
                f"mode {check.mode}: {shown} has shape {None if got is None else got.shape}, "
                f"the reference's has {expected.shape}")))
            continue
        index = np.arange(expected.size)
        tensors.append(_judge(shown, expected.shape, got.reshape(-1), expected.reshape(-1),
                              index, check.rtol, check.atol if check.atol is not None else 1e-12,
                              check.mode, "the reference solution"))
    return tensors


def display_name(label: str) -> str:
    """What a student calls it: ``dgamma``, ``running_mean``, a model's own key ``W1``."""
    return label.removeprefix("grad.").removeprefix("state.")


def _judge(shown: str, shape: tuple, analytic: np.ndarray, numeric: np.ndarray,
           index: np.ndarray, rtol: float, atol, mode: str, against: str) -> TensorResult:
    """Verdicts of one tensor's elements; ``atol`` is a number or one floor per element."""
    if not np.all(np.isfinite(analytic)):
        return TensorResult(shown, NONFINITE, tuple(shape), checked=len(index),
                            message=f"mode {mode}: {shown} contains NaN or infinity")
    abs_error, rel_error, scale = errors(analytic, numeric)
    codes = classify(abs_error, scale, np.zeros(len(index), bool), rtol, atol)
    worst = violation(abs_error, scale, rtol, atol)
    heat = np.full(int(np.prod(shape)), np.nan)
    heat[index] = rel_error
    mismatches = int(np.sum(codes != CODE_OK))
    largest = float(rel_error.max()) if len(rel_error) else 0.0
    result = TensorResult(shown, OK if mismatches == 0 else MISMATCH, tuple(shape), len(index),
                          mismatches, largest, rel_error=heat.reshape(shape))
    if mismatches:
        at = np.unravel_index(int(index[int(np.argmax(worst))]), shape) if shape else ()
        result.message = (f"mode {mode}: {shown} is wrong — {mismatches} of {len(index)} "
                          f"elements disagree with {against} (largest relative error "
                          f"{largest:.2g}, worst at {shown}[{', '.join(map(str, at))}])")
    return result


def explain_error(error: dict) -> str:
    """The student's exception in plain words, with their file and line."""
    where = f" at {error['file']}:{error['line']}" if error.get("file") and error.get("line") else ""
    context = f" ({error['context']})" if error.get("context") else ""
    if error.get("type") == "MemoryError":
        return f"ran out of memory{where}{context}: the memory limit was reached"
    if error.get("type") == "OSError" and "[Errno 27]" in str(error.get("message")):
        return (f"wrote more than {MAX_LOG_BYTES // 2**20} MB (printed output or files; the "
                f"limit){where}{context}")
    if error.get("contract"):
        return f"{error.get('message')}{context}"
    return f"{error.get('type')}{where}: {error.get('message')}{context}"
