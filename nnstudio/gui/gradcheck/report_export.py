"""Export a check as a report: Markdown or HTML, with PNG pictures of the views.

The numbers are the engine's ``CheckReport`` (the same object the command line prints);
this module only lays them out and saves pictures (PNG: pyqtgraph's SVG export is broken
with these Qt versions). Pictures go to ``<report name>_images/`` beside the report.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog

from nnstudio.engine.gradcheck import CheckReport, ElementResult

from .status import format_error, format_index, format_value

REPORT_FILTER = "Markdown report (*.md);;HTML report (*.html)"
MAX_LISTED = 100
MAX_TENSOR_PICTURES = 6


def ask_and_export(view, window=None) -> Path | None:
    """Ask for a file name, then :func:`export_report`; errors go to the window."""
    if view.controller.checker is None:
        message = "Run a gradient check first; there is nothing to export yet."
        if window is not None:
            window.show_error("Nothing to export", message)
        return None
    path, chosen = QFileDialog.getSaveFileName(view, "Export gradient-check report",
                                               "gradcheck_report.md", REPORT_FILTER)
    if not path:
        return None
    if Path(path).suffix.lower() not in (".md", ".html", ".htm"):
        path += ".html" if chosen.startswith("HTML") else ".md"
    try:
        written = export_report(view, path)
    except OSError as exc:
        if window is not None:
            window.show_error("Cannot export the report", f"{path}:\n{exc}")
        return None
    if window is not None:
        window.show_status(f"Report written to {written}")
    return written


def export_report(view, path: str | Path) -> Path:
    """Write the report of ``view``'s current check to ``path`` (.md or .html)."""
    path = Path(path)
    report = view.controller.shown_phase.checker.report()
    images = save_pictures(view, path.parent / f"{path.stem}_images")
    relative = {name: f"{path.stem}_images/{file.name}" for name, file in images.items()}
    as_html = path.suffix.lower() in (".html", ".htm")
    text = _html(report, view, relative) if as_html else _markdown(report, view, relative)
    path.write_text(text, encoding="utf-8")
    return path


def save_pictures(view, folder: Path) -> dict[str, Path]:
    """PNGs of the tree, the histogram and the heatmap of every tensor with mismatches
    (or of the shown tensor when there are none). The view is put back as it was."""
    folder.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, Path] = {}
    shown, follow, tab = view.shown_tensor, view.follow.isChecked(), view.tabs.currentIndex()
    progress = view.controller.last_progress
    bad = [s.name for s in progress.tensor_summaries if s.mismatch] if progress else []
    tensors = bad[:MAX_TENSOR_PICTURES] or ([shown] if shown else [])
    try:
        view.follow.setChecked(False)
        _grab(view.summary, folder / "summary.png", pictures, "Summary")
        _grab(view.tree, folder / "tree.png", pictures, "Layers and tensors")
        view.tabs.setCurrentWidget(view.heatmap_page)  # laid out at its shown size
        for name in tensors:
            view.show_tensor(name)
            safe = name.replace("<", "").replace(">", "")  # "1.<input>" -> "1.input"
            _grab(view.heatmap, folder / f"heatmap_{safe}.png", pictures, f"Heatmap of {name}")
        view.tabs.setCurrentWidget(view.histogram)
        _grab(view.histogram, folder / "histogram.png", pictures, "Histogram")
    finally:
        view.tabs.setCurrentIndex(tab)
        if shown:
            view.show_tensor(shown)
        view.follow.setChecked(follow)
    return pictures


def _grab(widget, file: Path, pictures: dict, title: str) -> None:
    QApplication.processEvents()  # let a just-changed widget lay itself out before the grab
    if widget.grab().save(str(file), "PNG"):
        pictures[title] = file


# -- Markdown ---------------------------------------------------------------------------------
def _markdown(report: CheckReport, view, images: dict[str, str]) -> str:
    lines = ["# Gradient-check report", "", f"**{view.summary.text()}**", "",
             *_settings_lines(report, view.controller.phases), "", "## Layers and tensors", "",
             "| tensor | layer | shape | checked | ok | kink | mismatch | max rel. error "
             "| status |",
             "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for t in report.tensors:
        lines.append(f"| {t.name} | {t.info.layer_index} {t.info.layer_label} | "
                     f"{'×'.join(map(str, t.info.shape))} | {t.checked:,} | {t.ok:,} | "
                     f"{t.kink:,} | {t.mismatch:,} | {format_error(t.max_rel_error)} | "
                     f"{t.status} |")
    if report.culprits:
        lines += ["", "## Where the error enters", "", *_culprit_lines(report)]
    for title, elements in (("Mismatches", report.mismatches),
                            ("Unverifiable", report.unverifiable), ("Kinks (not bugs)", report.kinks)):
        if elements:
            lines += ["", f"## {title} ({len(elements):,})", "", *_element_table_md(elements)]
    lines += ["", "## Pictures", ""]
    lines += [f"### {title}\n\n![{title}]({file})\n" for title, file in images.items()]
    lines += ["## Engine report", "", "```", report.format_text(), "```", ""]
    return "\n".join(lines)


def _element_table_md(elements: list[ElementResult]) -> list[str]:
    rows = ["| element | analytic | numeric | rel. error | f(θ+h) | f(θ−h) | kink |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for r in elements[:MAX_LISTED]:
        rows.append(f"| {r.tensor}{format_index(r.index)} | {format_value(r.analytic)} | "
                    f"{format_value(r.numeric)} | {format_error(r.rel_error)} | "
                    f"{format_value(r.f_plus)} | {format_value(r.f_minus)} | {_kinks(r)} |")
    if len(elements) > MAX_LISTED:
        rows.append(f"\n… and {len(elements) - MAX_LISTED:,} more.")
    return rows


def _kinks(result: ElementResult) -> str:
    return "; ".join(f"{k.layer_label} at layer {k.layer_index}: {k.units} units"
                     for k in result.kinks)


def _settings_lines(report: CheckReport, phase_runs=()) -> list[str]:
    s = report.settings
    sampled = "all elements" if s["samples_per_tensor"] is None \
        else f"{s['samples_per_tensor']} sampled per tensor"
    faults = [f"layer {layer['index']} {layer['label']}: {layer['fault']}"
              for layer in report.network["layers"] if layer.get("fault")]
    if report.network.get("loss_fault"):
        faults.append(f"loss: {report.network['loss_fault']}")
    floor = "from rounding" if s["atol"] is None else "fixed"
    phases = ", ".join(f"{phase.name}: {'PASS' if phase.progress.passed else 'FAIL'}"
                       for phase in phase_runs)
    return [f"- h = {s['h']:g}; rule |a − n| ≤ {s['atol_effective']:.2g} ({floor}) + "
            f"{s['rtol']:g}·max(|a|, |n|)",
            f"- BatchNorm: {s['bn_stats']} statistics; dropout: {s['dropout']} (seed {s['seed']})",
            f"- regularization {'included' if s['include_regularization'] else 'excluded'}; "
            f"{sampled}; batch {s['batch_size']}; screen first: {s['screen_first']}",
            f"- injected faults: {', '.join(faults) if faults else 'none'}"] + \
        ([f"- phases: {phases}"] if phases else [])


def _culprit_lines(report: CheckReport) -> list[str]:
    """Where the error enters, in the words the command line uses."""
    lines = [f"- {c.message}" for c in report.culprits]
    lines += [f"- {p.message}" for p in report.problems if not p.fails]
    affected = [f"{r.index} {r.label}" for r in report.roles if r.role == "affected"]
    if affected:
        lines.append(f"- affected only (a wrong gradient reaches them): {', '.join(affected)}")
    return lines


# -- HTML -------------------------------------------------------------------------------------
def _html(report: CheckReport, view, images: dict[str, str]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr class='{t.status}'><td>{e(t.name)}</td><td>{t.info.layer_index} "
        f"{e(t.info.layer_label)}</td><td>{'×'.join(map(str, t.info.shape))}</td>"
        f"<td>{t.checked:,}</td><td>{t.ok:,}</td><td>{t.kink:,}</td><td>{t.mismatch:,}</td>"
        f"<td>{format_error(t.max_rel_error)}</td><td>{e(t.status)}</td></tr>"
        for t in report.tensors)
    settings = "".join(f"<li>{e(line[2:])}</li>" for line in _settings_lines(report, view.controller.phases))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Gradient-check report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
        "tr.mismatch{background:#ffebee;color:#b71c1c;font-weight:bold}"
        "tr.kink{background:#fff3e0}img{max-width:100%;border:1px solid #ddd}</style>",
        "</head><body><h1>Gradient-check report</h1>",
        f"<p><b>{e(view.summary.text())}</b></p><ul>{settings}</ul>",
        "<h2>Layers and tensors</h2><table><tr><th>tensor</th><th>layer</th><th>shape</th>"
        "<th>checked</th><th>ok</th><th>kink</th><th>mismatch</th><th>max rel. error</th>"
        f"<th>status</th></tr>{rows}</table>"]
    if report.culprits:
        items = "".join(f"<li>{e(line[2:])}</li>" for line in _culprit_lines(report))
        parts.append(f"<h2>Where the error enters</h2><ul class='culprits'>{items}</ul>")
    for title, elements in (("Mismatches", report.mismatches),
                            ("Unverifiable", report.unverifiable), ("Kinks (not bugs)", report.kinks)):
        if elements:
            parts.append(f"<h2>{title} ({len(elements):,})</h2>{_element_table_html(elements)}")
    parts.append("<h2>Pictures</h2>")
    parts += [f"<h3>{e(title)}</h3><img src='{e(file)}' alt='{e(title)}'>"
              for title, file in images.items()]
    parts.append(f"<h2>Engine report</h2><pre>{e(report.format_text())}</pre></body></html>")
    return "\n".join(parts)


def _element_table_html(elements: list[ElementResult]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r.tensor + format_index(r.index))}</td><td>{format_value(r.analytic)}</td>"
        f"<td>{format_value(r.numeric)}</td><td>{format_error(r.rel_error)}</td>"
        f"<td>{format_value(r.f_plus)}</td><td>{format_value(r.f_minus)}</td>"
        f"<td>{e(_kinks(r))}</td></tr>" for r in elements[:MAX_LISTED])
    more = (f"<p>… and {len(elements) - MAX_LISTED:,} more.</p>"
            if len(elements) > MAX_LISTED else "")
    return ("<table><tr><th>element</th><th>analytic</th><th>numeric</th><th>rel. error</th>"
            f"<th>f(θ+h)</th><th>f(θ−h)</th><th>kink</th></tr>{rows}</table>{more}")
