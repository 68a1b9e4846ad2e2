"""Histograms of one tensor over epochs, on bin edges shared by every stored frame.

A track has ``BINS`` equal bins over a range that is either fixed by the layer (Tanh: [−1, 1],
Sigmoid: [0, 1]), or symmetric [−R, R] (weights, gradients, most activations), or [0, R]
(ReLU outputs). R starts as the smallest power of two that holds the first values and doubles
when a later value falls outside; every stored frame is then merged pairwise into the wider
bins, exactly, so all frames of a track always sit on the same edges and compare directly
(what TensorBoard's distributions need). At most ``MAX_FRAMES`` epochs are kept: past that,
every other frame is dropped, so a long run is shown whole at a coarser epoch resolution.
"""
from __future__ import annotations

import math

import numpy as np

#: bins per histogram; a multiple of 4, which makes doubling a symmetric range exact
BINS = 32
#: elements per tensor and batch that go into a histogram (evenly strided beyond that)
MAX_ELEMENTS = 4096
#: epochs kept per track before older frames are thinned
MAX_FRAMES = 120
#: the narrowest range a track starts with (all-zero tensors, e.g. fresh biases)
SMALLEST_RANGE = 2.0 ** -20

SHAPES = ("signed", "positive", "fixed")


class HistogramTrack:
    """Counts of one tensor's values: the epoch in progress plus kept frames.

    Parameters
    ----------
    shape : {"signed", "positive", "fixed"}
        [−R, R], [0, R], or the given ``fixed`` range that never changes.
    fixed : (low, high), for ``shape="fixed"``
    """

    def __init__(self, shape: str = "signed", fixed: tuple[float, float] | None = None) -> None:
        if shape not in SHAPES:
            raise ValueError(f"histogram shape must be one of {SHAPES}, got {shape!r}")
        self.shape = shape
        self.low, self.high = fixed if shape == "fixed" else (0.0, 0.0)
        self.counts = np.zeros(BINS, dtype=np.int64)
        self.frame_epochs: list[int] = []
        self.frames: list[np.ndarray] = []

    @property
    def started(self) -> bool:
        return self.high > self.low

    def add(self, values: np.ndarray) -> None:
        """Count ``values`` (any shape) into the epoch in progress; non-finite ones are left out.

        Called on sampled batches only, but on small networks each numpy call here is a
        visible share of a training step: the common path is six calls.
        """
        flat = values.reshape(-1)
        if flat.size > MAX_ELEMENTS:
            flat = flat[::-(-flat.size // MAX_ELEMENTS)]
        if flat.size == 0:
            return
        if self.shape != "fixed":
            largest = float(np.abs(flat).max())
            if not (self.started and largest <= self.high):  # also when NaN
                if not math.isfinite(largest):
                    flat = flat[np.isfinite(flat)]
                    if flat.size == 0:
                        return
                    largest = float(np.abs(flat).max())
                self._cover(largest)
        elif not np.isfinite(flat.sum()):
            flat = flat[np.isfinite(flat)]
        shifted = flat - self.low if self.low else flat
        index = (shifted * (BINS / (self.high - self.low))).astype(np.intp)
        np.minimum(index, BINS - 1, out=index)  # the top edge; nothing lies below low
        self.counts += np.bincount(index, minlength=BINS)

    def _cover(self, largest: float) -> None:
        """Start or widen the range (by doublings) so that it holds ``largest``."""
        if not self.started:
            exponent = math.ceil(math.log2(max(largest, SMALLEST_RANGE)))
            self.high = 2.0 ** exponent
            self.low = -self.high if self.shape == "signed" else 0.0
            return
        while largest > self.high:
            self.high *= 2
            self.low = -self.high if self.shape == "signed" else 0.0
            self.counts = self._merged(self.counts)
            self.frames = [self._merged(frame) for frame in self.frames]

    def _merged(self, counts: np.ndarray) -> np.ndarray:
        """Counts on the edges of the doubled range: pairs of old bins make one new bin."""
        pairs = counts.reshape(BINS // 2, 2).sum(axis=1)
        merged = np.zeros(BINS, dtype=np.int64)
        if self.shape == "signed":  # the old range is the middle half of the new one
            merged[BINS // 4: BINS // 4 + BINS // 2] = pairs
        else:                       # the old range is the lower half
            merged[:BINS // 2] = pairs
        return merged

    def close_epoch(self, epoch: int) -> np.ndarray | None:
        """Keep the epoch's counts as a frame (if any were counted) and return it (read only)."""
        frame = self.counts
        if not frame.any():
            return None
        # the frame is shared with the caller: kept frames are never changed in place
        # (a wider range replaces them by merged copies)
        self.frame_epochs.append(int(epoch))
        self.frames.append(frame)
        if len(self.frames) > MAX_FRAMES:
            self.frame_epochs, self.frames = self.frame_epochs[::2], self.frames[::2]
        self.counts = np.zeros(BINS, dtype=np.int64)
        return frame

    def discard_epoch(self) -> None:
        self.counts[:] = 0

    def edges(self) -> np.ndarray:
        """(BINS + 1,) bin edges."""
        return np.linspace(self.low, self.high, BINS + 1)

    # -- plain data ---------------------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        frames = np.array(self.frames, dtype=np.int64).reshape(len(self.frames), BINS)
        return {f"{prefix}/range": np.array([self.low, self.high]),
                f"{prefix}/counts": self.counts.copy(),
                f"{prefix}/frame_epochs": np.array(self.frame_epochs, dtype=np.int64),
                f"{prefix}/frames": frames}

    def load_arrays(self, prefix: str, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`to_arrays` output; raises ValueError naming a bad array."""
        try:
            low, high = (float(v) for v in _array(arrays, f"{prefix}/range", (2,)))
            counts = _array(arrays, f"{prefix}/counts", (BINS,), integer=True)
            epochs = _array(arrays, f"{prefix}/frame_epochs", None, integer=True)
            frames = _array(arrays, f"{prefix}/frames", (len(epochs), BINS), integer=True)
        except KeyError as exc:
            raise ValueError(f"trainer state: layer health: missing {exc}") from None
        if self.shape == "fixed" and (low, high) != (self.low, self.high) and high > low:
            raise ValueError(f"trainer state: layer health: {prefix}/range must be {self.low, self.high}")
        if not (math.isfinite(low) and math.isfinite(high)) or high < low:
            raise ValueError(f"trainer state: layer health: {prefix}/range is not a range")
        if (counts < 0).any() or (frames < 0).any():
            raise ValueError(f"trainer state: layer health: {prefix} has negative counts")
        self.low, self.high = low, high
        self.counts = counts.astype(np.int64)
        self.frame_epochs = [int(e) for e in epochs]
        self.frames = [row.astype(np.int64) for row in frames]


def _array(arrays: dict[str, np.ndarray], key: str, shape: tuple | None,
           integer: bool = False) -> np.ndarray:
    value = np.asarray(arrays[key])
    if shape is not None and value.shape != shape or shape is None and value.ndim != 1:
        raise ValueError(f"trainer state: layer health: {key} has shape {value.shape}, "
                         f"expected {shape if shape is not None else '(N,)'}")
    if integer and not np.issubdtype(value.dtype, np.integer):
        raise ValueError(f"trainer state: layer health: {key} must hold integers")
    if not integer and not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"trainer state: layer health: {key} must hold numbers")
    return value


def align_frames(frames: list[tuple[int, float, float, np.ndarray]]
                 ) -> tuple[float, float, list[int], np.ndarray]:
    """Frames recorded while a range grew, on the edges of the widest one.

    ``frames``: (epoch, low, high, counts (BINS,)) as a live view receives them, one per
    epoch. A track's ranges only ever double ([−R, R] or [0, R]) or stay fixed, so each older
    frame merges exactly into the newest edges. Returns (low, high, epochs, counts (F, BINS)).
    """
    if not frames:
        return 0.0, 0.0, [], np.zeros((0, BINS), dtype=np.int64)
    low, high = min(f[1] for f in frames), max(f[2] for f in frames)
    rows = []
    for _, frame_low, frame_high, counts in frames:
        counts = np.asarray(counts, dtype=np.int64)
        track = HistogramTrack("signed" if frame_low < 0 else "positive")
        track.low, track.high = frame_low, frame_high
        while track.high < high and track.high > 0:
            track.high *= 2
            counts = track._merged(counts)
        rows.append(counts)
    return low, high, [f[0] for f in frames], np.array(rows, dtype=np.int64)


class PackedTracks:
    """The tracks of consecutive slices of one flat array (a network's packed parameters, or
    their gradients), counted with one ``bincount`` for all slices instead of one per tensor:
    on a small network the number of numpy calls is the cost.

    Parameters
    ----------
    tracks : list of HistogramTrack ("signed"), one per slice
    spans : list of slice, consecutive slices of the flat array
    """

    def __init__(self, tracks: list[HistogramTrack], spans: list[slice]) -> None:
        picks = [np.arange(span.start, span.stop, max(1, -(-(span.stop - span.start) // MAX_ELEMENTS)))
                 for span in spans]
        self.tracks = tracks
        self.picks = np.concatenate(picks)
        sizes = [len(pick) for pick in picks]
        self.sizes = np.array(sizes)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        self.offsets = np.repeat(np.arange(len(spans)) * BINS, sizes)
        self._ranges: list[tuple[float, float]] | None = None

    def add(self, flat: np.ndarray) -> None:
        values = flat[self.picks]
        largest = np.maximum.reduceat(np.abs(values), self.starts)
        highs = [track.high if track.started else -1.0 for track in self.tracks]
        if not (largest <= highs).all():  # also when NaN: grow ranges (rare)
            if not np.isfinite(largest).all():
                for track, span in zip(self.tracks, np.split(values, self.starts[1:])):
                    track.add(span)  # the careful path
                return
            for track, biggest in zip(self.tracks, largest):
                track._cover(float(biggest))
        ranges = [(track.low, track.high) for track in self.tracks]
        if ranges != self._ranges:
            self._ranges = ranges
            self._low = np.repeat([low for low, _ in ranges], self.sizes)
            self._scale = np.repeat([BINS / (high - low) for low, high in ranges], self.sizes)
        index = ((values - self._low) * self._scale).astype(np.intp)
        np.minimum(index, BINS - 1, out=index)
        index += self.offsets
        counts = np.bincount(index, minlength=len(self.tracks) * BINS).reshape(len(self.tracks), BINS)
        for track, row in zip(self.tracks, counts):
            track.counts += row
