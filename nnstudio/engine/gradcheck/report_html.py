"""A report as HTML for Jupyter (``_repr_html_``): verdict, culprits, the tensor table and
an inline PNG heatmap of every failing tensor.

    report = nnstudio.check_model(model, X, y)
    report            # in a notebook cell: this HTML

The heatmap shows each element of a failing tensor as a square: red where it is a
mismatch (darker for a larger relative error), orange where unverifiable, yellow for a
kink, light grey for the rest (ok, or not checked). The PNG is written here with zlib and
numpy, so no image library (and no Qt) is needed.
"""
from __future__ import annotations

import base64
from html import escape

import numpy as np

from ..png import png_bytes
from .results import KINK, MISMATCH, UNVERIFIABLE

MAX_HEATMAPS = 8
#: the heatmap's width in pixels is at most this (each element at least MIN_CELL pixels)
MAX_WIDTH, MIN_CELL, MAX_CELL = 480, 3, 24
COLOURS = {"background": (236, 236, 236), KINK: (253, 216, 53), UNVERIFIABLE: (251, 140, 0)}
_CSS = ("<style>.nnstudio-gradcheck td,.nnstudio-gradcheck th{padding:1px 8px;text-align:right}"
        ".nnstudio-gradcheck td:first-child,.nnstudio-gradcheck th:first-child{text-align:left}"
        ".nnstudio-gradcheck img{display:block;margin:0.2em 0 0.8em 0}</style>")
_STATUS_STYLE = {MISMATCH: "background:#ffebee;color:#b71c1c;font-weight:bold",
                 UNVERIFIABLE: "background:#fff3e0;color:#e65100;font-weight:bold",
                 KINK: "background:#fffde7"}


def heatmap_rgb(shape: tuple[int, ...], elements) -> np.ndarray:
    """The heatmap image of a tensor of ``shape`` from its flagged ElementResults."""
    rows = shape[0] if len(shape) >= 2 else 1
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    cols = max(size // max(rows, 1), 1)
    grid = np.empty((rows, cols, 3), dtype=np.uint8)
    grid[...] = COLOURS["background"]
    for result in elements:
        row, col = divmod(int(result.flat_index), cols)
        if result.verdict == MISMATCH:
            # 1e-4 .. 1 relative error: light to dark red
            level = np.clip((np.log10(max(result.rel_error, 1e-12)) + 4) / 4, 0.0, 1.0)
            grid[row, col] = (int(239 - 100 * level), int(154 - 154 * level), int(154 - 154 * level))
        elif result.verdict in COLOURS:
            grid[row, col] = COLOURS[result.verdict]
    cell = int(np.clip(MAX_WIDTH // cols, MIN_CELL, MAX_CELL))
    image = np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1)
    if cell >= 6:  # a thin white grid keeps neighbouring cells apart
        image[::cell, :, :] = 255
        image[:, ::cell, :] = 255
    return image


def report_html(report, title: str = "", notes=()) -> str:
    """One :class:`CheckReport` (one phase) as an HTML fragment, with ``notes`` under the title."""
    passed = report.passed
    colour = "#1b5e20" if passed else "#b71c1c"
    parts = [_CSS, "<div class='nnstudio-gradcheck'>"]
    if title:
        parts.append(f"<h4 style='margin:0.4em 0'>{escape(title)}</h4>")
    parts += [f"<p><i>Note: {escape(note)}</i></p>" for note in notes]
    parts.append(f"<p style='font-weight:bold;color:{colour}'>"
                 f"{escape(report._verdict_line())}</p>")
    culprits = getattr(report, "culprits", [])
    if culprits:
        items = "".join(f"<li>{escape(c.message)}</li>" for c in culprits)
        parts.append(f"<p>Where the error enters:</p><ul>{items}</ul>")
    parts.append(_tensor_table(report))
    flagged: dict[str, list] = {}
    for result in list(report.mismatches) + list(getattr(report, "unverifiable", [])):
        flagged.setdefault(result.tensor, []).append(result)
    failing = [t for t in report.tensors if t.name in flagged][:MAX_HEATMAPS]
    for tensor in failing:
        elements = flagged[tensor.name] + [k for k in report.kinks if k.tensor == tensor.name]
        data = base64.b64encode(png_bytes(heatmap_rgb(tensor.info.shape, elements))).decode()
        shape = "×".join(map(str, tensor.info.shape))
        parts.append(f"<p style='margin-bottom:0.2em'><b>{escape(tensor.name)}</b> ({shape}): "
                     f"{tensor.mismatch:,} mismatches — red, darker for a larger relative "
                     "error; grey: ok or not checked</p>"
                     f"<div><img alt='heatmap of {escape(tensor.name)}' "
                     f"src='data:image/png;base64,{data}'></div>")
    parts.append("</div>")
    return "\n".join(parts)


def _tensor_table(report) -> str:
    head = ("<tr><th>tensor</th><th>layer</th><th>shape</th><th>checked</th><th>ok</th>"
            "<th>kink</th><th>mismatch</th><th>unverifiable</th><th>max rel. error</th>"
            "<th>status</th></tr>")
    rows = []
    for t in report.tensors:
        style = _STATUS_STYLE.get(t.status, "")
        rows.append(
            f"<tr style='{style}'><td>{escape(t.name)}</td><td>{t.info.layer_index} "
            f"{escape(t.info.layer_label)}</td><td>{'×'.join(map(str, t.info.shape))}</td>"
            f"<td>{t.checked:,}</td><td>{t.ok:,}</td><td>{t.kink:,}</td><td>{t.mismatch:,}</td>"
            f"<td>{getattr(t, 'unverifiable', 0):,}</td><td>{t.max_rel_error:.2e}</td>"
            f"<td>{escape(t.status)}</td></tr>")
    return ("<table style='border-collapse:collapse;font-size:90%'>"
            f"{head}{''.join(rows)}</table>")


def phased_html(report) -> str:
    """A :class:`PhasedReport`: the overall verdict, then every phase with its notes."""
    from .phases import PHASE_TEXT

    verdicts = ", ".join(f"{name} {'PASS' if r.passed else 'FAIL'}"
                         for name, r in report.phases.items())
    colour = "#1b5e20" if report.passed else "#b71c1c"
    parts = [f"<div><p style='font-size:110%;font-weight:bold;color:{colour}'>"
             f"{'PASS' if report.passed else 'FAIL'} ({escape(verdicts)})</p>"]
    for name, phase in report.phases.items():
        parts.append(report_html(phase, PHASE_TEXT.get(name, name), report.notes.get(name, [])))
    for index, stressed in getattr(report, "stress", {}).items():
        parts.append(report_html(stressed, f"layer {index} alone, on features with variance ≈ eps"))
    parts.append("</div>")
    return "\n".join(parts)


__all__ = ["heatmap_rgb", "phased_html", "report_html"]
