"""Per-column standardization fitted on training rows: :class:`Standardizer`."""
from __future__ import annotations

import numpy as np

_BLOCK_ROWS = 1 << 15
_TINY_SCALE = 1e-12


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
    def fit(cls, x: np.ndarray, columns: int | None = None) -> "Standardizer":
        """Fit to the rows of ``x``: population mean and standard deviation per column.

        Parameters
        ----------
        x : ndarray, shape (N, D)
            Training rows. Statistics are accumulated in float64 over blocks of
            rows, so a float32 array is never copied whole.
        columns : int, optional
            Standardize only the first ``columns`` columns; the rest get
            ``mean=0, scale=1``. Default: all.

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
        mean, scale = np.zeros(width), np.ones(width)
        if n == 0 or k == 0:
            return cls(mean, scale)
        total = np.zeros(k)
        for start in range(0, n, _BLOCK_ROWS):
            total += x[start:start + _BLOCK_ROWS, :k].sum(axis=0, dtype=np.float64)
        mean[:k] = total / n
        # Two passes (mean first, then squared deviations) avoid the cancellation
        # of sum(x**2) - n*mean**2 on columns far from zero.
        squares = np.zeros(k)
        for start in range(0, n, _BLOCK_ROWS):
            deviation = x[start:start + _BLOCK_ROWS, :k] - mean[:k]
            squares += np.einsum("ij,ij->j", deviation, deviation)
        std = np.sqrt(squares / n)
        scale[:k] = np.where(std > _TINY_SCALE * np.maximum(1.0, np.abs(mean[:k])), std, 1.0)
        return cls(mean, scale)

    def transform(self, x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
        """Standardize ``x`` (N, D); returns float32 (N, D), ``x`` itself when ``inplace``."""
        x = self._check(x)
        out = x if inplace else np.array(x, dtype=np.float32, order="C")
        if inplace and out.dtype != np.float32:
            raise ValueError(f"in-place standardization needs float32, not {out.dtype}")
        k = self._active()
        mean = self.mean[:k].astype(np.float32)
        inverse = (1.0 / self.scale[:k]).astype(np.float32)
        for start in range(0, out.shape[0], _BLOCK_ROWS):
            part = out[start:start + _BLOCK_ROWS, :k]
            part -= mean
            part *= inverse
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
