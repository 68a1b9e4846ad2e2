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
        """Count ``values`` (any shape) into the epoch in progress; non-finite ones are left out."""
        self.counts += count_pieces([self], [(0, 0, strided(values))], 1)[0, 0]

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
        self.counts = np.zeros(BINS, dtype=np.int64)
        if not frame.any():
            return None
        self.keep_frames([epoch], [frame])
        return frame

    def keep_frames(self, epochs: list[int], frames: list[np.ndarray]) -> None:
        """Keep non-empty ``frames`` (BINS,) of ``epochs``; the caller never changes them
        (a wider range replaces kept frames by merged copies, never in place)."""
        for epoch, frame in zip(epochs, frames):  # one at a time: thinned as if epoch by epoch
            self.frame_epochs.append(int(epoch))
            self.frames.append(frame)
            if len(self.frames) > MAX_FRAMES:
                self.frame_epochs, self.frames = self.frame_epochs[::2], self.frames[::2]

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


def strided(values: np.ndarray) -> np.ndarray:
    """``values`` flattened, evenly strided down to at most ``MAX_ELEMENTS`` (a view)."""
    flat = values.reshape(-1)
    return flat[::-(-flat.size // MAX_ELEMENTS)] if flat.size > MAX_ELEMENTS else flat


def count_pieces(tracks: list[HistogramTrack], pieces: list[tuple[int, int, np.ndarray]],
                 slots: int) -> np.ndarray:
    """:func:`count_values` for (slot, track index, values 1-D) triples."""
    pieces = [piece for piece in pieces if piece[2].size]
    if not pieces:
        return np.zeros((slots, len(tracks), BINS), dtype=np.int64)
    return count_values(tracks, np.concatenate([piece[2] for piece in pieces]),
                        np.array([piece[2].size for piece in pieces]),
                        np.array([piece[1] for piece in pieces], dtype=np.intp),
                        np.array([piece[0] for piece in pieces], dtype=np.intp), slots)


def count_values(tracks: list[HistogramTrack], values: np.ndarray, sizes: np.ndarray,
                 track_of: np.ndarray, slot_of: np.ndarray, slots: int) -> np.ndarray:
    """Count many tensors into many tracks at once: (slots, len(tracks), BINS) counts.

    ``values`` holds the tensors one after the other, ``sizes[i]`` elements for piece ``i``
    of track ``track_of[i]`` and slot ``slot_of[i]`` (e.g. one piece per epoch and layer;
    every size > 0). Every track first grows to hold all of its pieces (its kept frames
    merge exactly, as in :meth:`HistogramTrack.add`), then one ``bincount`` counts every
    piece: on a small network the number of numpy calls is the cost, and this makes it the
    same for one epoch or forty. Non-finite values are left out.
    """
    n_tracks = len(tracks)
    counts = np.zeros((slots, n_tracks, BINS), dtype=np.int64)
    starts = np.zeros(len(sizes), dtype=np.intp)
    np.cumsum(sizes[:-1], out=starts[1:])
    largest = np.maximum.reduceat(np.abs(values), starts)
    if not np.isfinite(largest).all():  # rare: a batch on its way to divergence
        keep = np.isfinite(values)
        sizes = np.add.reduceat(keep, starts)
        values, track_of, slot_of = values[keep], track_of[sizes > 0], slot_of[sizes > 0]
        sizes = sizes[sizes > 0]
        if not len(sizes):
            return counts
        starts = np.zeros(len(sizes), dtype=np.intp)
        np.cumsum(sizes[:-1], out=starts[1:])
        largest = np.maximum.reduceat(np.abs(values), starts)
    biggest = np.full(n_tracks, -1.0)
    np.maximum.at(biggest, track_of, largest)
    for track, value in zip(tracks, biggest.tolist()):
        if value >= 0 and track.shape != "fixed" and not (track.started and value <= track.high):
            track._cover(value)
    lows = np.array([track.low for track in tracks])
    scales = np.array([BINS / (track.high - track.low) if track.started else 0.0 for track in tracks])
    index = ((values - np.repeat(lows[track_of], sizes)) * np.repeat(scales[track_of], sizes)
             ).astype(np.intp)
    np.clip(index, 0, BINS - 1, out=index)  # the top edge; fixed ranges hold their values
    index += np.repeat((slot_of * n_tracks + track_of) * BINS, sizes)
    counts += np.bincount(index, minlength=slots * n_tracks * BINS).reshape(slots, n_tracks, BINS)
    return counts
