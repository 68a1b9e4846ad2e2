"""The one-line summary above the views: what was checked and what it found, in words."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from nnstudio.engine.gradcheck import KINK, MISMATCH, UNVERIFIABLE

from .status import format_error
from .store import CheckProgress

STYLES = {
    "idle": "background:#eceff1; color:#263238;",
    "running": "background:#e3f2fd; color:#0d47a1;",
    "pass": "background:#e8f5e9; color:#1b5e20;",
    "fail": "background:#c62828; color:#ffffff;",
}
IDLE_TEXT = ("No check yet. Press a Step or Run button to check the current network's "
             "backward pass against central differences.")


def summary_text(progress: CheckProgress | None, running: bool = False,
                 caveat: str = "") -> tuple[str, str]:
    """(text, style key) for the summary of ``progress``; ``caveat`` is appended: a
    sentence that changes how to read the verdict."""
    if progress is None:
        return IDLE_TEXT, "idle"
    phase = f"[{progress.phase}] " if progress.phase else ""
    text, kind = _phase_text(progress, running, caveat)
    return phase + text, kind


def _phase_text(progress: CheckProgress, running: bool, caveat: str) -> tuple[str, str]:
    totals = progress.totals
    mismatch, kink = totals[MISMATCH], totals[KINK]
    unverifiable = totals.get(UNVERIFIABLE, 0)
    failing = [p for p in progress.problems if p.fails]
    screened_bad = [s.tensor for s in progress.screen or () if s.verdict == MISMATCH]
    worst = max((s.max_rel_error for s in progress.tensor_summaries if s.checked), default=None)
    kinks = (f"; {kink:,} kink{'s' if kink != 1 else ''} (not bugs)" if kink else "")
    checked = f"{progress.checked:,} of {progress.planned:,} elements checked"
    tail = f" {caveat}" if caveat else ""
    if failing:
        return f"✗ FAIL — {failing[0].message}.{tail}", "fail"
    if mismatch or screened_bad:
        where = _mismatch_places(progress) or ", ".join(screened_bad)
        count = f"{mismatch:,} MISMATCH{'ES' if mismatch != 1 else ''}" if mismatch \
            else "the screen flags a MISMATCH"
        culprit = (progress.culprits[0].message[0].upper() + progress.culprits[0].message[1:]
                   + ". ") if progress.culprits else ""
        return f"✗ FAIL — {culprit}{count} in {where}{kinks}. {checked}.{tail}", "fail"
    if unverifiable:
        return (f"? NOT VERIFIED — {unverifiable:,} element{'s' if unverifiable != 1 else ''} "
                "where rounding noise could hide a 2x error (standardize the target and the "
                f"inputs). {checked}.{tail}"), "fail"
    worst_text = f"; max relative error {format_error(worst)}" if worst is not None else ""
    if progress.finished:
        return (f"✓ PASS — all {progress.checked:,} checked elements agree with the central "
                f"difference{kinks}{worst_text}.{tail}"), "pass"
    state = "running" if running else "idle"
    return f"{checked}: no mismatch so far{kinks}{worst_text}.", state


def _mismatch_places(progress: CheckProgress) -> str:
    """E.g. "1.gamma, 1.beta (layer 1 BatchNorm)": the tensors with mismatches, by layer."""
    by_layer: dict[int, tuple[str, list[str]]] = {}
    for summary in progress.tensor_summaries:
        if summary.mismatch:
            info = summary.info
            label, names = by_layer.setdefault(info.layer_index, (info.layer_label, []))
            names.append(info.name)
    return "; ".join(f"{', '.join(names)} (layer {index} {label})"
                     for index, (label, names) in by_layer.items())


class SummaryLine(QLabel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckSummary")
        self.setWordWrap(True)
        self.kind = "idle"
        self.show_progress(None)

    def show_progress(self, progress: CheckProgress | None, running: bool = False,
                      caveat: str = "") -> None:
        text, kind = summary_text(progress, running, caveat)
        self.show_text(text, kind)

    def show_text(self, text: str, kind: str = "idle") -> None:
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ {STYLES[kind]} padding:6px; font-weight:bold; "
                           "font-size:13px; border-radius:3px; }")
