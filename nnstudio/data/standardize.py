"""Per-column standardization fitted on training rows: :class:`Standardizer`."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .options import LoadOptions

_BLOCK_ROWS = 1 << 15
_TINY_SCALE = 1e-12


def block_moments(x: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Row count, float64 mean and sum of squared deviations per column of a block (n, k).

    Sums are accumulated in float64. The deviations are taken from the mean
    rounded to x's dtype (no float64 copy of the block) and the sum of squares
    is then moved to the exact mean: sum((x-m)^2) = sum((x-r)^2) - n (m-r)^2.
    Subtracting the mean first avoids the cancellation of sum(x^2) - n m^2.
    """
    n = x.shape[0]
    if n == 0:
        return 0, np.zeros(x.shape[1]), np.zeros(x.shape[1])
    mean = np.einsum("ij->j", x, dtype=np.float64) / n
    rounded = mean.astype(x.dtype)
    deviation = x - rounded
    squares = np.einsum("ij,ij->j", deviation, deviation, dtype=np.float64)
    shift = mean - rounded
    return n, mean, np.maximum(squares - n * shift * shift, 0.0)


def combine_moments(parts) -> tuple[int, np.ndarray | None, np.ndarray | None]:
    """Merge per-block moments (Chan, Golub and LeVeque's pairwise update)."""
    count, mean, squares = 0, None, None
    for n, block_mean, block_squares in parts:
        if n == 0:
            continue
        if mean is None:
            count, mean, squares = n, block_mean.copy(), block_squares.copy()
            continue
        delta = block_mean - mean
        total = count + n
        mean += delta * (n / total)
        squares += block_squares + delta * delta * (count * n / total)
        count = total
    return count, mean, squares


def _map(function, items, workers: int) -> list:
    """``list(map(function, items))``, over a thread pool when ``workers > 1``."""
    items = list(items)
    if workers <= 1 or len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(function, items))


class Standardizer:
    """``(x - mean) / scale`` per column, with statistics from training rows only.

    Parameters
    ----------
    mean, scale : array_like, shape (D,)
        Per-column centre and scale. A column with ``mean=0, scale=1`` (for
        example a one-hot column) passes through unchanged.
    """

    def __init__(self, mean, scale) -> None:
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.scale = np.asarray(scale, dtype=np.float64).reshape(-1)
        if self.mean.shape != self.scale.shape:
            raise ValueError(f"mean and scale must have the same length, not "
                             f"{self.mean.shape[0]} and {self.scale.shape[0]}")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.scale))
                and np.all(self.scale > 0)):
            raise ValueError("mean must be finite and scale finite and positive")

    @property
    def n_features(self) -> int:
        return self.mean.shape[0]

    @classmethod
    def fit(cls, x: np.ndarray, columns: int | None = None, *, workers: int = 1) -> "Standardizer":
        """Fit to the rows of ``x``: population mean and standard deviation per column.

        Parameters
        ----------
        x : ndarray, shape (N, D)
            Training rows. Statistics are accumulated in float64 over blocks of
            rows, so a float32 array is never copied whole.
        columns : int, optional
            Standardize only the first ``columns`` columns; the rest get
            ``mean=0, scale=1``. Default: all.
        workers : int
            Threads over which the blocks are shared (numpy releases the GIL).

        Returns
        -------
        Standardizer
            A column that does not vary gets ``scale=1``.
        """
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f"x must have shape (N, D), not {x.shape}")
        n, width = x.shape
        k = width if columns is None else int(columns)
        if n == 0 or k == 0:
            return cls(np.zeros(width), np.ones(width))
        blocks = [x[start:start + _BLOCK_ROWS, :k] for start in range(0, n, _BLOCK_ROWS)]
        return cls.from_moments(_map(block_moments, blocks, workers), width)

    @classmethod
    def from_moments(cls, parts, width: int) -> "Standardizer":
        """Build from per-block :func:`block_moments` of the first k <= ``width`` columns.

        Lets a caller that already holds blocks of training rows (the CSV
        loader, while writing them) skip a second pass over the data.
        """
        count, block_mean, squares = combine_moments(parts)
        mean, scale = np.zeros(width), np.ones(width)
        if count == 0:
            return cls(mean, scale)
        assert block_mean is not None and squares is not None  # some block had rows
        k = block_mean.shape[0]
        mean[:k] = block_mean
        std = np.sqrt(squares / count)
        scale[:k] = np.where(std > _TINY_SCALE * np.maximum(1.0, np.abs(block_mean)), std, 1.0)
        return cls(mean, scale)

    def transform(self, x: np.ndarray, *, inplace: bool = False, workers: int = 1) -> np.ndarray:
        """Standardize ``x`` (N, D); returns float32 (N, D), ``x`` itself when ``inplace``."""
        x = self._check(x)
        out = x if inplace else np.array(x, dtype=np.float32, order="C")
        if inplace and out.dtype != np.float32:
            raise ValueError(f"in-place standardization needs float32, not {out.dtype}")
        k = self._active()
        mean = self.mean[:k].astype(np.float32)
        inverse = (1.0 / self.scale[:k]).astype(np.float32)

        def scale_block(start: int) -> None:
            part = out[start:start + _BLOCK_ROWS, :k]
            part -= mean
            part *= inverse

        _map(scale_block, range(0, out.shape[0], _BLOCK_ROWS), workers)
        return out

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`: float32 (N, D) in the original units."""
        x = self._check(x)
        return (x * self.scale + self.mean).astype(np.float32)

    def _active(self) -> int:
        """Columns up to the last one that is not a pass-through (mean 0, scale 1)."""
        changed = np.flatnonzero((self.mean != 0) | (self.scale != 1))
        return int(changed[-1]) + 1 if len(changed) else 0

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected an array of shape (N, {self.n_features}), not {x.shape}")
        return x

    def to_dict(self) -> dict:
        """JSON-safe form: ``{"mean": [...], "scale": [...]}``."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Standardizer":
        """Inverse of :meth:`to_dict`; raises ValueError on missing keys or bad values."""
        try:
            return cls(d["mean"], d["scale"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a standardizer description: {exc}") from None


def standardize_target(y: np.ndarray, n_train: int, task: str,
                       opts: LoadOptions) -> Standardizer | None:
    """Standardize regression targets y (N, 1) in place with the first ``n_train`` rows'
    statistics (the training split); None when the options or the task say no."""
    if task != "regression" or not opts.standardize_target or n_train == 0:
        return None
    scaler = Standardizer.fit(y[:n_train])
    scaler.transform(y, inplace=True)
    return scaler
