"""Layer health: per-layer statistics while training, findings in words, sanity checks.

``HealthRecorder`` (used by the trainer), ``find_problems(history, task, n_classes)``,
``check_initial_loss`` and ``overfit_tiny_batch``. No Qt.
"""
from .findings import Finding, expected_initial_loss, find_problems, initial_loss_finding
from .histograms import BINS, HistogramTrack, align_frames
from .layout import layer_entries_ok, layer_kind
from .recorder import SAMPLE_EVERY, EpochHealth, HealthRecorder
from .sanity import SanityResult, check_initial_loss, judge_initial_loss, overfit_tiny_batch

__all__ = [
    "BINS", "SAMPLE_EVERY", "EpochHealth", "Finding", "HealthRecorder", "HistogramTrack",
    "SanityResult", "align_frames", "check_initial_loss", "expected_initial_loss",
    "find_problems", "initial_loss_finding", "judge_initial_loss", "layer_entries_ok", "layer_kind", "overfit_tiny_batch",
]
