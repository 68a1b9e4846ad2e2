"""The custom layer files a project uses: recorded when saving, checked when opening.

``project.json`` holds ``"custom_layers": [{"types": [...], "path": RELATIVE, "absolute":
ABSOLUTE, "sha256": HEX}]`` — the path relative to the project's folder (None when there is
none, e.g. another drive) and absolute, and a SHA-256 of the content when saved. Opening
never runs these files: :func:`read_requirements` only reads ``project.json`` and finds each
file (relative first, then absolute) and whether its content changed; a front end asks the
user, who loads them explicitly (``--custom-layer FILE``, or the window's prompt).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.custom_layers import source_file
from ..engine.layers import BUILTIN_LAYERS, LAYER_TYPES
from ..engine.network import Network
from .archive import ProjectError, open_zip, read_member

OK, CHANGED, MISSING = "ok", "changed", "missing"


@dataclass(frozen=True)
class CustomLayerRecord:
    """One file a saved network needs, as recorded in ``project.json``."""

    types: tuple[str, ...]
    path: str | None
    absolute: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"types": list(self.types), "path": self.path, "absolute": self.absolute,
                "sha256": self.sha256}


@dataclass(frozen=True)
class CustomLayerStatus:
    """Where a recorded file is now: ``found`` (None when missing) and ``state``."""

    record: CustomLayerRecord
    found: Path | None
    state: str  # "ok" | "changed" | "missing"

    @property
    def loaded(self) -> bool:
        """Every type the file provides is registered already."""
        return all(name in LAYER_TYPES for name in self.record.types)

    def describe(self) -> str:
        where = str(self.found or self.record.absolute)
        types = ", ".join(self.record.types)
        note = {OK: "", CHANGED: " — its content CHANGED since the project was saved",
                MISSING: " — NOT FOUND (relative or absolute path)"}[self.state]
        return f"{where} (layers {types}){note}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def records_for(network: Network, project_dir: Path) -> list[CustomLayerRecord]:
    """The files of the custom layer types ``network`` uses, in order of first use."""
    builtin = {cls.type_name for cls in BUILTIN_LAYERS}
    files: dict[Path, list[str]] = {}
    for layer in network.layers:
        name = layer.type_name
        source = source_file(name) if name not in builtin else None
        if source is not None and name not in files.setdefault(source, []):
            files[source].append(name)
    records = []
    for source, types in files.items():
        try:
            relative = Path(os.path.relpath(source, Path(project_dir).resolve())).as_posix()
        except ValueError:  # another drive
            relative = None
        sha = file_sha256(source) if source.is_file() else ""
        records.append(CustomLayerRecord(tuple(types), relative, str(source), sha))
    return records


def parse_records(value: Any) -> list[CustomLayerRecord]:
    """Validate ``project.json``'s ``custom_layers``; ProjectError naming the bad entry."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProjectError("project.json: 'custom_layers' must be a list")
    records = []
    for position, entry in enumerate(value):
        where = f"project.json: custom_layers[{position}]"
        if not isinstance(entry, dict):
            raise ProjectError(f"{where} must be an object")
        types, path = entry.get("types"), entry.get("path")
        absolute, sha = entry.get("absolute"), entry.get("sha256", "")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ProjectError(f"{where}.types must be a non-empty list of layer names")
        if path is not None and not isinstance(path, str):
            raise ProjectError(f"{where}.path must be text or null")
        if not isinstance(absolute, str) or not absolute:
            raise ProjectError(f"{where}.absolute must be a path")
        if not isinstance(sha, str):
            raise ProjectError(f"{where}.sha256 must be text")
        records.append(CustomLayerRecord(tuple(types), path, absolute, sha))
    return records


def locate(record: CustomLayerRecord, project_dir: Path) -> CustomLayerStatus:
    """Find the file relative to the project first, then at its absolute path."""
    candidates = ([Path(project_dir) / record.path] if record.path else []) + [Path(record.absolute)]
    for candidate in candidates:
        if candidate.is_file():
            return status_of(record, candidate.resolve())
    return CustomLayerStatus(record, None, MISSING)


def status_of(record: CustomLayerRecord, path: Path) -> CustomLayerStatus:
    """The state of ``path`` as the file of ``record`` (e.g. one the user located)."""
    try:
        same = not record.sha256 or file_sha256(path) == record.sha256
    except OSError:
        return CustomLayerStatus(record, None, MISSING)
    return CustomLayerStatus(record, path, OK if same else CHANGED)


def read_requirements(project_path: str | Path) -> list[CustomLayerStatus]:
    """The recorded custom layer files of a project and where they are; runs nothing."""
    project_path = Path(project_path)
    archive = open_zip(project_path, project_path.name)
    try:
        document = json.loads(read_member(archive, "project.json", project_path.name).decode("utf-8"))
    except (KeyError, UnicodeDecodeError, ValueError) as exc:
        raise ProjectError(f"{project_path.name}: project.json cannot be read: {exc}") from None
    if not isinstance(document, dict):
        raise ProjectError(f"{project_path.name}: project.json is not an object")
    return [locate(record, project_path.parent) for record in parse_records(document.get("custom_layers"))]


class CustomLayersNeeded(ProjectError):
    """A project uses custom layer types that are not loaded; ``statuses`` lists their files."""

    def __init__(self, where: str, statuses: list[CustomLayerStatus]) -> None:
        files = "; ".join(status.describe() for status in statuses)
        flags = " ".join(f"--custom-layer {status.found or status.record.absolute}"
                         for status in statuses)
        super().__init__(f"{where} uses custom layers from files that are not loaded: {files}. "
                         f"Load them explicitly (this runs their code): {flags}")
        self.statuses = statuses


def require_loaded(records: list[CustomLayerRecord], project_path: Path) -> list[str]:
    """Raise :class:`CustomLayersNeeded` if some recorded type is not registered; else the
    notes to show: a loaded file whose content differs from the one the project was saved
    with (the user loaded it explicitly; say so, do not refuse)."""
    statuses = [locate(record, project_path.parent) for record in records]
    needed = [status for status in statuses if not status.loaded]
    if needed:
        raise CustomLayersNeeded(project_path.name, needed)
    notes = []
    for record in records:
        source = source_file(record.types[0])
        if source is None or not record.sha256 or not source.is_file():
            continue
        if file_sha256(source) != record.sha256:
            notes.append(f"{source} (layers {', '.join(record.types)}) changed since "
                         f"{project_path.name} was saved: its layers may compute something else")
    return notes


__all__ = ["CHANGED", "MISSING", "OK", "CustomLayerRecord", "CustomLayerStatus",
           "CustomLayersNeeded", "file_sha256", "locate", "parse_records", "read_requirements",
           "records_for", "require_loaded", "status_of"]
