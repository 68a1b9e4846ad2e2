"""Plain-text summary of a :class:`~nnstudio.data.dataset.Dataset` for the data panel and CLI."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dataset import Dataset

_INDENT = "  "


def summarize(ds: "Dataset") -> str:
    """Rows, task, columns used and left out with reasons, classes and missing values."""
    report = ds.report
    rows = report.rows
    used = ds.n_train + ds.n_val + ds.n_test
    lines = [f"Source: {ds.source}",
             f"Rows: {rows.rows_read} read, {used} used "
             f"(train {ds.n_train}, validation {ds.n_val}, test {ds.n_test})"]
    lines += _row_losses(rows)
    if ds.task == "classification":
        lines.append(f"Task: classification of {ds.target!r} into {ds.n_outputs} classes")
    else:
        lines.append(f"Task: regression of {ds.target!r}")
        scaler = getattr(ds, "target_scaler", None)
        if scaler is not None:
            lines.append(f"{_INDENT}target standardized on the training split (mean "
                         f"{scaler.mean[0]:.6g}, standard deviation {scaler.scale[0]:.6g}); "
                         "RMSE is reported in its units")
    scaled = " (numeric ones standardized on the training split)" if ds.options.standardize else ""
    lines.append(f"Features: {ds.n_features}{scaled}")
    lines += _columns(report.columns)
    lines += _classes(ds)
    lines += _missing(rows, ds.options.missing, report.columns)
    if report.notices:
        lines.append("Notices:")
        lines += [_INDENT + n for n in report.notices]
    return "\n".join(lines)


def _row_losses(rows) -> list[str]:
    lines = []
    if rows.blank:
        lines.append(f"{_INDENT}{rows.blank} blank rows skipped")
    if rows.no_target:
        lines.append(f"{_INDENT}{rows.no_target} rows dropped: no target value")
    if rows.dropped:
        lines.append(f"{_INDENT}{rows.dropped} rows dropped: missing feature values")
    return lines


def _columns(columns) -> list[str]:
    width = max((len(c.name) for c in columns), default=0)
    used = [c for c in columns if c.used and c.kind != "target"]
    left = [c for c in columns if not c.used]
    lines = [f"Columns used ({len(used)}):"]
    for c in used:
        detail = c.kind
        if c.kind == "categorical":
            detail += f", {len(c.categories) + int(c.other)} one-hot columns"
        if c.note:
            detail += f"; {c.note}"
        lines.append(f"{_INDENT}{c.name:<{width}}  {detail}")
    if left:
        lines.append(f"Columns left out ({len(left)}):")
        lines += [f"{_INDENT}{c.name:<{width}}  {c.kind}: {c.note.removeprefix('left out: ')}"
                  for c in left]
    return lines


def _classes(ds: "Dataset") -> list[str]:
    if ds.task != "classification":
        return []
    assert ds.class_names is not None  # a classification dataset names its classes
    counts = [ds.class_counts(s) for s in ("train", "val", "test")]
    width = max(len(n) for n in ds.class_names)
    lines = ["Classes (train / validation / test rows):"]
    for k, name in enumerate(ds.class_names):
        train, val, test = (c[k] for c in counts)  # type: ignore[index]  # arrays: classification
        lines.append(f"{_INDENT}{name:<{width}}  {train} / {val} / {test}")
    return lines


def _missing(rows, policy: str, columns) -> list[str]:
    if not rows.missing:
        return ["Missing values: none"]
    info = {c.name: c for c in columns}
    lines = ["Missing values:"]
    for name, count in rows.missing.items():
        if name in rows.filled:
            filled, value = rows.filled[name]
            shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
            action = f"{filled} filled with {shown}"
        elif info[name].kind == "target":
            action = "rows dropped"
        elif not info[name].used:
            action = "column left out"
        elif policy == "drop":
            action = "rows dropped"
        else:
            action = "only in rows dropped for a missing target"
        lines.append(f"{_INDENT}{name}: {count} ({action})")
    return lines
