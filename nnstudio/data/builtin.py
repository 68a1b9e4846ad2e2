"""Built-in datasets: 2-D sets generated from a seed (as in TensorFlow Playground) and Iris.

The generators follow the Playground's ``dataset.ts``: points within a radius
of about 5-6, and ``noise`` in [0, 1] scales the random jitter (the Playground's
noise slider divided by 100).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..resources import resource_path
from .dataset import Dataset
from .csv.loader import load_csv
from .options import LoadOptions

Generator = Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]
_RADIUS = 5.0


def two_spirals(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals; x (n, 2), y (n,) in {0, 1}."""
    half = n // 2
    labels = np.repeat([0, 1], [half, n - half])
    position = np.concatenate([np.arange(half) / max(half, 1),
                               np.arange(n - half) / max(n - half, 1)])
    radius = position * _RADIUS
    angle = 1.75 * position * 2 * np.pi + labels * np.pi
    jitter = rng.uniform(-1, 1, size=(n, 2)) * noise
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1) + jitter
    return x, labels


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in the four quadrants, class 1 where x*y > 0; x (n, 2), y (n,)."""
    padding = 0.3
    x = rng.uniform(-_RADIUS, _RADIUS, size=(n, 2))
    x += np.where(x > 0, padding, -padding)  # keep points off the axes, as the Playground does
    jittered = x + rng.uniform(-_RADIUS, _RADIUS, size=(n, 2)) * noise
    return x, (jittered[:, 0] * jittered[:, 1] >= 0).astype(np.int64)


def circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A disc (class 1) inside a ring (class 0); labels from the jittered point."""
    half = n // 2
    radius = np.concatenate([rng.uniform(0, _RADIUS * 0.5, half),
                             rng.uniform(_RADIUS * 0.7, _RADIUS, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    jittered = x + rng.uniform(-_RADIUS, _RADIUS, size=(n, 2)) * noise
    labels = (np.hypot(jittered[:, 0], jittered[:, 1]) < _RADIUS * 0.5).astype(np.int64)
    return x, labels


def gaussians(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clusters around (2, 2) (class 1) and (-2, -2) (class 0)."""
    spread = 0.5 + 3.5 * noise  # the Playground's lerp(0.5, 4, noise)
    half = n // 2
    labels = np.repeat([1, 0], [half, n - half])
    centres = np.where(labels[:, None] == 1, 2.0, -2.0)
    return centres + rng.normal(0.0, np.sqrt(spread), size=(n, 2)), labels


def regression_surface(n: int, noise: float,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A smooth surface of Gaussian bumps on [-6, 6]^2; y (n,) roughly in [-1, 1]."""
    x = rng.uniform(-6.0, 6.0, size=(n, 2))
    bumps = ((-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1))
    y = np.zeros(n)
    for cx, cy, sign in bumps:
        y += sign * np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 4.0)
    return x, y + rng.normal(0.0, 1.0, n) * noise * 0.5


_GENERATED: dict[str, tuple[Generator, str, list[str] | None]] = {
    "two_spirals": (two_spirals, "classification", ["spiral A", "spiral B"]),
    "xor": (xor, "classification", ["different signs", "same sign"]),
    "circles": (circles, "classification", ["outer ring", "inner disc"]),
    "gaussians": (gaussians, "classification", ["cluster (-2,-2)", "cluster (2,2)"]),
    "regression_surface": (regression_surface, "regression", None),
}
_CSV = {"iris": ("iris.csv", "species")}


def builtin_names() -> list[str]:
    """Names accepted by :func:`make_builtin`."""
    return list(_CSV) + list(_GENERATED)


def make_builtin(name: str, n_samples: int = 500, noise: float = 0.1, seed: int = 0,
                 val_fraction: float = 0.15, test_fraction: float = 0.15,
                 standardize: bool = True, standardize_target: bool = True) -> Dataset:
    """A built-in dataset, generated from ``seed`` or read from ``resources/datasets``.

    Parameters
    ----------
    name : str
        One of :func:`builtin_names`.
    n_samples : int
        Points to generate (at least 10); ignored for CSV datasets such as "iris".
    noise : float
        Jitter in [0, 1]; ignored for CSV datasets.
    seed : int
        Seeds both the generated points and the split.
    val_fraction, test_fraction, standardize, standardize_target
        As in :class:`LoadOptions`.

    Returns
    -------
    Dataset
        ``source`` is ``"builtin:<name>"``.
    """
    if name in _CSV:
        filename, target = _CSV[name]
        options = LoadOptions(target=target, val_fraction=val_fraction,
                              test_fraction=test_fraction, seed=seed, standardize=standardize,
                              standardize_target=standardize_target)
        dataset = load_csv(resource_path("datasets", filename), options)
        dataset.source = f"builtin:{name}"
        return dataset
    if name not in _GENERATED:
        raise ValueError(f"unknown built-in dataset {name!r}; choose one of {builtin_names()}")
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 10:
        raise ValueError(f"n_samples must be an integer >= 10, not {n_samples!r}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], not {noise!r}")
    generate, task, class_names = _GENERATED[name]
    x, y = generate(int(n_samples), float(noise), np.random.default_rng(seed))
    return Dataset.from_arrays(x, y, task, feature_names=["x1", "x2"], class_names=class_names,
                               val_fraction=val_fraction, test_fraction=test_fraction, seed=seed,
                               standardize=standardize, source=f"builtin:{name}",
                               standardize_target=standardize_target)
