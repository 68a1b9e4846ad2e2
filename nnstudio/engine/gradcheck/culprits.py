"""Where a wrong gradient starts: the culprit layer, and the layers it only lands on.

Back-propagation hands each layer the gradient of its output and takes back the gradient
of its input. With both checked for every layer, the first wrong one going backwards is
where the error enters: layer k is the **culprit** when the gradient it returns for its
input, or for one of its parameters, disagrees while the gradient reaching its output
agrees — or the loss, when its gradient for the network output disagrees. Layers whose
gradients are wrong only because a wrong gradient reached them are **affected**.
"""
from __future__ import annotations

from dataclasses import dataclass

from .results import INPUT_PARAM, KINK, MISMATCH, OK, UNVERIFIABLE, Problem
from .summary import UNCHECKED, TensorSummary
from .verdict import SEVERITY

CULPRIT, AFFECTED = "culprit", "affected"
_SEVERITY = {**SEVERITY, UNCHECKED: -1}


@dataclass(frozen=True)
class Culprit:
    """One place where an error enters.

    part : "input" (the gradient the layer returns for its input), "parameters", "loss"
        (the loss's gradient for the network output), or the problem kind that made the
        layer fail before any comparison ("shape", "nondeterministic", "non-finite")
    located : False when the gradient reaching the layer could not be verified (rounding
        noise, or not checked): the error then enters here *or after* this layer
    """

    layer_index: int
    label: str
    part: str
    max_rel_error: float | None
    tensors: tuple[str, ...]
    message: str
    located: bool = True

    def to_dict(self) -> dict:
        return {"layer_index": self.layer_index, "label": self.label, "part": self.part,
                "max_rel_error": self.max_rel_error, "tensors": list(self.tensors),
                "located": self.located, "message": self.message}


@dataclass(frozen=True)
class LayerRole:
    """Per layer (index = number of layers for the loss): statuses and what it is.

    role : "culprit", "affected", "ok", "unverifiable", "kink" or "unchecked"
    input, parameters, arriving : statuses of the gradient it returns for its input, of its
        parameters (None without any) and of the gradient reaching its output (None for
        the loss)
    """

    index: int
    label: str
    role: str
    input: str | None
    input_max_rel_error: float | None
    parameters: str | None
    arriving: str | None

    def input_summary(self) -> dict | None:
        if self.input is None:
            return None
        return {"status": self.input, "max_rel_error": self.input_max_rel_error}


def worst_status(statuses) -> str | None:
    present = [s for s in statuses if s is not None]
    return max(present, key=lambda s: _SEVERITY.get(s, 0)) if present else None


def localize(tensors: list[TensorSummary], problems: list[Problem], labels: list[str],
             loss_label: str) -> tuple[list[Culprit], list[LayerRole]]:
    """Culprits and per-layer roles from the tensor summaries of one check.

    labels : ``describe()`` of each layer, in order; the loss comes after them.
    """
    count = len(labels)
    inputs: dict[int, TensorSummary] = {}
    params: dict[int, list[TensorSummary]] = {}
    for tensor in tensors:
        if tensor.info.param == INPUT_PARAM:
            inputs[tensor.info.layer_index] = tensor
        else:
            params.setdefault(tensor.info.layer_index, []).append(tensor)
    culprits: list[Culprit] = [_problem_culprit(p) for p in problems
                               if p.fails and p.layer_index is not None]
    # An irreproducible layer turns every comparison into noise: it alone is to blame.
    noise = any(p.kind == "nondeterministic" for p in problems if p.fails)
    roles = []
    loss_in = inputs.get(count)
    loss_status = _status(loss_in)
    if loss_in is not None and loss_status == MISMATCH and not noise:
        culprits.append(Culprit(count, loss_label, "loss", loss_in.max_rel_error,
                                (loss_in.name,),
                                f"the error enters at the loss ({loss_label}): the gradient it "
                                "returns for the network output is wrong"))
    for index in range(count - 1, -1, -1):
        own_in = inputs.get(index)
        own_params = params.get(index, [])
        status_in = _status(own_in)
        status_params = worst_status(_status(t) for t in own_params)
        arriving = _arriving(inputs.get(index + 1))
        bad_in, bad_params = status_in == MISMATCH, status_params == MISMATCH
        label = labels[index]
        if bad_in or bad_params:
            if arriving == MISMATCH:
                role = AFFECTED
            else:
                role = CULPRIT
                if not noise:
                    culprits += _layer_culprits(
                        index, label, own_in if bad_in else None,
                        [t for t in own_params if _status(t) == MISMATCH], arriving)
        else:
            role = worst_status([status_in, status_params]) or UNCHECKED
        roles.append(LayerRole(index, label, role, status_in,
                               own_in.max_rel_error if own_in else None, status_params, arriving))
    roles.reverse()
    roles.append(LayerRole(count, loss_label,
                           CULPRIT if loss_status == MISMATCH else (loss_status or UNCHECKED),
                           loss_status, loss_in.max_rel_error if loss_in else None, None, None))
    if any(c.part in ("shape", "nondeterministic", "non-finite") for c in culprits):
        failing = {c.layer_index for c in culprits}
        roles = [LayerRole(r.index, r.label, CULPRIT, r.input, r.input_max_rel_error,
                           r.parameters, r.arriving) if r.index in failing else r for r in roles]
    culprits.sort(key=lambda c: c.layer_index)
    return culprits, roles


def _status(tensor: TensorSummary | None) -> str | None:
    return None if tensor is None or tensor.checked == 0 else tensor.status


def _arriving(tensor: TensorSummary | None) -> str | None:
    """The status of the gradient reaching a layer, as evidence: "ok" only when some of
    its elements agree well above the noise floor — all-noise agreement (e.g. a gradient
    zeroed by a bug after it, against a numeric one hidden in rounding) proves nothing."""
    status = _status(tensor)
    if (tensor is not None and status in (OK, KINK) and tensor.evidence == 0
            and tensor.max_abs_error > 0):
        return UNVERIFIABLE
    return status


def _layer_culprits(index: int, label: str, own_in: TensorSummary | None,
                    bad_params: list[TensorSummary], arriving: str | None) -> list[Culprit]:
    located = arriving in (OK, KINK)
    reaching = ("the gradient reaching it is right" if located
                else "the gradient reaching it could not be verified (rounding noise), so "
                     "the error may enter after it" if arriving
                else "the gradient reaching it was not checked, so the error may enter after it")
    where = f"layer {index} {label}" + ("" if located else " or after it")
    found = []
    if own_in is not None:
        found.append(Culprit(index, label, "input", own_in.max_rel_error, (own_in.name,),
                             f"the error enters at {where}: the gradient it returns for its "
                             f"input is wrong; {reaching}", located))
    if bad_params:
        names = tuple(t.name for t in bad_params)
        found.append(Culprit(index, label, "parameters", max(t.max_rel_error for t in bad_params),
                             names, f"the error enters at {where}: the gradients of its "
                                    f"parameters ({', '.join(names)}) are wrong; {reaching}",
                             located))
    return found


def _problem_culprit(problem: Problem) -> Culprit:
    assert problem.layer_index is not None  # the caller passes a layer's problems only
    return Culprit(problem.layer_index, problem.layer_label, problem.kind, None, (),
                   problem.message)
