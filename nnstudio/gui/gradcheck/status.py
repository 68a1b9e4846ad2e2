"""How a verdict looks everywhere in the view: a symbol and a word as well as a colour, so
that nothing depends on colour alone, and the one-line explanations a student reads."""
from __future__ import annotations

from nnstudio.engine.gradcheck import KINK, MISMATCH, OK, UNCHECKED, UNVERIFIABLE

#: status -> (text with symbol, text colour, row background)
STATUS_LOOK = {
    OK: ("✓ ok", "#1b7f3b", None),
    KINK: ("≈ kink", "#a85d00", "#fff3e0"),
    MISMATCH: ("✗ MISMATCH", "#c62828", "#ffebee"),
    UNVERIFIABLE: ("? unverifiable", "#6a1b9a", "#f3e5f5"),
    UNCHECKED: ("· not checked", "#757575", None),
}
#: a layer's role in a failing check: where the error enters, or where it only lands
ROLE_LOOK = {
    "culprit": ("⚠ the error enters here", "#c62828"),
    "affected": ("↳ affected: a wrong gradient reaches it", "#a85d00"),
}
MISMATCH_RED = "#e00000"
KINK_ORANGE = "#ff9800"
UNVERIFIABLE_PURPLE = "#8e24aa"
CURRENT_CYAN = "#00b8d4"

EXPLANATIONS = {
    OK: "The backward pass agrees with the central difference within the tolerance.",
    MISMATCH: "The backward pass disagrees with the central difference beyond the tolerance: "
              "the gradient reaching this parameter is wrong.",
    KINK: "A kink, not a bug: a piecewise-linear switch (a ReLU-type unit, or the sign inside "
          "L1) sits at θ itself, and the one-sided slope on the side that does not cross it "
          "agrees with the backward pass.",
    UNVERIFIABLE: "Neither right nor wrong: the rounding noise of the loss is as large as this "
                  "gradient, so a 2x error would pass. Standardize the target and the inputs.",
}


def status_text(status: str) -> str:
    return STATUS_LOOK[status][0]


def status_colour(status: str) -> str:
    return STATUS_LOOK[status][1]


def status_background(status: str) -> str | None:
    return STATUS_LOOK[status][2]


def format_error(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.2e}"


def format_value(value: float | None) -> str:
    if value is None or value != value:
        return "–"
    return f"{value: .10g}"


def format_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"
