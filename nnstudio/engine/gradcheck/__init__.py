"""Gradient checker: central differences against the backward pass, element by element.

See ``checker.GradientChecker`` for the stepping API and DESIGN.md "Gradient checker".
"""
from ..context import BN_STATS_MODES
from .batch import check_batch
from .checker import UNTIL, GradientChecker
from .config import DEFAULT_ATOL, DEFAULT_H, DEFAULT_RTOL, DROPOUT_MODES, CheckConfig
from .culprits import Culprit, LayerRole
from .objective import Objective
from .phases import (FIT, PHASE_CHOICES, PREDICT, SELECTED, PhasedReport, check_network,
                     choose_phases, phase_checker, phase_config)
from .report import FORMAT, CheckReport
from .results import (INPUT_PARAM, KINK, MISMATCH, OK, UNVERIFIABLE, ElementResult, KinkDetail,
                      Problem, ScreenResult, TensorInfo)
from .screen import directional_screen
from .summary import UNCHECKED, LayerSummary, TensorSummary

__all__ = [
    "BN_STATS_MODES", "DEFAULT_ATOL", "DEFAULT_H", "DEFAULT_RTOL", "DROPOUT_MODES", "FIT",
    "FORMAT", "INPUT_PARAM", "KINK", "MISMATCH", "OK", "PHASE_CHOICES", "PREDICT", "SELECTED",
    "UNCHECKED", "UNTIL", "UNVERIFIABLE", "CheckConfig", "CheckReport", "Culprit",
    "ElementResult", "GradientChecker", "KinkDetail", "LayerRole", "LayerSummary", "Objective",
    "PhasedReport", "Problem", "ScreenResult", "TensorInfo", "TensorSummary", "check_batch",
    "check_network", "choose_phases", "directional_screen", "phase_checker", "phase_config",
]
