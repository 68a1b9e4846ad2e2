"""How a CSV file is turned into a dataset: :class:`LoadOptions` and the reader's fixed tokens
(which cells are missing)."""
from __future__ import annotations

import codecs
from dataclasses import dataclass

#: Cell texts read as "missing". Exact matches, case as listed; surrounding spaces count.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "na", "NaN", "nan", "NAN", "null", "NULL", "Null",
                  "?", "#N/A")

_MISSING = frozenset(MISSING_TOKENS)

TASKS = ("classification", "regression")
MISSING_POLICIES = ("drop", "mean", "most_frequent")
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class LoadOptions:
    """Choices the user makes when loading a CSV file.

    Parameters
    ----------
    target : str or None
        Name of the column to predict; None means the last column.
    task : {"classification", "regression"} or None
        None infers it: classification when the target is text or holds few
        distinct integers (at most ``max_categories``), regression otherwise.
    missing : {"drop", "mean", "most_frequent"}
        What to do with missing feature values: drop the row, or fill with the
        training split's mean (numbers; most frequent category for text) or most
        frequent value. Rows whose target is missing are always dropped.
    val_fraction, test_fraction : float
        Shares of the rows held out for validation and test (each in [0, 1),
        together below 1). Splits are stratified by class for classification.
    seed : int
        Seed of the split; the same seed gives the same split.
    standardize : bool
        Scale numeric features to zero mean, unit variance using statistics of
        the training split only. One-hot columns stay 0/1.
    standardize_target : bool
        For regression: scale the target to zero mean, unit variance with statistics of
        the training split (saved, and inverted for predictions and metrics in the
        target's units). Without it a target in the thousands starts the loss at 1e7.
    keep_dates : bool
        Use date-like columns as a number (days since 1970-01-01) instead of
        leaving them out.
    max_categories : int
        Largest number of one-hot columns per categorical column; rarer
        categories share one ``"<name>=<other>"`` column.
    delimiter : str or None
        Field separator; None detects one of ``, ; tab |``.
    header : bool or None
        Whether the first row holds column names; None detects it.
    encoding : str or None
        Text encoding; None means UTF-8 (with or without BOM). Other
        ASCII-compatible encodings such as "latin-1" or "cp1252" may be named.
    """

    target: str | None = None
    task: str | None = None
    missing: str = "drop"
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    standardize: bool = True
    keep_dates: bool = False
    standardize_target: bool = True
    max_categories: int = 20
    delimiter: str | None = None
    header: bool | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first option that is out of range."""
        if self.task not in (None,) + TASKS:
            raise ValueError(f"task must be one of {TASKS} or None, not {self.task!r}")
        if self.missing not in MISSING_POLICIES:
            raise ValueError(f"missing must be one of {MISSING_POLICIES}, not {self.missing!r}")
        check_fractions(self.val_fraction, self.test_fraction)
        if not isinstance(self.max_categories, int) or self.max_categories < 2:
            raise ValueError(f"max_categories must be an integer >= 2, "
                             f"not {self.max_categories!r}")
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in "\"\r\n"):
            raise ValueError(f"delimiter must be one character other than a quote or newline, "
                             f"not {self.delimiter!r}")
        if self.encoding is not None:
            check_encoding(self.encoding)


def is_missing(text: str) -> bool:
    """True if a cell's text means "missing" (a missing token, or only spaces)."""
    return text in _MISSING or not text.strip()


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise ValueError unless both fractions are in [0, 1) and leave rows for training."""
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= float(value) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), not {value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be below 1 to leave training rows, "
                         f"not {val_fraction} + {test_fraction}")


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name; raise ValueError unless it is known and ASCII-compatible.

    The reader splits files at newline bytes and reads delimiters as bytes, which
    is only right when ASCII characters are single bytes (UTF-16 is not).
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    probe = ',;\t|"\n\r0123456789.-+eE azAZ'
    try:
        ascii_compatible = probe.encode(name) == probe.encode("ascii")
    except UnicodeError:
        ascii_compatible = False
    if not ascii_compatible:
        raise ValueError(f"encoding {encoding!r} is not ASCII-compatible; "
                         "re-save the file as UTF-8")
    return name
