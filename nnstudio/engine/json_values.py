"""Numbers for JSON: it has no NaN or infinity, so those are written as null."""
from __future__ import annotations

import math

import numpy as np


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None for NaN and ±infinity."""
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value):
    """A copy of nested dicts/lists/tuples with non-finite floats as None and numpy
    scalars as Python numbers, ready for ``json.dumps(..., allow_nan=False)``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value
