"""The preprocessing part of the exported ``model.py``: raw table rows -> network inputs.

It mirrors :meth:`nnstudio.data.Preprocessing.transform` step for step (missing tokens,
fills, one-hot order, float32 standardization), so the exported model sees bit-identical
features and predicts the same labels as the studio.
"""
from __future__ import annotations

from typing import Any

from ..data.options import MISSING_TOKENS
from .literals import assignment

HELPERS = '''


def is_missing(value) -> bool:
    """True for a missing cell: NaN or None, one of MISSING_TOKENS, or only spaces."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and (value.strip() in MISSING_TOKENS or not value.strip())


def read_csv(path, **options) -> pd.DataFrame:
    """A CSV file as text cells, the way NN Studio reads it (preprocess converts them)."""
    options.setdefault("sep", None)  # detected, as in the studio
    options.setdefault("engine", "python")
    return pd.read_csv(path, dtype=str, keep_default_na=False, **options)


def preprocess(frame) -> torch.Tensor:
    """Rows of a table -> the network's input, (N, len(FEATURE_NAMES)), as in NN Studio.

    ``frame`` is a pandas DataFrame holding (at least) the columns in COLUMNS, with numbers
    or text in its cells (``read_csv`` gives text). Missing cells get the fill fitted on the
    training split, categories become one-hot columns in the order of COLUMNS (an unseen
    category maps to '<other>' when the column has one, else to all zeros), and every
    feature is standardized in float32 exactly as the studio does.
    """
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    absent = [column["name"] for column in COLUMNS if column["name"] not in frame.columns]
    if absent:
        raise ValueError(f"the table lacks the column(s) {absent}")
    x = np.zeros((len(frame), len(FEATURE_NAMES)), np.float32)
    offset = 0
    for column in COLUMNS:
        series = frame[column["name"]].reset_index(drop=True)
        if column["kind"] == "categorical":
            width = len(column["categories"]) + int(column["other"])
            _one_hot(series, column, x[:, offset:offset + width])
            offset += width
        else:
            x[:, offset] = _numbers(series, column)
            offset += 1
    if FEATURE_MEAN is not None:
        x -= np.asarray(FEATURE_MEAN).astype(np.float32)
        x *= (1.0 / np.asarray(FEATURE_SCALE)).astype(np.float32)
    return torch.from_numpy(x).to(DTYPE)


def encode_target(frame) -> torch.Tensor:
    """The target column of ``frame`` as the network is trained on it: class indices (N,)
    for classification, (N, 1) values (standardized if the studio did) for regression."""
    if TARGET is None or TARGET not in frame.columns:
        raise ValueError(f"the table lacks the target column {TARGET!r}")
    series = frame[TARGET].reset_index(drop=True)
    if CLASS_NAMES is None:
        values = _numbers(series, {"name": TARGET, "kind": "numeric", "fill": None})
        values = values.astype(np.float32).reshape(-1, 1)
        if TARGET_MEAN is not None:  # in float32, as the studio standardizes
            values -= np.float32(TARGET_MEAN)
            values *= np.float32(1.0 / TARGET_SCALE)
        return torch.from_numpy(values).to(DTYPE)
    if CLASS_VALUES is not None:
        numbers = _numbers(series, {"name": TARGET, "kind": "numeric", "fill": None})
        lookup = {value: index for index, value in enumerate(CLASS_VALUES)}
        keys = [lookup.get(float(value)) for value in numbers]
    else:
        lookup = {name: index for index, name in enumerate(CLASS_NAMES)}
        keys = [lookup.get(str(value).strip()) for value in series]
    for row, key in enumerate(keys):
        if key is None:
            raise ValueError(f"row {row + 1}, column {TARGET!r}: {series[row]!r} is not one "
                             f"of the classes {CLASS_NAMES}")
    return torch.tensor(keys, dtype=torch.int64)


def predict(model: nn.Module, frame) -> list:
    """Class names (classification) or values in the target's units (regression) for the
    rows of ``frame``, with the model in eval() mode as the studio predicts."""
    model.eval()
    with torch.no_grad():
        out = model(preprocess(frame))
    if CLASS_NAMES is not None:
        return [CLASS_NAMES[index] for index in out.argmax(dim=1).tolist()]
    values = out[:, 0].double()
    if TARGET_MEAN is not None:
        values = values * TARGET_SCALE + TARGET_MEAN
    return values.tolist()


def _numbers(series: pd.Series, column: dict) -> np.ndarray:
    """float64 values of a numeric or date column, missing cells filled."""
    blank = series.map(is_missing).to_numpy(bool)
    if column["kind"] == "date":
        values = _days(["" if gap else str(value).strip() for value, gap in zip(series, blank)])
    else:
        values = pd.to_numeric(series.where(~blank, np.nan), errors="coerce")
        values = np.array(values, dtype=np.float64)
    bad = np.flatnonzero((np.isnan(values) & ~blank) | np.isinf(values))
    if len(bad):
        what = "a date" if column["kind"] == "date" else "a finite number"
        raise ValueError(f"row {bad[0] + 1}, column {column['name']!r}: "
                         f"{series[bad[0]]!r} is not {what}")
    if blank.any():
        if column["fill"] is None:
            raise ValueError(f"row {np.argmax(blank) + 1}, column {column['name']!r}: missing "
                             "value (the studio dropped such rows, so there is no fill)")
        values[blank] = float(column["fill"])
    return values


def _one_hot(series: pd.Series, column: dict, out: np.ndarray) -> None:
    """Write the one-hot encoding of ``series`` into ``out`` (N, width)."""
    blank = series.map(is_missing).to_numpy(bool)
    if blank.any() and column["fill"] is None:
        raise ValueError(f"row {np.argmax(blank) + 1}, column {column['name']!r}: missing "
                         "value (the studio dropped such rows, so there is no fill)")
    texts = series.astype(object).where(~blank, column["fill"]).map(lambda v: str(v).strip())
    index = {category: position for position, category in enumerate(column["categories"])}
    unknown = len(column["categories"]) if column["other"] else -1
    positions = texts.map(index).fillna(unknown).to_numpy(np.int64)
    rows = np.flatnonzero(positions >= 0)
    out[rows, positions[rows]] = 1.0


def _days(texts: list) -> np.ndarray:
    """float64 days since 1970-01-01 (NaN where a text is not a date), as in the studio."""
    if not texts:
        return np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = pd.to_datetime(pd.Series(texts, dtype=object), errors="coerce",
                                format="mixed", utc=True)
    seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=np.float64, na_value=np.nan) / 86400.0
'''

NO_DATA = '''


def preprocess(frame) -> torch.Tensor:
    """The project recorded no data preprocessing: the values of ``frame`` (N, D) are the
    network's inputs as they are."""
    return torch.as_tensor(np.asarray(frame, dtype=np.float32)).to(DTYPE)


def encode_target(frame) -> torch.Tensor:
    raise ValueError("the project recorded no target column, so rows cannot be encoded")
'''


def target_scaling(preprocessing: dict[str, Any] | None) -> tuple[float, float] | None:
    """(mean, scale) of a standardized regression target, or None when targets are raw.

    Read from the preprocessing record's ``target_standardizer`` ({"mean": [m], "scale":
    [s]}) — present when the dataset standardized its regression target.
    """
    record = (preprocessing or {}).get("target_standardizer")
    if not record:
        return None
    mean, scale = record["mean"], record["scale"]
    mean = float(mean[0] if isinstance(mean, (list, tuple)) else mean)
    scale = float(scale[0] if isinstance(scale, (list, tuple)) else scale)
    return mean, scale


def preprocessing_source(preprocessing: dict[str, Any] | None) -> str:
    """The constants and functions of the preprocessing section of ``model.py``."""
    head = ["", "", "# -- preprocessing: table rows -> the features the network was trained on ------",
            "# Fitted by NN Studio on the training split and applied here exactly as the studio",
            "# applies it (read_csv, preprocess, encode_target, predict below).", ""]
    if preprocessing is None:
        return "\n".join(head + ["TARGET = None", "CLASS_NAMES = None"]) + NO_DATA
    columns = []
    for column in preprocessing["columns"]:
        entry = {"name": column["name"], "kind": column["kind"]}
        if column["kind"] == "categorical":
            entry.update(categories=list(column["categories"]), other=bool(column["other"]))
        entry["fill"] = column.get("fill")
        columns.append(entry)
    names = [name for column in columns for name in _feature_names(column)]
    scaler = preprocessing.get("standardizer")
    target = target_scaling(preprocessing)
    lines = head + [
        "#: the column the network predicts",
        assignment("TARGET", preprocessing.get("target")),
        "#: output index -> class name (None for regression)",
        assignment("CLASS_NAMES", preprocessing.get("class_names")),
        "#: the values of numeric class labels, by output index (None when labels are text)",
        assignment("CLASS_VALUES", preprocessing.get("class_values")),
        "#: cell texts that mean 'missing' (as in NN Studio), besides empty or blank cells",
        assignment("MISSING_TOKENS", tuple(sorted(set(MISSING_TOKENS) - {""}))),
        f"#: missing cells were handled by the policy {preprocessing.get('missing')!r}: 'fill' is the",
        "#: value fitted on the training split (None: such rows were dropped, none is known)",
        "#: the source columns in feature order; a categorical column becomes one one-hot",
        "#: feature per category, in this order, plus '<other>' when 'other' is True",
        assignment("COLUMNS", columns),
        "#: the network's inputs, one name per feature column",
        assignment("FEATURE_NAMES", names),
        "#: feature standardization fitted on the training split (None: not standardized):",
        "#: x <- (x - FEATURE_MEAN) * (1 / FEATURE_SCALE), computed in float32",
        assignment("FEATURE_MEAN", None if scaler is None else list(scaler["mean"])),
        assignment("FEATURE_SCALE", None if scaler is None else list(scaler["scale"])),
        "#: standardization of a regression target (None: the network predicts raw values):",
        "#: the network's output y maps to y * TARGET_SCALE + TARGET_MEAN",
        assignment("TARGET_MEAN", None if target is None else target[0]),
        assignment("TARGET_SCALE", None if target is None else target[1]),
    ]
    return "\n".join(lines) + HELPERS


def _feature_names(column: dict[str, Any]) -> list[str]:
    if column["kind"] != "categorical":
        return [column["name"]]
    return [f"{column['name']}={c}" for c in column["categories"]] + (
        [f"{column['name']}=<other>"] if column["other"] else [])
