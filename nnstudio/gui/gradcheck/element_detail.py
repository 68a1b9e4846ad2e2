"""The numbers behind one element: analytic and numeric gradient, f(θ±h), the errors, how
far past the tolerance it is, and the kink detail with what it means."""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from nnstudio.engine.gradcheck import KINK, MISMATCH, ElementResult
from nnstudio.engine.gradcheck.verdict import errors, violation

from .settings import format_setting
from .status import EXPLANATIONS, format_error, format_value, status_colour, status_text


CLICK_HINT = "Click a cell of the heatmap or a row of the table to see that element."


class ElementDetail(QLabel):
    """A rich-text panel; ``show_result(None, ...)`` shows why there is nothing to show."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckElementDetail")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setMinimumWidth(260)
        self.result: ElementResult | None = None
        self.show_result(None)

    def show_result(self, result: ElementResult | None,
                    tolerance: tuple[float, float] | None = None, note: str = "",
                    caveat: str = "") -> None:
        """``caveat``: a sentence that changes how to read the verdict (re-drawn masks)."""
        self.result = result
        if result is None:
            self.setText(f"<i>{html.escape(note or CLICK_HINT)}</i>")
            return
        text = describe(result, tolerance)
        if caveat and result.verdict == MISMATCH:
            text += f"<p style='color:#b71c1c'><b>{html.escape(caveat)}</b></p>"
        self.setText(text)


def describe(result: ElementResult, tolerance: tuple[float, float] | None) -> str:
    """HTML: the element's numbers, its verdict and what the verdict means.

    ``tolerance`` is (rtol, atol) as the check applied them.
    """
    colour = status_colour(result.verdict)
    pairs = [("Analytic (backward)", format_value(result.analytic),
              "Numeric (central diff.)", format_value(result.numeric)),
             ("f(θ + h)", format_value(result.f_plus),
              "f(θ − h)", format_value(result.f_minus)),
             ("Absolute error", format_error(result.abs_error),
              "Relative error", format_error(result.rel_error))]
    # two name/value pairs per row: the panel sits under the heatmap, wide but short
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(name)}</td><td style='padding:0 14px 0 6px'>"
                         f"<tt>{html.escape(value)}</tt></td>"
                         for name, value in ((a, b), (c, d))) + "</tr>"
        for a, b, c, d in pairs)
    verdict = html.escape(status_text(result.verdict))
    parts = [f"<b>{html.escape(result.label)}</b> &nbsp; "
             f"<span style='color:{colour}'><b>{verdict}</b></span>"
             f" &nbsp; {html.escape(EXPLANATIONS[result.verdict])}",
             f"<table>{table}</table>"]
    if tolerance is not None:
        rtol, atol = tolerance
        ratio = _violation(result, rtol, atol)
        outcome = "passes" if ratio <= 1 else (
            "beyond it, explained by the kink" if result.verdict == KINK else "fails")
        rule = f"|a−n| ≤ {atol:.3g} + {format_setting(rtol)}·max(|a|,|n|)"
        parts.append(f"Rule {rule}: the error is <b>{ratio:.3g}×</b> the tolerance ({outcome}).")
    if result.kinks:
        items = "".join(f"<li>{html.escape(_kink_line(kink))}</li>" for kink in result.kinks)
        parts.append(f"<b>Kink detail</b><ul style='margin-top:0'>{items}</ul>")
    return "".join(parts)


def _kink_line(kink) -> str:
    if kink.source == "l1":
        return (f"the sign of this weight inside the L1 penalty flips between θ+h and θ−h "
                f"(layer {kink.layer_index} {kink.layer_label})")
    units = "unit" if kink.units == 1 else "units"
    return (f"layer {kink.layer_index} {kink.layer_label}: {kink.units} {units} switched "
            f"on/off between θ+h and θ−h")


def _violation(result: ElementResult, rtol: float, atol: float) -> float:
    """The engine's own measure of how far past the tolerance the element is."""
    abs_error, _, scale = errors(np.array([result.analytic]), np.array([result.numeric]))
    return float(violation(abs_error, scale, rtol, atol)[0])
