"""Gradient checker: central differences against the backward pass, element by element.

See ``checker.GradientChecker`` for the stepping API and DESIGN.md "Gradient checker".
"""
from .batch import check_batch
from .checker import UNTIL, GradientChecker
from .config import (BN_STATS_MODES, DEFAULT_ATOL, DEFAULT_H, DEFAULT_RTOL, DROPOUT_MODES,
                     CheckConfig)
from .objective import Objective
from .report import FORMAT, CheckReport
from .results import KINK, MISMATCH, OK, ElementResult, KinkDetail, ScreenResult, TensorInfo
from .screen import directional_screen
from .summary import UNCHECKED, LayerSummary, TensorSummary

__all__ = [
    "BN_STATS_MODES", "DEFAULT_ATOL", "DEFAULT_H", "DEFAULT_RTOL", "DROPOUT_MODES", "FORMAT",
    "KINK", "MISMATCH", "OK", "UNCHECKED", "UNTIL", "CheckConfig", "CheckReport",
    "ElementResult", "GradientChecker", "KinkDetail", "LayerSummary", "Objective",
    "ScreenResult", "TensorInfo", "TensorSummary", "check_batch", "directional_screen",
]
