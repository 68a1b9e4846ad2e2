"""The data around a student's code: the batch, the layers before it, the gradient after it."""
from __future__ import annotations

import numpy as np

from nnstudio.engine import Context, Network, build_network, parse_layer_spec
from nnstudio.engine.gradcheck import check_batch
from nnstudio.engine.losses import loss_for_task

from .assignment import Assignment, AssignmentError, Check


class Batches:
    """Seeded check batches from the assignment's data, through its ``before`` layers.

    ``x(check)``: (N, D) the student layer's input; ``xy(check)``: (X, y) for a model.
    """

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        data = assignment.data
        where = f"{assignment.path}: [data.source]"
        try:
            if data.source == "generated":
                self.task, self.classes, self.features = "classification", data.classes, data.features
                self.pool = None
            else:
                from nnstudio.data import LoadOptions, load_csv, make_builtin
                if data.source.startswith("builtin:"):
                    dataset = make_builtin(data.source.removeprefix("builtin:"), seed=0)
                else:
                    dataset = load_csv(data.source, LoadOptions(target=data.target, seed=0))
                self.task = dataset.task
                self.pool = (np.asarray(dataset.x_train, np.float64), np.asarray(dataset.y_train))
                self.features = self.pool[0].shape[1]
                self.classes = dataset.n_outputs
        except (ValueError, FileNotFoundError) as exc:
            raise AssignmentError(f"{where} {exc}") from None
        if assignment.convention == "model" and self.task != "classification":
            raise AssignmentError(f"{where} a model (loss(X, y) with class labels) needs "
                                  "classification data")
        try:
            self.before = parse_layer_spec(assignment.before) if assignment.before else []
            parse_layer_spec(assignment.after)
        except ValueError as exc:
            raise AssignmentError(f"{assignment.path}: [network] {exc}") from None

    @property
    def width(self) -> int:
        return self.features

    def xy(self, check: Check) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([check.seed, 0])
        size = self.assignment.data.batch
        if self.pool is None:
            # per-feature offsets and scales, so a normalisation mistake cannot hide at unit variance
            loc = rng.normal(0.0, 2.0, self.features)
            scale = rng.uniform(0.5, 3.0, self.features)
            x = loc + scale * rng.standard_normal((size, self.features))
            return x, rng.integers(0, self.classes, size)
        x, y = check_batch(*self.pool, size, check.seed)
        return x.astype(np.float64), y

    def x(self, check: Check) -> np.ndarray:
        x, _ = self.xy(check)
        if not self.before:
            return x
        network = Network(parse_layer_spec(self.assignment.before), loss_for_task(self.task),
                          input_dim=x.shape[1], seed=check.seed, dtype=np.float64)
        return network.forward(x, Context.inference())


def upstream_gradient(assignment: Assignment, batches: Batches, check: Check,
                      reference_out: np.ndarray | None) -> np.ndarray:
    """G = dL/d(out) for ``L = sum(out * G)``, scaled to unit RMS (only its direction matters).

    ``dout = "random"``: standard normal from the check seed. ``"network"``: the gradient the
    ``after`` layers, the output layer and the loss send back at the reference's output.
    """
    rng = np.random.default_rng([check.seed, 2])
    if assignment.dout == "random":
        spec = assignment.functions
        assert spec is not None  # a layer assignment has its functions
        x = batches.x(check)
        width = spec.units if spec.output == "units" else x.shape[1]
        assert width is not None  # an output of "units" comes with units (the assignment checks)
        return rng.standard_normal((x.shape[0], width))
    assert reference_out is not None  # the "network" dout starts from the reference output
    _, y = batches.xy(check)
    outputs = batches.classes if batches.task == "classification" else 1
    network = build_network(assignment.after, reference_out.shape[1], batches.task, outputs,
                            seed=check.seed, dtype=np.float64)
    prediction = network.forward(reference_out, Context.inference())
    network.loss.forward(prediction, y)
    grad = network.backward(network.loss.backward())
    assert grad is not None  # input_grad is on: the gradient at the input comes back
    rms = float(np.sqrt(np.mean(grad ** 2)))
    if not np.isfinite(rms) or rms == 0:
        raise AssignmentError(f"{assignment.path}: [network.dout] the network's gradient at the "
                              f"reference output is zero for check {check.name!r}")
    return grad / rms
