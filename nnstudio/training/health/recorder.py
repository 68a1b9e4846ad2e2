"""Per-layer, per-epoch statistics of training, taken from the batches training already runs.

What is measured, and on which rows
-----------------------------------
- ``grad_norm``: the trainer's mean over every batch of the epoch of the L2 norm of the
  layer's parameter gradients, every epoch.
- Everything else comes from *sampled* batches: the first step and every ``SAMPLE_EVERY``-th
  step after it. Their forward pass is the training step's own (the trainer hands each
  layer's output over as it goes); nothing is run twice. Sampling keeps the cost within a few
  percent of a step even on the smallest networks, where every numpy call counts. An epoch
  without a sampled batch (small datasets: a few batches per epoch) reports None for these,
  and ``health_rows`` says how many rows an epoch's numbers come from.
  ``weight_norm``: L2 norm of the layer's parameters at the end of the epoch;
  ``update_ratio``: ‖Δθ‖ / ‖θ‖ of the sampled optimizer steps (their mean over the epoch);
  ``output_grad_norm``: the L2 norm of ∂loss/∂(the layer's output) on a sampled batch (root
  mean square over the epoch's samples), the gradient *flowing* back through the network
  (unlike ``grad_norm`` it does not grow with the scale of the layer's input);
  ``activation_mean`` / ``activation_std`` over every element of the layer's output;
  ``dead_fraction`` (ReLU, LeakyReLU): units whose input was ≤ 0 on every sampled row of the
  epoch; ``saturated_fraction`` (Tanh, Sigmoid): units whose output was within 1 % of an end
  of its range (|y| > 0.99 for tanh, y < 0.01 or y > 0.99 for sigmoid) on more than half of
  the sampled rows; ``bn_mean_gap`` / ``bn_var_ratio`` (BatchNorm): how far the batch
  statistics of its input sit from the running ones (mean over features of
  |μ_batch − μ_running| / σ_running, and of σ²_batch / σ²_running; running after the batch).
- Histograms (:mod:`.histograms`) of each layer's parameters, parameter gradients and
  outputs, on every ``HISTOGRAM_EVERY``-th sampled batch: one frame per epoch that had one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...engine.network import Network
from ..divergence import layer_label
from .histograms import HistogramTrack, PackedTracks
from .layout import activation_track, layer_kind, layer_spans

#: a batch is sampled for activation statistics at step 0 and every this many steps
SAMPLE_EVERY = 128
#: every this many sampled batches also feed the histograms (a histogram costs several
#: numpy calls per tensor; the heatmap keeps at most ``MAX_FRAMES`` epochs anyway)
HISTOGRAM_EVERY = 1
#: "within 1 % of either end of its range"
SATURATION_MARGIN = 0.01
#: a unit is saturated when it is so on more than this share of the sampled rows
SATURATED_ROWS = 0.5
KINDS = ("weights", "gradients", "activations")
#: per-layer sums of the epoch in progress
ARRAYS = ("count", "total", "squares", "bn_gap", "bn_ratio", "bn_samples", "update", "flow")


@dataclass(slots=True)
class EpochHealth:
    """What one epoch adds: the JSON-safe per-layer entries and the new histogram frames.

    ``histograms``: layer index -> {"weights" | "gradients" | "activations": (low, high,
    counts (BINS,) int64)}, arrays the recorder no longer changes; empty for an epoch
    without a sampled batch.
    """

    layers: list[dict[str, Any]]
    rows: int
    initial_loss: float | None = None
    histograms: dict[int, dict[str, tuple[float, float, np.ndarray]]] = field(default_factory=dict)

    def history_fields(self) -> dict[str, Any]:
        fields = {"layers": self.layers, "health_rows": self.rows}
        if self.initial_loss is not None:
            fields["initial_loss"] = self.initial_loss
        return fields


class HealthRecorder:
    """Accumulates the epoch in progress; the trainer calls it at a few points of a step."""

    def __init__(self, network: Network) -> None:
        self.network = network
        layers = network.layers
        self.kinds = [layer_kind(layer) for layer in layers]
        self.labels = [layer_label(network, index) for index in range(len(layers))]
        self.param_layers = [index for index, layer in enumerate(layers) if layer.params]
        self._spans, self._starts = layer_spans(network, self.param_layers)
        self._templates = [self._template(index) for index in range(len(layers))]
        self.tracks: dict[tuple[int, str], HistogramTrack] = {}
        for index, layer in enumerate(layers):
            if layer.params:
                self.tracks[(index, "weights")] = HistogramTrack("signed")
                self.tracks[(index, "gradients")] = HistogramTrack("signed")
            self.tracks[(index, "activations")] = activation_track(layer)
        self._packed = None
        if self._spans is not None:
            spans = [self._spans[index] for index in self.param_layers]
            self._packed = {kind: PackedTracks([self.tracks[(index, kind)] for index in self.param_layers],
                                               spans) for kind in ("weights", "gradients")}
        self.initial_loss: float | None = None
        self._sampled = 0  # sampled batches since the start: every HISTOGRAM_EVERY-th counts
        self._histogram_now = False
        self._before: np.ndarray | None = None
        self._reset_epoch()

    def fits(self, network: Network) -> bool:
        """Whether this recorder still describes ``network`` (same layers, same widths)."""
        return network is self.network and self.labels == [
            layer_label(network, index) for index in range(len(network.layers))]

    def _reset_epoch(self) -> None:
        n = len(self.kinds)
        self.samples = self.rows = self.histogram_samples = 0
        # plain lists: a sampled batch adds one number per layer, cheaper than numpy items
        for name in ARRAYS:
            setattr(self, name, [0.0] * n)
        widths = self.network.output_dims()
        self.active = {i: np.zeros(widths[i], dtype=bool)
                       for i, kind in enumerate(self.kinds) if kind == "rectifier"}
        self.saturated = {i: np.zeros(widths[i], dtype=np.int64)
                          for i, kind in enumerate(self.kinds) if kind in ("tanh", "sigmoid")}

    # -- hooks of the training step -------------------------------------------------------
    @staticmethod
    def wants_sample(step: int) -> bool:
        return step % SAMPLE_EVERY == 0

    def record_initial_loss(self, data_loss: float) -> None:
        if math.isfinite(data_loss):
            self.initial_loss = float(data_loss)

    def begin_sample(self, rows: int) -> None:
        self.samples += 1
        self.rows += rows
        self._histogram_now = self._sampled % HISTOGRAM_EVERY == 0
        self._sampled += 1
        if self._histogram_now:
            self.histogram_samples += 1

    def observe(self, index: int, inputs: np.ndarray, outputs: np.ndarray) -> None:
        """Layer ``index`` of a sampled batch turned inputs (N, D_in) into outputs (N, D)."""
        total, squares = float(outputs.sum()), float(np.vdot(outputs, outputs))
        if not (math.isfinite(total) and math.isfinite(squares)):
            return  # the batch is about to be reported as diverged
        self.count[index] += float(outputs.size)
        self.total[index] += total
        self.squares[index] += squares
        kind = self.kinds[index]
        if kind == "rectifier":
            active = self.network.layers[index].cache.get("active")
            active = outputs > 0 if active is None else active
            np.logical_or(self.active[index], active.any(axis=0), out=self.active[index])
        elif kind == "tanh":
            self.saturated[index] += (np.abs(outputs) > 1 - SATURATION_MARGIN).sum(axis=0)
        elif kind == "sigmoid":
            near_end = np.abs(outputs - 0.5) > 0.5 - SATURATION_MARGIN
            self.saturated[index] += near_end.sum(axis=0)
        elif kind == "batchnorm":
            self._observe_batchnorm(index, inputs)
        if self._histogram_now:
            self.tracks[(index, "activations")].add(outputs)

    def _observe_batchnorm(self, index: int, inputs: np.ndarray) -> None:
        """Batch against running statistics, from what the forward pass cached: 1/σ_batch
        and x̂ give μ_batch from a single row, no second pass over the batch."""
        layer = self.network.layers[index]
        cache = layer.cache
        if not cache.get("batch") or inputs.ndim != 2:
            return
        inv_std = cache["inv_std"][0]
        batch_mean = inputs[0] - cache["xhat"][0] / inv_std
        running_std = np.sqrt(layer.buffers["running_var"] + layer.eps)
        self.bn_gap[index] += float((np.abs(batch_mean - layer.buffers["running_mean"]) / running_std).mean())
        self.bn_ratio[index] += float((1.0 / (inv_std * running_std) ** 2).mean())
        self.bn_samples[index] += 1

    def observe_flow(self, index: int, dout: np.ndarray) -> None:
        """∂loss/∂(output of layer ``index``) (N, D) of a sampled batch, during backward."""
        self.flow[index] += float(np.vdot(dout, dout))

    def observe_gradients(self) -> None:
        """After the backward pass of a sampled batch (gradients and weights histograms)."""
        if not self._histogram_now:
            return
        flat = self.network.flat_parameters()
        if flat is not None and self._packed is not None:
            self._packed["weights"].add(flat[0])
            self._packed["gradients"].add(flat[1])
            return
        for index, (values, grads) in self._layer_arrays().items():
            weights, gradients = self.tracks[(index, "weights")], self.tracks[(index, "gradients")]
            for value in values:
                weights.add(value)
            for grad in grads:
                gradients.add(grad)

    def _layer_arrays(self) -> dict[int, tuple[list[np.ndarray], list[np.ndarray]]]:
        """Layer index -> (its parameter arrays, its gradient arrays): one flat slice each
        when the network packs its parameters (a layer's tensors are adjacent there)."""
        flat, layers = self.network.flat_parameters(), self.network.layers
        if flat is not None and self._spans is not None:
            return {index: ([flat[0][span]], [flat[1][span]]) for index, span in self._spans.items()}
        return {index: (list(layers[index].params.values()), list(layers[index].grads.values()))
                for index in self.param_layers}

    def before_step(self) -> None:
        """A sampled batch, before the optimizer moves the weights."""
        flat = self.network.flat_parameters()
        if flat is not None and self._starts is not None:
            self._before = flat[0].copy()
        else:
            self._before = None
            self._before_layers = {index: [v.copy() for v in self.network.layers[index].params.values()]
                                   for index in self.param_layers}

    def after_step(self) -> None:
        """After the step of a sampled batch: add each layer's ‖Δθ‖ / ‖θ‖ to the epoch's sum."""
        flat = self.network.flat_parameters()
        if self._before is not None and flat is not None:
            change = flat[0] - self._before
            change *= change
            before = self._before * self._before
            changes = np.add.reduceat(change, self._starts)
            scales = np.add.reduceat(before, self._starts)
        else:
            layers = self.network.layers
            pairs = {index: list(zip(layers[index].params.values(), old))
                     for index, old in self._before_layers.items()}
            changes = [sum(_square_norm(v - o) for v, o in pairs[i]) for i in self.param_layers]
            scales = [sum(_square_norm(o) for _, o in pairs[i]) for i in self.param_layers]
        update = self.update
        for index, change, scale in zip(self.param_layers, changes, scales):
            update[index] += math.sqrt(change / scale) if scale > 0 else math.nan
        self._before = None

    def discard_epoch(self) -> None:
        """Divergence: the partial epoch is dropped, and so are its statistics."""
        self._reset_epoch()
        for track in self.tracks.values():
            track.discard_epoch()

    # -- end of epoch ---------------------------------------------------------------------
    def finish_epoch(self, epoch: int, grad_norms: dict[str, float]) -> EpochHealth:
        """The epoch's per-layer entries (JSON-safe) and histogram frames; starts the next."""
        if not self.samples:  # most epochs of a small dataset: only the gradient norms
            entries = [template.copy() for template in self._templates]
            for index in self.param_layers:
                entries[index]["grad_norm"] = _number(grad_norms.get(self.labels[index]))
            health = EpochHealth(entries, 0, self.initial_loss, {})
            self.initial_loss = None
            return health
        layers = self.network.layers
        weight_norms = self._weight_norms()
        histograms: dict[int, dict[str, tuple[float, float, np.ndarray]]] = {}
        if self.histogram_samples:
            for (index, kind), track in self.tracks.items():
                frame = track.close_epoch(epoch)
                if frame is not None:
                    histograms.setdefault(index, {})[kind] = (track.low, track.high, frame)
        entries = [self._entry(index, grad_norms.get(self.labels[index]), weight_norms.get(index))
                   for index in range(len(layers))]
        health = EpochHealth(entries, self.rows, self.initial_loss, histograms)
        self.initial_loss = None
        self._reset_epoch()
        return health

    def _weight_norms(self) -> dict[int, float]:
        flat = self.network.flat_parameters()
        if flat is not None and self._starts is not None:
            norms = np.sqrt(np.add.reduceat(flat[0] * flat[0], self._starts))
        else:
            layers = self.network.layers
            norms = [math.sqrt(sum(_square_norm(v) for v in layers[index].params.values()))
                     for index in self.param_layers]
        return dict(zip(self.param_layers, norms))

    def _entry(self, index: int, grad_norm: float | None, weight_norm: float | None) -> dict:
        entry = self._templates[index].copy()  # an epoch without a sample is just this
        if grad_norm is not None:
            entry["grad_norm"] = _number(grad_norm)
            if self.samples:
                entry["weight_norm"] = _number(weight_norm)
                entry["update_ratio"] = _number(self.update[index] / self.samples)
        count = self.count[index]
        if not count:
            return entry
        mean = self.total[index] / count
        entry["output_grad_norm"] = _number(math.sqrt(self.flow[index] / self.samples))
        entry["activation_mean"] = _number(mean)
        entry["activation_std"] = _number(math.sqrt(max(self.squares[index] / count - mean * mean, 0.0)))
        kind, rows = self.kinds[index], self.rows
        if kind == "rectifier":
            entry["dead_fraction"] = float(1 - self.active[index].mean())
        elif kind in ("tanh", "sigmoid"):
            entry["saturated_fraction"] = float((self.saturated[index] > SATURATED_ROWS * rows).mean())
        elif kind == "batchnorm" and self.bn_samples[index]:
            measured = self.bn_samples[index]
            entry["bn_mean_gap"] = _number(self.bn_gap[index] / measured)
            entry["bn_var_ratio"] = _number(self.bn_ratio[index] / measured)
        return entry

    def _template(self, index: int) -> dict[str, Any]:
        """Layer ``index``'s entry with nothing measured: every key its type has, None."""
        entry = {"layer_index": index, "label": self.labels[index],
                 "type": self.network.layers[index].type_name, "grad_norm": None,
                 "weight_norm": None, "update_ratio": None, "output_grad_norm": None,
                 "activation_mean": None,
                 "activation_std": None}
        extra = {"rectifier": ("dead_fraction",), "tanh": ("saturated_fraction",),
                 "sigmoid": ("saturated_fraction",), "batchnorm": ("bn_mean_gap", "bn_var_ratio")}
        entry.update(dict.fromkeys(extra.get(self.kinds[index], ())))
        return entry

    # -- what a view shows when it opens a project ----------------------------------------
    def frames(self, index: int) -> dict[str, tuple[float, float, list[int], np.ndarray]]:
        """Kept histogram frames of layer ``index``: kind -> (low, high, epochs, counts (F, BINS))."""
        result = {}
        for kind in KINDS:
            track = self.tracks.get((index, kind))
            if track is not None and track.frames:
                result[kind] = (track.low, track.high, list(track.frame_epochs),
                                np.array(track.frames, dtype=np.int64))
        return result

    # -- resumable state ------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything a resumed run needs for identical statistics, as "health/..." arrays."""
        arrays = {"health/epoch/numbers": np.array([self.samples, self.rows, self.histogram_samples,
                                                    self._sampled], dtype=np.int64),
                  "health/initial_loss": np.array([np.nan if self.initial_loss is None
                                                   else self.initial_loss])}
        for name in ARRAYS:
            arrays[f"health/epoch/{name}"] = np.array(getattr(self, name), dtype=np.float64)
        for name in ("active", "saturated"):
            for index, value in getattr(self, name).items():
                arrays[f"health/epoch/{name}/{index}"] = value.copy()
        for (index, kind), track in self.tracks.items():
            arrays.update(track.to_arrays(f"health/track/{index}/{kind}"))
        return arrays

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`to_arrays` output (validated: ValueError names the bad array).

        A state without "health/" arrays (saved before layer health existed) leaves the
        recorder fresh: the first epoch after it reports what it saw itself.
        """
        if not any(key.startswith("health/") for key in arrays):
            return
        fresh = HealthRecorder(self.network)
        try:
            numbers = np.asarray(arrays["health/epoch/numbers"])
            initial = np.asarray(arrays["health/initial_loss"], dtype=np.float64)
            if numbers.shape != (4,) or not np.issubdtype(numbers.dtype, np.integer) or (numbers < 0).any():
                raise ValueError("trainer state: layer health: bad epoch counts")
            fresh.samples, fresh.rows, fresh.histogram_samples, fresh._sampled = (int(v) for v in numbers)
            fresh.initial_loss = None if initial.shape != (1,) or not np.isfinite(initial[0]) \
                else float(initial[0])
            for name in ARRAYS:
                template = np.array(getattr(fresh, name))
                setattr(fresh, name, [float(v) for v in _like(arrays, f"health/epoch/{name}", template)])
            for name in ("active", "saturated"):
                store = getattr(fresh, name)
                for index, value in store.items():
                    store[index] = _like(arrays, f"health/epoch/{name}/{index}", value)
        except KeyError as exc:
            raise ValueError(f"trainer state: layer health: missing {exc}") from None
        for (index, kind), track in fresh.tracks.items():
            track.load_arrays(f"health/track/{index}/{kind}", arrays)
        self.__dict__.update(fresh.__dict__)


def _like(arrays: dict[str, np.ndarray], key: str, template: np.ndarray) -> np.ndarray:
    value = np.asarray(arrays[key])
    if value.shape != template.shape or value.dtype.kind != template.dtype.kind:
        raise ValueError(f"trainer state: layer health: {key} should be {template.dtype} of shape "
                         f"{template.shape}, got {value.dtype} of shape {value.shape}")
    return value.astype(template.dtype)


def _square_norm(value: np.ndarray) -> float:
    flat = value.reshape(-1)
    return float(np.dot(flat, flat))


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
