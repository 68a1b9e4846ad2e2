"""A student's report: ``report.json`` and a self-contained ``report.html`` (inline PNG heatmaps).

The HTML names the failing tensor (the culprit) of every check, explains an error or a
time-out in plain words, and shows a heatmap of the relative error per element for every
tensor that disagrees (log scale: white ≤ 1e-7, dark red ≥ 1).
"""
from __future__ import annotations

import base64
import html
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..engine.json_values import json_safe
from ..engine.png import png_bytes
from .grader import Grade
from .scoring import MISMATCH, OK

STATUS_COLOURS = {"passed": "#1a7f37", "failed": "#b35900", "error": "#b42318",
                  "timeout": "#6941c6", "missing": "#57606a"}


def write_reports(grade: Grade, folder: Path, assignment_name: str) -> None:
    """``folder/report.json`` and ``folder/report.html``, each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    data = grade.to_dict()
    data["assignment"] = assignment_name
    write_atomic(folder / "report.json", json.dumps(json_safe(data), indent=1, allow_nan=False))
    write_atomic(folder / "report.html", render_html(grade, assignment_name))


def write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_html(grade: Grade, assignment_name: str) -> str:
    e = html.escape
    colour = STATUS_COLOURS[grade.status]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(grade.student)} — "
             f"{e(assignment_name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(assignment_name)}</h1>",
             f"<p class='who'>{e(grade.student)}: <span class='status' style='background:{colour}'>"
             f"{e(grade.status)}</span> <b>{grade.score:g} / {grade.max_score:g}</b> points</p>",
             f"<p class='explain'>{e(grade.explanation)}</p>"]
    if grade.error and grade.error.get("traceback"):
        parts.append(f"<h3>Where it failed</h3><pre>{e(grade.error['traceback'])}"
                     f"{e(grade.error.get('type', ''))}: {e(grade.error.get('message', ''))}</pre>")
    for check in grade.checks:
        mark = "✓" if check.passed else "✗"
        parts.append(f"<h2>{mark} {e(check.name)} <small>({e(check.kind)}, mode "
                     f"{e(check.mode)}) — {check.points:g} / {check.max_points:g}</small></h2>")
        parts.append(f"<p>{e(check.message)}</p>")
        if check.error is None and check.tensors:
            parts.append("<table><tr><th>tensor</th><th>shape</th><th>verdict</th>"
                         "<th>checked</th><th>disagree</th><th>max rel. error</th></tr>")
            for tensor in check.tensors:
                css = "ok" if tensor.status == OK else "bad"
                parts.append(f"<tr class='{css}'><td>{e(tensor.name)}</td>"
                             f"<td>{e(str(tuple(tensor.shape)))}</td><td>{e(tensor.status)}</td>"
                             f"<td>{tensor.checked}</td><td>{tensor.mismatches}</td>"
                             f"<td>{tensor.max_rel_error:.2e}</td></tr>")
            parts.append("</table>")
            for tensor in check.tensors:
                if tensor.status == MISMATCH and tensor.rel_error is not None:
                    parts.append(f"<figure><img alt='relative error of {e(tensor.name)}' "
                                 f"src='data:image/png;base64,{heatmap_png(tensor.rel_error)}'>"
                                 f"<figcaption>{e(tensor.name)}: relative error per element "
                                 "(white ≤ 1e-7, dark red ≥ 1, grey unchecked)</figcaption></figure>")
    if grade.output:
        parts.append(f"<h3>What your code printed</h3><pre>{e(grade.output)}</pre>")
    parts.append(f"<p class='foot'>Isolation: {e(grade.isolation)}. Graded in "
                 f"{grade.elapsed:.2f} s.</p></body></html>")
    return "\n".join(parts)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#1f2328}"
        ".status{color:white;padding:.1em .5em;border-radius:.3em}table{border-collapse:collapse}"
        "td,th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left}tr.bad td{background:#ffebe9}"
        "pre{background:#f6f8fa;padding:.8em;overflow-x:auto}figure{display:inline-block;margin:.5em}"
        "img{image-rendering:pixelated;border:1px solid #d0d7de}.foot{color:#57606a}")


def heatmap_png(rel_error: np.ndarray, cell: int = 20) -> str:
    """Base64 PNG of a tensor's relative errors: 1-D as one row, more dimensions flattened
    to (first, rest). Colour: log10 from 1e-7 (white) to 1 (dark red); NaN grey."""
    grid = np.atleast_2d(np.asarray(rel_error, dtype=np.float64))
    grid = grid.reshape(grid.shape[0], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.clip((np.log10(np.maximum(grid, 1e-12)) + 7.0) / 7.0, 0.0, 1.0)
    white, red = np.array([255, 255, 255]), np.array([140, 10, 10])
    level = np.nan_to_num(level, nan=0.0)
    rgb = (white + (red - white) * level[..., None]).astype(np.uint8)
    rgb[np.isnan(grid)] = (200, 200, 200)
    rgb = np.repeat(np.repeat(rgb, cell, axis=0), cell, axis=1)
    return base64.b64encode(png_bytes(rgb)).decode("ascii")
