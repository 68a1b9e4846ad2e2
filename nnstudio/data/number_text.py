"""How a number is written in a cell: the one set of number patterns the reader uses.

Sniffing the header, following columns of numbers and settling text columns all ask
the same questions of a cell's text; the patterns are built here from shared parts so
that they cannot drift apart. Every pattern allows spaces around the number.
"""
from __future__ import annotations

import re

_EXPONENT = r"(?:[eE][-+]?\d+)?"
DECIMAL_MARKS = (".", ",")


def _plain(marks: str) -> str:
    """Digits with at most one decimal mark out of ``marks`` (``5``, ``5.``, ``.5``, ``5.5``)."""
    return rf"(?:\d+(?:[{marks}]\d*)?|[{marks}]\d+){_EXPONENT}"


_NUMBER = {mark: re.compile(rf"\s*[-+]?{_plain(mark)}\s*") for mark in DECIMAL_MARKS}
# Either decimal mark or an infinity: what a header cell must not look like.
_ANY_NUMBER = re.compile(rf"\s*[-+]?(?:{_plain('.,')}|inf|infinity)\s*", re.IGNORECASE)
#: numbers with thousands separators: 1,037 and 12,345.5 (decimal point), 1.037 and
#: 12.345,5 (decimal comma); groups of exactly three digits
_GROUPED = {".": re.compile(r"\s*[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*"),
            ",": re.compile(r"\s*[-+]?\d{1,3}(?:\.\d{3})+(?:,\d*)?\s*")}
# Anything that looks like a number in some notation (to follow columns of many numbers).
_NUMBERISH = re.compile(rf"\s*[-+]?[\d.,]*\d[\d.,]*{_EXPONENT}\s*")
# A fraction written with this decimal mark (1,5 or ,5), to tell which mark a file uses.
_FRACTION = {mark: re.compile(rf"\s*[-+]?\d*[{mark}]\d+\s*") for mark in DECIMAL_MARKS}


def parse_number(text: str, decimal: str = ".", grouped: bool = False) -> float | None:
    """The value of a cell's text if it is a plain finite number, else None.

    With ``grouped``, a number with thousands separators (``1,037`` when the decimal
    mark is a point, ``1.037`` when it is a comma) is read too.
    """
    if _NUMBER[decimal].fullmatch(text) is None:
        if not grouped or _GROUPED[decimal].fullmatch(text) is None:
            return None
        text = text.replace("," if decimal == "." else ".", "")
    return float(text.replace(",", ".")) if decimal == "," else float(text)


def is_grouped_number(text: str, decimal: str = ".") -> bool:
    """True for a number written with thousands separators (see :func:`parse_number`)."""
    return _GROUPED[decimal].fullmatch(text) is not None


def is_number(text: str) -> bool:
    """True if a cell's text reads as a number with either decimal mark, or ``inf``."""
    return _ANY_NUMBER.fullmatch(text) is not None


def looks_like_number(text: str) -> bool:
    """True for digits with points and commas anywhere (``1.2.3`` too): a loose test that
    tells a column of numbers with a few typos from a column of text."""
    return _NUMBERISH.fullmatch(text) is not None


def looks_like_decimal(text: str, decimal: str) -> bool:
    """True for a fraction written with ``decimal`` as the mark (``1,5`` for ``","``)."""
    return _FRACTION[decimal].fullmatch(text) is not None
