"""Per-layer, per-epoch statistics of training, taken from the batches training already runs.

What is measured, and when
--------------------------
Every epoch: ``grad_norm``, the trainer's mean over every batch of the epoch of the L2 norm
of the layer's parameter gradients.

*Measured* epochs, at least ``MEASURE_STEPS`` steps apart (every epoch of 32 batches or
more; every 8th on Iris), also give
- ``weight_norm``: L2 norm of the layer's parameters at the end of the epoch;
- ``update_ratio``: ‖Δθ‖ / ‖θ‖ of the epoch's first step (and of its sampled ones: their mean);
- ``dead_fraction`` (ReLU, LeakyReLU): units whose input was ≤ 0 on every observed row;
  ``saturated_fraction`` (Tanh, Sigmoid): units whose output was within 1 % of an end of its
  range (|y| > 0.99 for tanh, y < 0.01 or y > 0.99 for sigmoid) on more than half of the
  observed rows. Observed: every row of the epoch when it has at most
  ``UNIT_BATCHES_PER_EPOCH`` batches, else that many batches evenly spread; the step's own
  masks and outputs.

*Sampled* batches (a look inside: the first batch of a measured epoch ``FULL_EVERY_STEPS``
steps after the last, and every ``SAMPLE_EVERY``-th step) add, from the training step's own
forward and backward pass (nothing is run twice; ``health_rows`` counts their rows):
- ``output_grad_norm``: the L2 norm of ∂loss/∂(the layer's output) (root mean square over the
  epoch's samples), the gradient *flowing* back through the network (unlike ``grad_norm`` it
  does not grow with the scale of the layer's input);
- ``activation_mean`` / ``activation_std`` over every element of the layer's output;
- ``bn_mean_gap`` / ``bn_var_ratio`` (BatchNorm): how far the batch statistics of its input
  sit from the running ones (mean over features of |μ_batch − μ_running| / σ_running, and of
  σ²_batch / σ²_running; running after the batch);
- histograms (:mod:`.histograms`) of each layer's parameters, parameter gradients and
  outputs: one frame per sampled epoch.
What an epoch did not measure is None. The spacing keeps the statistics within about 5 % of
the training time on the smallest networks (see the constants); on larger ones it is free.

When the numbers are computed
-----------------------------
A step only keeps references (:mod:`.reduce` says why); the numbers of closed epochs are
computed together when ``FLUSH_EPOCHS`` measured ones wait or their material passes
``FLUSH_BYTES``, when a run ends, and whenever someone asks (:meth:`HealthRecorder.take`,
:meth:`~HealthRecorder.frames`, :meth:`~HealthRecorder.to_arrays`). Each closed epoch's
history entry is then filled in, and its :class:`EpochHealth` waits in :meth:`take` for a
live view. A lock makes :meth:`take` safe from another thread while training runs: it only
touches closed epochs.
"""
from __future__ import annotations

import math
import threading
from collections import deque
from operator import itemgetter
from typing import Any

import numpy as np

from ...engine.layers import BUILTIN_LAYERS, BatchNorm
from ...engine.network import Network
from ..divergence import layer_label
from .histograms import BINS, HistogramTrack
from .layout import activation_track, layer_kind, layer_spans
from .reduce import (ARRAYS, BN_GAP, BN_RATIO, BN_SAMPLES, COUNT, FLOW, SQUARES, TOTAL, UPDATE,
                     EpochRecord, Reduced, Reducer, Sample, column_or_none, safe_ratio)

#: an epoch is measured when this many steps have passed since the last measured one: every
#: epoch of 32 batches or more, every 8th of Iris's 4. Measured with bench/train_throughput.py
#: on Iris (an epoch there takes 460 µs): measuring every 4th epoch cost 7 %, every 8th 5 %
#: (with looks inside every 32nd); every epoch would cost over 10 %
MEASURE_STEPS = 32
#: a measured epoch observes the units of at most this many of its batches, evenly spread
#: (all of them on small data; a look costs 2–3 µs, a small network's step 45 µs)
UNIT_BATCHES_PER_EPOCH = 16
#: a batch is sampled (a look inside) every this many steps ...
SAMPLE_EVERY = 128
#: ... and at the start of a measured epoch when this many steps have passed since (a look
#: inside Iris's network costs about 120 µs: every 16th epoch cost 2 % more than every 32nd)
FULL_EVERY_STEPS = 128
#: an epoch's per-batch unit references are reduced every this many batches (memory bound)
UNIT_BATCHES = 64
#: closed epochs are computed together when this many measured ones wait ...
FLUSH_EPOCHS = 32
#: ... or when what they keep passes this many bytes
FLUSH_BYTES = 16 << 20
#: computed epochs a live view has not taken yet, at most
OUTBOX = 4096
#: a unit is saturated when it is so on more than this share of the epoch's rows
SATURATED_ROWS = 0.5
KINDS = ("weights", "gradients", "activations")
#: what an entry may measure, in the order of the computed table
COLUMNS = ("grad_norm", "weight_norm", "update_ratio", "output_grad_norm", "activation_mean",
           "activation_std", "dead_fraction", "saturated_fraction", "bn_mean_gap", "bn_var_ratio")
UNIT_CACHE = {"rectifier": "active", "tanh": "out", "sigmoid": "out"}


class EpochHealth:
    """What one epoch adds: the JSON-safe per-layer entries and the new histogram frames (or,
    ``partial``, what one sampled batch inside a long epoch shows a live view).

    ``histograms``: layer index -> {"weights" | "gradients" | "activations": (low, high,
    counts (BINS,) int64)}, arrays the recorder no longer changes (built when first read:
    most epochs of a fast run are never looked at one by one).
    """

    __slots__ = ("epoch", "layers", "rows", "initial_loss", "partial", "measured", "_frames",
                 "_histograms")

    def __init__(self, epoch: float, layers: list[dict[str, Any]], rows: int,
                 initial_loss: float | None = None, frames: tuple | None = None,
                 partial: bool = False, measured: bool = True) -> None:
        self.epoch, self.layers, self.rows, self.initial_loss = epoch, layers, rows, initial_loss
        self.partial = partial  # a point inside a long epoch (``epoch`` fractional), live only
        self.measured = measured  # False: the epoch has gradient norms only
        # (counts (tracks, BINS), keys and positions of the tracks that counted, all ranges)
        self._frames = frames
        self._histograms: dict | None = None

    @property
    def histograms(self) -> dict[int, dict[str, tuple[float, float, np.ndarray]]]:
        if self._histograms is None:
            self._histograms = {}
            if self._frames is not None:
                counts, keys, ranges, positions = self._frames  # the tracks that counted
                for (index, kind), position in zip(keys, positions.tolist()):
                    low, high = ranges[position]
                    self._histograms.setdefault(index, {})[kind] = (low, high, counts[position])
        return self._histograms

    def history_fields(self) -> dict[str, Any]:
        fields = {"layers": self.layers, "health_rows": self.rows}
        if self.initial_loss is not None:
            fields["initial_loss"] = self.initial_loss
        return fields


class HealthRecorder:
    """Keeps what the trainer hands over at a few points of a step; see the module notes."""

    def __init__(self, network: Network) -> None:
        self.network = network
        layers = network.layers
        self.kinds = [layer_kind(layer) for layer in layers]
        self.labels = [layer_label(network, index) for index in range(len(layers))]
        self.param_layers = [index for index, layer in enumerate(layers) if layer.params]
        _, self._starts = layer_spans(network, self.param_layers)
        self.tracks: dict[tuple[int, str], HistogramTrack] = {}
        for index, layer in enumerate(layers):
            if layer.params:
                self.tracks[(index, "weights")] = HistogramTrack("signed")
                self.tracks[(index, "gradients")] = HistogramTrack("signed")
            self.tracks[(index, "activations")] = activation_track(layer)
        self._track_keys = list(self.tracks)
        eps = {i: float(layer.eps) for i, layer in enumerate(layers) if isinstance(layer, BatchNorm)}
        flat = network.flat_parameters()
        self._widths = network.output_dims()
        self._zeros = np.zeros((len(ARRAYS), len(layers)))
        self._zeros.flags.writeable = False  # shared by fresh records
        self._reducer = Reducer(self.kinds, self._widths, self.param_layers, self._starts,
                                0 if flat is None else len(flat[0]), self.tracks, eps)
        self._units = [(i, UNIT_CACHE[kind]) for i, kind in enumerate(self.kinds) if kind in UNIT_CACHE]
        self._batchnorms = [i for i, kind in enumerate(self.kinds) if kind == "batchnorm"]
        # a layer of the user's may change its input or its gradient in place: what it is
        # handed is copied before it is kept
        builtin = [type(layer) in BUILTIN_LAYERS for layer in layers]
        self.copy_output = [not later for later in builtin[1:]] + [False]
        self.copy_flow = [not own for own in builtin]
        self._columns = self._entry_columns()
        self._templates = [dict(zip(keys, constant + (None,) * (len(keys) - 3)))
                           for keys, constant, _ in self._columns]
        self._lock = threading.Lock()
        self._closed: list[EpochRecord | EpochHealth] = []  # the latter: measured nothing
        self._closed_bytes = self._closed_measured = 0
        self._outbox: deque[EpochHealth] = deque(maxlen=OUTBOX)
        self._sample: Sample | None = None
        self._before: Any = None  # a compact network's parameters before a measured step
        self.planned = -1  # the epoch the schedule below is for (none yet)
        self._batches = 1
        self._measured = self._full = False
        self.unit_every = 0
        # a live view takes computed epochs (``take``): keep them, and make interim points
        self.live = False
        self._interim = False
        self._position = 0.0
        self._open = self._new_record()

    def fits(self, network: Network) -> bool:
        """Whether this recorder still describes ``network`` (same layers, same widths)."""
        return network is self.network and self.labels == [
            layer_label(network, index) for index in range(len(network.layers))]

    def _new_record(self) -> EpochRecord:
        return EpochRecord(self._zeros)

    # -- hooks of the training step -------------------------------------------------------
    def plan_epoch(self, epoch: int, batches: int) -> None:
        """What epoch ``epoch`` (0-based, ``batches`` batches) measures; see the module notes."""
        self.planned = epoch
        every = -(-MEASURE_STEPS // max(batches, 1))  # in epochs
        full_every = every * -(-FULL_EVERY_STEPS // (max(batches, 1) * every))
        self._batches = max(batches, 1)
        self._measured = epoch % every == 0
        self._full = epoch % full_every == 0
        # the trainer reads it: observe_units on batches that are multiples of it (0: none)
        self.unit_every = -(-batches // UNIT_BATCHES_PER_EPOCH) if self._measured and self._units else 0

    def measures(self, step: int, batch: int) -> str | None:
        """What step ``step`` (batch ``batch`` of the planned epoch) records: "full" (a
        sampled batch), "light" (only its update ratio) or None."""
        if step % SAMPLE_EVERY == 0:
            self._interim = batch > 0 and self.live
            # where an interim point is drawn: the end of this batch, in epochs
            self._position = self.planned + (batch + 1) / self._batches
            return "full"
        if batch or not self._measured:
            return None
        return "full" if self._full else "light"

    def record_initial_loss(self, data_loss: float) -> None:
        if math.isfinite(data_loss):
            self._open.initial_loss = float(data_loss)

    def observe_sample(self, x: np.ndarray, outputs: list[np.ndarray], flows: list[np.ndarray]) -> None:
        """A sampled batch after its backward pass: input ``x`` (N, D), every layer's output
        and the gradient of the loss for it, in layer order (copied where ``copy_output`` /
        ``copy_flow`` say so, by the caller)."""
        sample = self._sample = Sample(len(x), outputs, flows)
        layers = self.network.layers
        for index in self._batchnorms:
            layer = layers[index]
            cache, inputs = layer.cache, outputs[index - 1] if index else x
            if cache.get("batch") and inputs.ndim == 2:
                sample.batchnorm.append((index, inputs[0], cache["xhat"][0], cache["inv_std"][0],
                                         layer.buffers["running_mean"].copy(),
                                         layer.buffers["running_var"].copy()))
        if self._reducer.compact:
            self._before = self._parameters()
            sample.grads = self._reducer.histogram_values(self._parameters(gradients=True, copy=False))
            sample.before = self._reducer.histogram_values(self._before)
        else:
            sample.grads = self._parameters(gradients=True)
            sample.before = self._parameters()
        self._open.samples.append(sample)

    def observe_step(self) -> None:
        """A step that only records its update ratio, before the optimizer moves the weights."""
        self._sample = Sample(0, [], [], light=True)
        if self._reducer.compact:
            self._before = self._parameters()
        else:
            self._sample.before = self._parameters()
        self._open.samples.append(self._sample)

    def after_step(self) -> None:
        """After the optimizer step of a sampled batch."""
        sample = self._sample
        assert sample is not None, "after_step without a measured step"
        if self._reducer.compact:
            sample.update = self._reducer.update_row(self._before, self._parameters(copy=False))
            sample.after, self._before = True, None
        else:
            sample.after = self._parameters()
        self._sample = None
        if self._interim:
            self._interim = False
            self._show_interim(sample)

    def _show_interim(self, sample: Sample) -> None:
        """A live view's point inside a long epoch: one sampled batch's numbers at once, at
        its fractional epoch (the epoch's own numbers follow when it ends; no histograms,
        and the history never sees it)."""
        record = EpochRecord(self._zeros)
        record.samples = [sample]  # the epoch keeps it too: computed twice, once per 128 steps
        record.weights = self._epoch_weights()
        reduced = self._reducer.reduce([record], histograms=False)
        health = EpochHealth(self._position, self._entries([record], reduced)[0], sample.rows,
                             partial=True)
        with self._lock:
            self._outbox.append(health)

    def observe_units(self) -> None:
        """After the forward pass of a batch a measured epoch observes (see ``unit_every``):
        the masks of rectifiers and the outputs of squashing layers, for dead and saturated
        units."""
        record, layers = self._open, self.network.layers
        for index, key in self._units:
            kept = layers[index].cache.get(key)
            if kept is not None:
                record.units.setdefault(index, []).append(kept)
        record.unit_batches += 1
        if record.unit_batches >= UNIT_BATCHES:
            self._reducer.store(record, self._reducer.reduce([record], samples=False))

    def _epoch_weights(self):
        """What an epoch keeps of the weights at its end: norms (compact) or a flat copy."""
        if self._reducer.compact:
            return self._reducer.norm_row(self._parameters(copy=False))
        return self._parameters()

    def _parameters(self, gradients: bool = False, copy: bool = True):
        """A flat copy of the parameters (or gradients), or per-layer flat copies (the flat
        array itself with ``copy=False``)."""
        flat = self.network.flat_parameters()
        if flat is not None and self._starts is not None:
            return flat[1 if gradients else 0].copy() if copy else flat[1 if gradients else 0]
        layers = self.network.layers
        return [np.concatenate([value.reshape(-1) for value in
                                (layers[i].grads if gradients else layers[i].params).values()])
                for i in self.param_layers]

    def discard_epoch(self) -> None:
        """Divergence: the partial epoch is dropped, and so are its statistics."""
        if self._open.in_tracks:  # its restored histogram counts go with it
            for track in self.tracks.values():
                track.discard_epoch()
        self._open = self._new_record()
        self._sample = None

    def close_epoch(self, epoch: int, grad_norms: dict[str, float], entry: dict) -> None:
        """The epoch in progress ended; ``entry`` is its history entry (filled in later)."""
        record = self._open
        record.epoch, record.grad_norms, record.entry = epoch, grad_norms, entry
        if not (record.samples or record.units or record.n_samples or record.unit_rows
                or record.in_tracks or record.sums is not self._zeros):
            # nothing else to compute: the history entry now, the open record stays as it is
            health = EpochHealth(epoch, self._unmeasured_entries(grad_norms), 0, record.initial_loss,
                                 measured=False)
            entry.update(health.history_fields())
            record.initial_loss = None
            if self.live:  # a live view takes it, after the measured epochs before it
                with self._lock:
                    self._closed.append(health)
                    if len(self._closed) >= OUTBOX:
                        self._flush_closed()
            return
        record.weights = self._epoch_weights()
        size = sum(output.nbytes for sample in record.samples for output in sample.outputs)
        size += sum(ref.nbytes for refs in record.units.values() for ref in refs)
        self._open = self._new_record()
        with self._lock:
            self._closed.append(record)
            self._closed_bytes += 3 * size  # outputs, flows and masks alike
            self._closed_measured += 1
            if self._closed_measured >= FLUSH_EPOCHS or self._closed_bytes >= FLUSH_BYTES:
                self._flush_closed()

    # -- computing ------------------------------------------------------------------------
    def flush(self) -> None:
        """Compute every closed epoch (fills their history entries)."""
        with self._lock:
            self._flush_closed()

    def take(self) -> list[EpochHealth]:
        """Every computed epoch not taken yet, oldest first (safe from another thread).

        Kept only while ``live`` (set it before training; the first call sets it too): a run
        on the command line keeps nothing for a view.
        """
        with self._lock:
            self.live = True
            self._flush_closed()
            taken = list(self._outbox)
            self._outbox.clear()
        return taken

    def _flush_closed(self) -> None:
        closed, self._closed, self._closed_bytes, self._closed_measured = self._closed, [], 0, 0
        if not closed:
            return
        reducer = self._reducer
        ready = [item if isinstance(item, EpochHealth) else None for item in closed]
        records = [item for item in closed if isinstance(item, EpochRecord)]
        if not records:
            self._deliver(records, [], None, None, None, ready)
            return
        reduced = reducer.reduce(records)
        counts = reduced.counts
        if records[0].in_tracks:
            if counts is None:
                counts = np.zeros((len(records), len(self.tracks), BINS), np.int64)
            for position, track in enumerate(reducer.track_list):
                counts[0, position] += track.counts
                track.counts = np.zeros(BINS, dtype=np.int64)
        ranges = nonempty = None
        if counts is not None:
            epochs = [record.epoch for record in records]
            nonempty = counts.sum(axis=2) > 0
            for position, track in enumerate(reducer.track_list):
                kept = nonempty[:, position].tolist()
                track.keep_frames([e for e, k in zip(epochs, kept) if k],
                                  [counts[slot, position] for slot, k in enumerate(kept) if k])
            ranges = [(track.low, track.high) for track in reducer.track_list]
        self._deliver(records, self._entries(records, reduced), counts, ranges, nonempty, ready)

    def _deliver(self, records, entries, counts, ranges, nonempty, ready) -> None:
        """Fill the history entries and (for a live view) the outbox, in epoch order: ``ready``
        has, per closed epoch, its EpochHealth if it measured nothing, else None for the next
        computed one;
        ``counts`` (records, tracks, BINS) are their histograms and ``nonempty`` says which."""
        computed = iter(zip(range(len(records)), records, entries))
        for done in ready:
            if done is not None:  # measured nothing: its history entry is filled already
                self._outbox.append(done)
                continue
            slot, record, layers = next(computed)
            frames = None
            if counts is not None and nonempty[slot].any():
                frames = (counts[slot], [key for key, kept in zip(self._track_keys, nonempty[slot])
                                         if kept], ranges, np.flatnonzero(nonempty[slot]))
            health = EpochHealth(record.epoch, layers, record.rows, record.initial_loss, frames)
            if record.entry is not None:
                record.entry.update(health.history_fields())
            if self.live:
                self._outbox.append(health)

    def _unmeasured_entries(self, grad_norms: dict[str, float]) -> list[dict[str, Any]]:
        """An epoch that measured nothing but its gradient norms: the entries, at once."""
        entries = [template.copy() for template in self._templates]
        for index in self.param_layers:
            value = grad_norms.get(self.labels[index])
            entries[index]["grad_norm"] = None if value is None or not math.isfinite(value) else float(value)
        return entries

    def _entry_columns(self) -> list[tuple[tuple[str, ...], tuple, Any]]:
        """Per layer: its entry's keys, the values that never change (index, label, type),
        and what picks its measured values out of a row of ``COLUMNS``."""
        extra = {"rectifier": ("dead_fraction",), "tanh": ("saturated_fraction",),
                 "sigmoid": ("saturated_fraction",), "batchnorm": ("bn_mean_gap", "bn_var_ratio")}
        columns = []
        for index, kind in enumerate(self.kinds):
            measured = (*COLUMNS[:6], *extra.get(kind, ()))
            constant = (index, self.labels[index], self.network.layers[index].type_name)
            pick = itemgetter(*(COLUMNS.index(key) for key in measured))
            columns.append((("layer_index", "label", "type", *measured), constant, pick))
        return columns

    def _entries(self, records: list[EpochRecord], reduced: Reduced) -> list[list[dict[str, Any]]]:
        """Each record's per-layer entries, computed column by column for all of them."""
        n_records, n_layers = len(records), len(self.kinds)
        sums = reduced.sums  # (R, ARRAYS, L)
        samples = np.array([[record.n_samples] for record in records], dtype=np.float64)
        full = np.array([[record.histogram_samples] for record in records], dtype=np.float64)
        nan = np.full((n_records, n_layers), np.nan)
        grad = nan.copy()
        weight = nan.copy()
        if self.param_layers:
            grad[:, self.param_layers] = [[record.grad_norms.get(self.labels[i], np.nan)
                                           for i in self.param_layers] for record in records]
            weight[:, self.param_layers] = self._reducer.weight_norms(records)
            weight[samples[:, 0] == 0] = np.nan  # an epoch that measured nothing says nothing
        count = sums[:, COUNT]
        update = safe_ratio(sums[:, UPDATE], samples)
        update[:, [i for i in range(n_layers) if i not in self.param_layers]] = np.nan
        flow = np.where(count > 0, np.sqrt(safe_ratio(sums[:, FLOW], full)), np.nan)
        mean = safe_ratio(sums[:, TOTAL], count)
        std = np.sqrt(np.maximum(safe_ratio(sums[:, SQUARES], count) - mean * mean, 0.0))
        std[~np.isfinite(mean)] = np.nan
        measured = sums[:, BN_SAMPLES]
        kind_values = {"bn_mean_gap": safe_ratio(sums[:, BN_GAP], measured),
                       "bn_var_ratio": safe_ratio(sums[:, BN_RATIO], measured),
                       "dead_fraction": nan.copy(), "saturated_fraction": nan.copy()}
        unit_rows = reduced.unit_rows
        seen = unit_rows > 0
        for index, active in reduced.active.items():
            kind_values["dead_fraction"][seen, index] = 1 - active[seen].mean(axis=1)
        for index, hits in reduced.saturated.items():
            kind_values["saturated_fraction"][seen, index] = (
                hits[seen] > SATURATED_ROWS * unit_rows[seen, None]).mean(axis=1)
        columns = {"grad_norm": grad, "weight_norm": weight, "update_ratio": update,
                   "output_grad_norm": flow, "activation_mean": mean, "activation_std": std,
                   **kind_values}
        # one conversion for the whole table: [record][layer][column], None where not finite
        table = column_or_none(np.stack([columns[key] for key in COLUMNS], axis=-1))
        layer_columns = self._columns
        return [[dict(zip(keys, constant + pick(row))) for (keys, constant, pick), row
                 in zip(layer_columns, layers)] for layers in table]

    # -- what a view shows when it opens a project ----------------------------------------
    def frames(self, index: int) -> dict[str, tuple[float, float, list[int], np.ndarray]]:
        """Kept histogram frames of layer ``index``: kind -> (low, high, epochs, counts (F, BINS))."""
        self.flush()
        result = {}
        for kind in KINDS:
            track = self.tracks.get((index, kind))
            if track is not None and track.frames:
                result[kind] = (track.low, track.high, list(track.frame_epochs),
                                np.array(track.frames, dtype=np.int64))
        return result

    # -- resumable state ------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything a resumed run needs for identical statistics, as "health/..." arrays.

        Computes the closed epochs first (their history entries are complete afterwards) and
        reduces the epoch in progress to its sums; call it while no step runs.
        """
        self.flush()
        record, reducer = self._open, self._reducer
        reduced = reducer.reduce([record])
        reducer.store(record, reduced)
        counts = reduced.counts
        if counts is not None:
            for position, track in enumerate(reducer.track_list):
                track.counts = track.counts + counts[0, position]
            record.in_tracks = True
        arrays = {"health/epoch/numbers": np.array([record.n_samples, record.rows,
                                                    record.histogram_samples, 0], dtype=np.int64),
                  "health/epoch/unit_rows": np.array([record.unit_rows], dtype=np.int64),
                  "health/initial_loss": np.array([np.nan if record.initial_loss is None
                                                   else record.initial_loss])}
        for position, name in enumerate(ARRAYS):
            arrays[f"health/epoch/{name}"] = record.sums[position].copy()
        for index, name, template in self._unit_templates():
            arrays[f"health/epoch/{name}/{index}"] = getattr(record, name).get(index, template).copy()
        for (index, kind), track in self.tracks.items():
            arrays.update(track.to_arrays(f"health/track/{index}/{kind}"))
        return arrays

    def _unit_templates(self) -> list[tuple[int, str, np.ndarray]]:
        """(layer index, "active" | "saturated", zeros of its saved shape) per unit layer."""
        return [(index, "active", np.zeros(self._widths[index], dtype=bool)) if kind == "rectifier"
                else (index, "saturated", np.zeros(self._widths[index], dtype=np.int64))
                for index, kind in enumerate(self.kinds) if kind in ("rectifier", "tanh", "sigmoid")]

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`to_arrays` output (validated: ValueError names the bad array).

        A state without "health/" arrays (saved before layer health existed) leaves the
        recorder fresh: the first epoch after it reports what it saw itself.
        """
        if not any(key.startswith("health/") for key in arrays):
            return
        fresh = HealthRecorder(self.network)
        fresh.live = self.live
        record = fresh._open
        try:
            numbers = np.asarray(arrays["health/epoch/numbers"])
            initial = np.asarray(arrays["health/initial_loss"], dtype=np.float64)
            if numbers.shape != (4,) or not np.issubdtype(numbers.dtype, np.integer) or (numbers < 0).any():
                raise ValueError("trainer state: layer health: bad epoch counts")
            record.n_samples, record.rows, record.histogram_samples, _ = (int(v) for v in numbers)
            # saved before every batch fed the unit counts: they covered the sampled rows
            unit_rows = np.asarray(arrays.get("health/epoch/unit_rows", [record.rows]))
            if unit_rows.shape != (1,) or not np.issubdtype(unit_rows.dtype, np.integer) or unit_rows[0] < 0:
                raise ValueError("trainer state: layer health: bad health/epoch/unit_rows")
            record.unit_rows = int(unit_rows[0])
            record.initial_loss = None if initial.shape != (1,) or not np.isfinite(initial[0]) \
                else float(initial[0])
            record.sums = np.array([_like(arrays, f"health/epoch/{name}", fresh._zeros[position])
                                    for position, name in enumerate(ARRAYS)])
            for index, name, template in fresh._unit_templates():
                getattr(record, name)[index] = _like(arrays, f"health/epoch/{name}/{index}", template)
        except KeyError as exc:
            raise ValueError(f"trainer state: layer health: missing {exc}") from None
        for (index, kind), track in fresh.tracks.items():
            track.load_arrays(f"health/track/{index}/{kind}", arrays)
        record.in_tracks = True
        self.__dict__.update(fresh.__dict__)


def _like(arrays: dict[str, np.ndarray], key: str, template: np.ndarray) -> np.ndarray:
    value = np.asarray(arrays[key])
    if value.shape != template.shape or value.dtype.kind != template.dtype.kind:
        raise ValueError(f"trainer state: layer health: {key} should be {template.dtype} of shape "
                         f"{template.shape}, got {value.dtype} of shape {value.shape}")
    return value.astype(template.dtype)
