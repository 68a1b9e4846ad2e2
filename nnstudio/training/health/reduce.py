"""The numbers of several epochs at once, from the references the recorder kept.

During a step the recorder only keeps references (a layer's output, its gradient, a copy of
the parameters). A numpy call costs about a microsecond and a small network's step about a
hundred, so computing each epoch's statistics on the spot cost 28 % of the training on Iris
(measured, 4 batches an epoch). Here each statistic of a group of epochs is a handful of
calls over all their samples and layers together (``np.add.reduceat`` over one
concatenation, one ``bincount`` for every histogram), and the entries are built from whole
columns, so the cost per epoch falls with the size of the group.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .histograms import MAX_ELEMENTS, HistogramTrack, count_values, strided

#: "within 1 % of either end of its range"
SATURATION_MARGIN = 0.01
#: per-layer sums of one epoch, the rows of ``EpochRecord.sums``
ARRAYS = ("count", "total", "squares", "bn_gap", "bn_ratio", "bn_samples", "update", "flow")
COUNT, TOTAL, SQUARES, BN_GAP, BN_RATIO, BN_SAMPLES, UPDATE, FLOW = range(len(ARRAYS))


@dataclass(slots=True, eq=False)
class Sample:
    """References to what one sampled training batch computed.

    ``outputs`` / ``flows``: each layer's output (N, D) and ∂loss/∂(that output), in layer
    order; ``batchnorm``: (layer index, first input row, first x̂ row, 1/σ_batch, running
    mean, running var after the batch); ``before`` / ``after``: the parameters around the
    optimizer step and ``grads`` the gradients, each a flat copy (packed network) or a list
    of per-layer flat copies. A ``light`` sample has only ``before`` and ``after``.
    """

    rows: int
    outputs: list[np.ndarray]
    flows: list[np.ndarray]
    light: bool = False  # only ``before`` and ``after``: an update ratio
    batchnorm: list[tuple] = field(default_factory=list)
    before: Any = None
    grads: Any = None
    after: Any = None


class EpochRecord:
    """One epoch: the samples and per-batch unit references not yet reduced, and its sums."""

    __slots__ = ("samples", "units", "unit_batches", "sums", "active", "saturated", "unit_rows",
                 "n_samples", "rows", "histogram_samples", "in_tracks", "initial_loss", "epoch",
                 "grad_norms", "weights", "entry")

    def __init__(self, widths: list[int], kinds: list[str]) -> None:
        self.samples: list[Sample] = []
        self.units: dict[int, list[np.ndarray]] = {
            i: [] for i, kind in enumerate(kinds) if kind in ("rectifier", "tanh", "sigmoid")}
        self.unit_batches = 0
        self.sums = np.zeros((len(ARRAYS), len(kinds)))
        self.active = {i: np.zeros(widths[i], dtype=bool) for i, k in enumerate(kinds) if k == "rectifier"}
        self.saturated = {i: np.zeros(widths[i], dtype=np.int64)
                          for i, k in enumerate(kinds) if k in ("tanh", "sigmoid")}
        self.unit_rows = self.n_samples = self.rows = self.histogram_samples = 0
        self.in_tracks = False  # the open epoch's histogram counts sit in the tracks' counts
        self.initial_loss: float | None = None
        self.epoch = 0
        self.grad_norms: dict[str, float] = {}
        self.weights: Any = None
        self.entry: dict | None = None


class Reducer:
    """How a network's layers are reduced: which kind each is, where its parameters sit and
    which histogram track each tensor feeds."""

    def __init__(self, kinds: list[str], param_layers: list[int], starts: np.ndarray | None,
                 n_params: int, tracks: dict[tuple[int, str], HistogramTrack],
                 eps: dict[int, float]) -> None:
        self.kinds, self.param_layers, self.starts, self.eps = kinds, param_layers, starts, eps
        self.track_list = list(tracks.values())
        position = {key: i for i, key in enumerate(tracks)}
        self.activation_tracks = np.array([position[(i, "activations")] for i in range(len(kinds))],
                                          dtype=np.intp)
        self.parameter_tracks = {kind: np.array([position[(i, kind)] for i in param_layers], dtype=np.intp)
                                 for kind in ("weights", "gradients")}
        self.picks = self.pick_sizes = None
        if starts is not None:  # evenly strided elements of each layer, as ``strided`` would
            bounds = [*starts.tolist(), n_params]
            picks = [np.arange(a, b, max(1, -(-(b - a) // MAX_ELEMENTS))) for a, b in zip(bounds, bounds[1:])]
            self.picks = np.concatenate(picks)
            self.pick_sizes = np.array([len(pick) for pick in picks])

    # -- per-batch unit references (dead and saturated units, every row) ------------------
    def reduce_units(self, records: list[EpochRecord]) -> None:
        records = [record for record in records if record.unit_batches]
        if not records:
            return
        for index in records[0].units:
            lengths = [sum(len(ref) for ref in record.units[index]) for record in records]
            seen = [(record, length) for record, length in zip(records, lengths) if length]
            if not seen:
                continue
            starts = np.zeros(len(seen), dtype=np.intp)
            np.cumsum([length for _, length in seen][:-1], out=starts[1:])
            rows = np.concatenate([ref for record, _ in seen for ref in record.units[index]], axis=0)
            if self.kinds[index] == "rectifier":
                for (record, _), active in zip(seen, np.logical_or.reduceat(rows, starts, axis=0)):
                    np.logical_or(record.active[index], active, out=record.active[index])
            else:
                near = (np.abs(rows) > 1 - SATURATION_MARGIN if self.kinds[index] == "tanh"
                        else np.abs(rows - 0.5) > 0.5 - SATURATION_MARGIN)
                for (record, _), count in zip(seen, np.add.reduceat(near, starts, axis=0, dtype=np.int64)):
                    record.saturated[index] += count
        for record in records:
            record.unit_rows += max(sum(len(ref) for ref in refs) for refs in record.units.values())
            for refs in record.units.values():
                refs.clear()
            record.unit_batches = 0

    # -- sampled batches ------------------------------------------------------------------
    def reduce_samples(self, records: list[EpochRecord]) -> np.ndarray | None:
        """Add the records' samples to their sums; returns their histogram counts
        (len(records), tracks, BINS), or None when no record had a sample."""
        samples, slots, steps, step_slots = [], [], [], []
        for slot, record in enumerate(records):
            for sample in record.samples:
                if sample.after is None:  # its step failed half way
                    continue
                steps.append(sample)
                step_slots.append(slot)
                record.n_samples += 1
                if not sample.light:
                    samples.append(sample)
                    slots.append(slot)
                    record.histogram_samples += 1
                    record.rows += sample.rows
            record.samples = []
        if steps:
            per_step = np.zeros((len(steps), len(ARRAYS), len(self.kinds)))
            self._updates(steps, per_step)
            self._add(records, per_step, np.array(step_slots, dtype=np.intp))
        if not samples:
            return None
        per_sample = np.zeros((len(samples), len(ARRAYS), len(self.kinds)))
        activations = self._moments(samples, per_sample)
        self._batchnorm(samples, per_sample)
        slot_of = np.array(slots, dtype=np.intp)
        self._add(records, per_sample, slot_of)
        return self._histograms(samples, slot_of, activations, len(records))

    @staticmethod
    def _add(records: list[EpochRecord], values: np.ndarray, slot_of: np.ndarray) -> None:
        """Add per-sample sums (samples, ARRAYS, layers) to their records' sums."""
        starts = np.flatnonzero(np.r_[True, slot_of[1:] != slot_of[:-1]])
        for slot, part in zip(slot_of[starts].tolist(), np.add.reduceat(values, starts, axis=0)):
            records[slot].sums = records[slot].sums + part

    def _moments(self, samples: list[Sample], per_sample: np.ndarray):
        """Mean and spread of every output, and the norm of the gradient flowing into it;
        returns the outputs as one float64 array with their sizes (for the histograms)."""
        sizes = np.array([output.size for sample in samples for output in sample.outputs])
        starts = np.zeros(len(sizes), dtype=np.intp)
        np.cumsum(sizes[:-1], out=starts[1:])
        values = np.concatenate([o.reshape(-1) for s in samples for o in s.outputs]).astype(np.float64)
        totals = np.add.reduceat(values, starts)
        squares = np.add.reduceat(values * values, starts)
        gradients = np.concatenate([f.reshape(-1) for s in samples for f in s.flows]).astype(np.float64)
        finite = np.isfinite(totals) & np.isfinite(squares)  # else the batch is about to diverge
        shape = (len(samples), len(self.kinds))
        per_sample[:, COUNT] = np.where(finite, sizes, 0).reshape(shape)
        per_sample[:, TOTAL] = np.where(finite, totals, 0.0).reshape(shape)
        per_sample[:, SQUARES] = np.where(finite, squares, 0.0).reshape(shape)
        per_sample[:, FLOW] = np.add.reduceat(gradients * gradients, starts).reshape(shape)
        return values, sizes

    def _batchnorm(self, samples: list[Sample], per_sample: np.ndarray) -> None:
        """Batch against running statistics: 1/σ_batch and x̂ give μ_batch from one row."""
        found: dict[int, list[tuple[int, tuple]]] = {}
        for position, sample in enumerate(samples):
            for item in sample.batchnorm:
                found.setdefault(item[0], []).append((position, item))
        for index, items in found.items():
            first, xhat, inv_std, running_mean, running_var = (
                np.array([item[k] for _, item in items]) for k in range(1, 6))
            running_std = np.sqrt(running_var + self.eps[index])
            positions = [position for position, _ in items]
            per_sample[positions, BN_GAP, index] = (
                np.abs(first - xhat / inv_std - running_mean) / running_std).mean(axis=1)
            per_sample[positions, BN_RATIO, index] = (1.0 / (inv_std * running_std) ** 2).mean(axis=1)
            per_sample[positions, BN_SAMPLES, index] = 1.0

    def _updates(self, samples: list[Sample], per_sample: np.ndarray) -> None:
        """‖Δθ‖ / ‖θ‖ of every sampled step, per layer (NaN for a layer of zeros)."""
        if not self.param_layers:
            return
        if self.starts is not None:
            before = np.array([sample.before for sample in samples])
            change = np.array([sample.after for sample in samples]) - before
            changes = np.add.reduceat(change * change, self.starts, axis=1, dtype=np.float64)
            scales = np.add.reduceat(before * before, self.starts, axis=1, dtype=np.float64)
        else:
            changes = np.array([[square_norm(a - b) for a, b in zip(s.after, s.before)] for s in samples])
            scales = np.array([[square_norm(b) for b in s.before] for s in samples])
        with np.errstate(divide="ignore", invalid="ignore"):
            per_sample[:, UPDATE, self.param_layers] = np.where(scales > 0, np.sqrt(changes / scales), np.nan)

    def _histograms(self, samples: list[Sample], slot_of: np.ndarray, activations, slots: int):
        values, sizes = activations
        n_layers = len(self.kinds)
        tracks = np.tile(self.activation_tracks, len(samples))
        piece_slots = np.repeat(slot_of, n_layers)
        parts = [(values, sizes, tracks, piece_slots)]
        if sizes.max() > MAX_ELEMENTS:  # a large layer: its evenly strided elements
            pieces = [strided(output) for sample in samples for output in sample.outputs]
            parts = [(np.concatenate(pieces), np.array([piece.size for piece in pieces]), tracks,
                      piece_slots)]
        for kind, attribute in (("weights", "before"), ("gradients", "grads")):
            vectors = [getattr(sample, attribute) for sample in samples]
            if not self.param_layers or vectors[0] is None:
                continue
            if self.picks is not None:
                block = np.array(vectors)[:, self.picks]
                parts.append((block.reshape(-1), np.tile(self.pick_sizes, len(samples)),
                              np.tile(self.parameter_tracks[kind], len(samples)),
                              np.repeat(slot_of, len(self.param_layers))))
            else:
                pieces = [strided(part) for vector in vectors for part in vector]
                parts.append((np.concatenate(pieces), np.array([piece.size for piece in pieces]),
                              np.tile(self.parameter_tracks[kind], len(samples)),
                              np.repeat(slot_of, len(self.param_layers))))
        values, sizes, tracks, piece_slots = (np.concatenate([part[k] for part in parts]) for k in range(4))
        keep = sizes > 0
        if not keep.all():
            kept = np.repeat(keep, sizes)
            values, sizes, tracks, piece_slots = values[kept], sizes[keep], tracks[keep], piece_slots[keep]
        return count_values(self.track_list, values, sizes, tracks, piece_slots, slots)

    def weight_norms(self, records: list[EpochRecord]) -> np.ndarray:
        """(len(records), parameter layers): each layer's ‖θ‖ at the end of the epoch."""
        if not self.param_layers:
            return np.zeros((len(records), 0))
        if self.starts is not None:
            weights = np.array([record.weights for record in records])
            return np.sqrt(np.add.reduceat(weights * weights, self.starts, axis=1, dtype=np.float64))
        return np.sqrt([[square_norm(part) for part in record.weights] for record in records])


def square_norm(value: np.ndarray) -> float:
    flat = value.reshape(-1)
    return float(np.dot(flat, flat))


def column_or_none(values: np.ndarray) -> list:
    """A column as a list: floats, and None where not finite."""
    return np.where(np.isfinite(values), values, None).tolist()


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)

