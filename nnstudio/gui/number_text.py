"""How the window writes a number in a table cell (one rule for every panel)."""
from __future__ import annotations


def format_number(value) -> str:
    """Four decimals for the usual sizes, four significant digits for large or tiny ones
    (a loss of 89402.8612 as "8.94e+04", never cut to "89402.86…"); "–" for none/NaN."""
    if value is None or value != value:
        return "–"
    if value != 0 and not 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.4f}"
