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
#: parameters beyond which a network is reduced at once, not kept (see ``Reducer.compact``)
COMPACT_PARAMS = 16384
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
    update: np.ndarray | None = None  # (parameter layers,) ‖Δθ‖ / ‖θ‖, when computed at once


class EpochRecord:
    """One epoch: the samples and per-batch unit references not yet reduced, and its sums."""

    __slots__ = ("samples", "units", "unit_batches", "sums", "active", "saturated", "unit_rows",
                 "n_samples", "rows", "histogram_samples", "in_tracks", "initial_loss", "epoch",
                 "grad_norms", "weights", "entry")

    def __init__(self, sums: np.ndarray) -> None:
        self.samples: list[Sample] = []
        self.units: dict[int, list[np.ndarray]] = {}  # layer index -> references, made on use
        self.unit_batches = 0
        self.sums = sums  # (ARRAYS, layers), replaced (never changed in place) by ``store``
        # per unit layer: ever-active masks (rectifiers) or saturated-row counts, once reduced
        self.active: dict[int, np.ndarray] = {}
        self.saturated: dict[int, np.ndarray] = {}
        self.unit_rows = self.n_samples = self.rows = self.histogram_samples = 0
        self.in_tracks = False  # the open epoch's histogram counts sit in the tracks' counts
        self.initial_loss: float | None = None
        self.epoch = 0
        self.grad_norms: dict[str, float] = {}
        self.weights: Any = None
        self.entry: dict | None = None


@dataclass(slots=True)
class Reduced:
    """A group of records, reduced: ``sums`` (records, ARRAYS, layers); per unit layer
    (records, units) ``active`` masks or ``saturated`` row counts; ``unit_rows`` (records,);
    ``counts`` (records, tracks, BINS) of their samples' histograms, or None."""

    sums: np.ndarray
    active: dict[int, np.ndarray]
    saturated: dict[int, np.ndarray]
    unit_rows: np.ndarray
    counts: np.ndarray | None = None


class Reducer:
    """How a network's layers are reduced: which kind each is, where its parameters sit and
    which histogram track each tensor feeds."""

    def __init__(self, kinds: list[str], widths: list[int], param_layers: list[int],
                 starts: np.ndarray | None, n_params: int,
                 tracks: dict[tuple[int, str], HistogramTrack], eps: dict[int, float]) -> None:
        self.kinds, self.widths, self.param_layers, self.starts, self.eps = (
            kinds, widths, param_layers, starts, eps)
        self.unit_layers = [i for i, kind in enumerate(kinds) if kind in ("rectifier", "tanh", "sigmoid")]
        self.track_list = list(tracks.values())
        position = {key: i for i, key in enumerate(tracks)}
        self.activation_tracks = np.array([position[(i, "activations")] for i in range(len(kinds))],
                                          dtype=np.intp)
        self.parameter_tracks = {kind: np.array([position[(i, kind)] for i in param_layers], dtype=np.intp)
                                 for kind in ("weights", "gradients")}
        # a large network: a step costs far more than a few numpy calls, and keeping copies
        # of its parameters would cost memory; its update ratios and norms are computed at
        # once and only the histogram's elements are kept
        self.compact = starts is None or n_params > COMPACT_PARAMS
        self.picks = self.pick_sizes = None
        if starts is not None:  # evenly strided elements of each layer, as ``strided`` would
            bounds = [*starts.tolist(), n_params]
            picks = [np.arange(a, b, max(1, -(-(b - a) // MAX_ELEMENTS))) for a, b in zip(bounds, bounds[1:])]
            self.picks = np.concatenate(picks)
            self.pick_sizes = np.array([len(pick) for pick in picks])

    # -- a group of epochs -----------------------------------------------------------------
    def reduce(self, records: list[EpochRecord], samples: bool = True,
               histograms: bool = True) -> "Reduced":
        """Everything the records hold, reduced: their sums so far plus their unit references
        and (``samples``) their samples, which are dropped. The records' own sums stay as
        they were (see ``store``)."""
        reduced = Reduced(np.array([record.sums for record in records]), {}, {},
                          np.array([record.unit_rows for record in records], dtype=np.float64))
        self._units(records, reduced)
        if samples:
            self._samples(records, reduced, histograms)
        return reduced

    def store(self, record: EpochRecord, reduced: "Reduced") -> None:
        """Make ``reduced`` (of ``[record]`` alone) the record's own sums (a saved state)."""
        record.sums = reduced.sums[0]
        record.unit_rows = int(reduced.unit_rows[0])
        for index, rows in reduced.active.items():
            record.active[index] = rows[0]
        for index, rows in reduced.saturated.items():
            record.saturated[index] = rows[0]

    def _units(self, records: list[EpochRecord], reduced: "Reduced") -> None:
        """Dead and saturated units over every row, from the per-batch references."""
        unit_layers = self.unit_layers
        if not unit_layers:
            return
        first = unit_layers[0]
        lengths = np.array([sum(len(ref) for ref in record.units.get(first, ())) for record in records])
        reduced.unit_rows += lengths
        seen = np.flatnonzero(lengths)
        starts = np.zeros(len(seen), dtype=np.intp)
        np.cumsum(lengths[seen][:-1], out=starts[1:])
        for index in unit_layers:
            rectifier = self.kinds[index] == "rectifier"
            kept = "active" if rectifier else "saturated"
            base = np.zeros((len(records), self.widths[index]), dtype=bool if rectifier else np.int64)
            for slot, record in enumerate(records):
                earlier = getattr(record, kept).get(index)
                if earlier is not None:
                    base[slot] = earlier
            if len(seen):
                rows = np.concatenate([ref for record in records for ref in record.units.get(index, ())],
                                      axis=0)
                if rectifier:
                    base[seen] |= np.logical_or.reduceat(rows, starts, axis=0)
                else:
                    near = (np.abs(rows) > 1 - SATURATION_MARGIN if self.kinds[index] == "tanh"
                            else np.abs(rows - 0.5) > 0.5 - SATURATION_MARGIN)
                    base[seen] += np.add.reduceat(near, starts, axis=0, dtype=np.int64)
            getattr(reduced, kept)[index] = base
        for record in records:
            record.units = {}
            record.unit_batches = 0

    def _samples(self, records: list[EpochRecord], reduced: "Reduced", histograms: bool = True) -> None:
        """Adds the records' samples to the sums and counts their histograms."""
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
            np.add.at(reduced.sums, np.array(step_slots, dtype=np.intp), per_step)
        if samples:
            per_sample = np.zeros((len(samples), len(ARRAYS), len(self.kinds)))
            activations = self._moments(samples, per_sample)
            self._batchnorm(samples, per_sample)
            slot_of = np.array(slots, dtype=np.intp)
            np.add.at(reduced.sums, slot_of, per_sample)
            if histograms:
                reduced.counts = self._histograms(samples, slot_of, activations, len(records))

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
        if self.compact:  # computed at each step
            updates = np.array([sample.update for sample in samples])
        else:  # packed flat copies, all steps at once
            updates = self.update_row(np.array([sample.before for sample in samples]),
                                      np.array([sample.after for sample in samples]))
        per_sample[:, UPDATE, self.param_layers] = updates

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
            if self.picks is not None and self.pick_sizes is not None:
                block = np.array(vectors) if self.compact else np.array(vectors)[:, self.picks]
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
        weights = np.array([record.weights for record in records])
        return weights if self.compact else self.norm_row(weights)  # norms, or flat copies


    # -- per parameter layer -------------------------------------------------------------
    def update_row(self, before, after) -> np.ndarray:
        """(..., parameter layers) ‖Δθ‖ / ‖θ‖ of steps: flat copies (..., parameters), or
        per-layer lists of one step (a network that does not pack its parameters)."""
        if self.starts is not None:
            change = after - before
            changes = np.add.reduceat(change * change, self.starts, axis=-1, dtype=np.float64)
            scales = np.add.reduceat(before * before, self.starts, axis=-1, dtype=np.float64)
        else:
            changes = np.array([square_norm(a - b) for a, b in zip(after, before)])
            scales = np.array([square_norm(b) for b in before])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(scales > 0, np.sqrt(changes / scales), np.nan)

    def norm_row(self, params) -> np.ndarray:
        """(..., parameter layers) ‖θ‖ of flat arrays (..., parameters), or of one per-layer list."""
        if self.starts is not None:
            return np.sqrt(np.add.reduceat(params * params, self.starts, axis=-1, dtype=np.float64))
        return np.sqrt([square_norm(part) for part in params])

    def histogram_values(self, params):
        """The elements of the parameters (or gradients) a histogram counts, copied."""
        if self.starts is not None:
            return params[self.picks]
        return [strided(part).copy() for part in params]


def square_norm(value: np.ndarray) -> float:
    flat = value.reshape(-1)
    return float(np.dot(flat, flat))


def column_or_none(values: np.ndarray) -> list:
    """A column as a list: floats, and None where not finite."""
    column = values.astype(object)
    column[~np.isfinite(values)] = None
    return column.tolist()


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)

