"""Where a project's data came from, and how to get the same dataset back.

Three kinds of source:

- ``csv``: a file, recorded by absolute path and by path relative to the project; the
  raw bytes can be embedded so a teacher hands out one file.
- ``builtin``: a shipped dataset read from a file (Iris), rebuilt from its name and options.
- ``arrays``: in-memory arrays and generated built-ins (whose generator settings a
  dataset does not record); the exact split arrays are always embedded, a few KB.
"""
from __future__ import annotations

import os
import tempfile
import weakref
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import (ColumnInfo, DataError, Dataset, LoadOptions, LoadReport, Preprocessing,
                    RowReport, load_csv, make_builtin)
from ..data.filecheck import file_problem
from .archive import ProjectError, decode_npz, encode_npz, read_member

FILE_BUILTINS = ("iris",)  # built-ins read from a shipped CSV: reproducible from the options
SCHEMA_KEYS = ("task", "target", "feature_names", "class_names")
# Datasets this module reloaded -> their source, so re-saving one keeps its embedded copy.
_ORIGINS: "weakref.WeakKeyDictionary[Any, DataSource]" = weakref.WeakKeyDictionary()


@dataclass
class DataSource:
    """A dataset's origin, options, schema and fitted preprocessing (JSON-safe but for
    ``embedded_bytes``, the copy carried from a loaded project to the next save)."""

    kind: str
    source: str
    options: dict[str, Any]
    schema: dict[str, Any]
    preprocessing: dict[str, Any] | None = None
    sizes: tuple[int, int, int] = (0, 0, 0)
    path: str | None = None
    relative_path: str | None = None
    embedded: str | None = None
    embedded_bytes: bytes | None = field(default=None, repr=False, compare=False)
    arrays: dict[str, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dataset(cls, dataset: Any) -> "DataSource":
        """Describe a :class:`nnstudio.data.Dataset` (one this module reloaded keeps its copy)."""
        origin = _ORIGINS.get(dataset)
        if origin is not None:
            return origin
        source = str(dataset.source)
        schema = {key: getattr(dataset, key) for key in SCHEMA_KEYS}
        schema["class_names"] = None if schema["class_names"] is None else list(schema["class_names"])
        common = dict(source=source, options=asdict(dataset.options), schema=schema,
                      preprocessing=dataset.preprocessing.to_dict(),
                      sizes=(len(dataset.x_train), len(dataset.x_val), len(dataset.x_test)))
        name = source.removeprefix("builtin:")
        if source.startswith("builtin:") and name in FILE_BUILTINS:
            return cls("builtin", **common)
        if not source.startswith("builtin:") and Path(source).is_file():
            return cls("csv", path=str(Path(source).resolve()), **common)
        arrays = {f"{axis}_{split}": np.asarray(getattr(dataset, f"{axis}_{split}"))
                  for split in ("train", "val", "test") for axis in ("x", "y")}
        return cls("arrays", arrays=arrays, **common)

    # -- saving ---------------------------------------------------------------------
    def embedded_member(self, project_dir: Path, embed_data: bool) -> tuple[str, bytes] | None:
        """(member name, bytes) of the data copy to store in the project, or None.

        Arrays are always stored (there is nothing else to reload them from); a copy
        carried from a loaded project is always kept (its file may exist only on the
        author's machine); a CSV file is read and stored when ``embed_data``.
        """
        if self.embedded_bytes is not None:
            assert self.embedded is not None  # the bytes are always read with their name
            return self.embedded, self.embedded_bytes
        if self.kind == "arrays":
            if self.arrays is None:
                raise ValueError("a data source from arrays needs its arrays to be saved")
            return "data/splits.npz", encode_npz(self.arrays)
        if self.kind != "csv" or not embed_data:
            return None  # a shipped built-in is rebuilt from its options
        found = self._find(project_dir)
        if found is None:
            raise FileNotFoundError(f"cannot embed the data: {self.path} does not exist")
        assert self.path is not None  # a CSV source records its path
        return f"data/{Path(self.path).name}", found.read_bytes()

    def to_json(self, project_dir: Path, embedded: str | None) -> dict[str, Any]:
        relative = None
        if self.path is not None:
            try:
                relative = Path(os.path.relpath(self.path, project_dir.resolve())).as_posix()
            except ValueError:  # another drive on Windows: no relative path
                relative = None
        return {"kind": self.kind, "source": self.source, "path": self.path,
                "relative_path": relative, "options": self.options, "schema": self.schema,
                "preprocessing": self.preprocessing, "sizes": list(self.sizes),
                "embedded": embedded}

    # -- loading --------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: Any, archive: zipfile.ZipFile, where: str) -> "DataSource":
        """Validate the "data" object of project.json and read its embedded copy, if any."""
        if not isinstance(data, dict):
            raise ProjectError("project.json: 'data' must be an object or null")
        try:
            kind, source, options, schema = data["kind"], data["source"], data["options"], data["schema"]
            sizes = tuple(int(n) for n in data.get("sizes", (0, 0, 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(f"project.json: data is missing or has a bad {exc}") from None
        if kind not in ("csv", "builtin", "arrays") or not isinstance(source, str):
            raise ProjectError(f"project.json: data.kind {kind!r} is not csv, builtin or arrays")
        if not isinstance(options, dict) or not isinstance(schema, dict) or len(sizes) != 3:
            raise ProjectError("project.json: data.options and data.schema must be objects")
        try:
            LoadOptions(**options)
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"project.json: data.options: {exc}") from None
        _check_schema(schema)
        embedded = data.get("embedded")
        payload = None
        if embedded is not None:
            if not isinstance(embedded, str) or embedded not in archive.namelist():
                raise ProjectError(f"{where}: the embedded data {embedded!r} is missing from the archive")
            payload = read_member(archive, embedded, where)
        elif kind == "arrays":
            raise ProjectError("project.json: data from arrays must be embedded, but nothing is")
        path, relative = data.get("path"), data.get("relative_path")
        for name, value in (("path", path), ("relative_path", relative)):
            if value is not None and not isinstance(value, str):
                raise ProjectError(f"project.json: data.{name} must be text or null")
        return cls(kind, source, options, schema, data.get("preprocessing"), sizes, path, relative,
                   embedded, payload)

    def load(self, project_dir: Path) -> tuple[Any, str | None]:
        """(dataset, note): the dataset rebuilt as saved, or None and the reason."""
        try:
            dataset = self._load(project_dir)
        except DataError as exc:
            # A recorded path may name any file on this machine: say what is wrong with it,
            # not what it holds (an embedded copy was the author's own data: say it all).
            text = str(exc) if self.embedded_bytes is not None else exc.without_contents()
            return None, f"the data could not be loaded: {text}"
        except (ValueError, TypeError, KeyError, OSError) as exc:
            return None, f"the data could not be loaded: {exc}"
        if dataset is None:
            return None, f"the data file {self.path} was not found (nor next to the project)"
        changed = [key for key in SCHEMA_KEYS if _plain(getattr(dataset, key)) != _plain(self.schema.get(key))]
        if changed:
            return None, (f"the data no longer matches the project: its {', '.join(changed)} changed "
                          "since it was saved")
        _ORIGINS[dataset] = self
        if self.preprocessing is not None and dataset.preprocessing.to_dict() != self.preprocessing:
            return dataset, ("the data file changed since the project was saved: its rows differ, so "
                             "the split and standardization were refitted")
        return dataset, None

    def _load(self, project_dir: Path) -> Any:
        saved = dict(self.options)
        # written before targets were standardized by default: the network learnt raw ones
        saved.setdefault("standardize_target", False)
        if saved.get("target") is None and self.schema.get("target") and self.kind == "csv":
            saved["target"] = self.schema["target"]  # the default target's rule has changed
        options = LoadOptions(**saved)
        if self.kind == "arrays":
            # from_json refuses arrays that are not embedded
            assert self.embedded_bytes is not None and self.embedded is not None
            return self._dataset_from_arrays(decode_npz(self.embedded_bytes, self.embedded), options)
        if self.kind == "builtin":
            name = self.source.removeprefix("builtin:")
            return make_builtin(name, seed=options.seed, val_fraction=options.val_fraction,
                                test_fraction=options.test_fraction, standardize=options.standardize,
                                standardize_target=options.standardize_target)
        if self.embedded_bytes is not None:
            assert self.embedded is not None  # the bytes are always read with their name
            with tempfile.TemporaryDirectory(prefix="nnstudio-") as folder:
                copy = Path(folder) / Path(self.embedded).name
                copy.write_bytes(self.embedded_bytes)
                dataset = load_csv(copy, options)
            dataset.source = self.path or self.source
            return dataset
        found = self._find(project_dir)
        return None if found is None else load_csv(found, options)

    def describe(self, project_dir: Path) -> str:
        """Where the data would be loaded from, for summaries: embedded, found, or missing."""
        if self.embedded is not None:
            return f"embedded copy ({self.embedded})"
        if self.kind == "builtin":
            return f"built-in dataset {self.source.removeprefix('builtin:')!r}"
        found = self._find(project_dir)
        return f"file {found}" if found is not None else f"missing file {self.path}"

    def _find(self, project_dir: Path) -> Path | None:
        """The CSV: relative to the project first (folders move together), then as saved,
        then by name next to the project."""
        candidates = []
        if self.relative_path:
            candidates.append(project_dir / self.relative_path)
        if self.path:
            candidates += [Path(self.path), project_dir / Path(self.path).name]
        # file_problem, not is_file: a hostile recorded path (a FIFO, a 300-character name)
        # must be passed over, neither block nor raise
        return next((candidate.resolve() for candidate in candidates
                     if file_problem(candidate) is None), None)

    def _dataset_from_arrays(self, arrays: dict[str, np.ndarray], options: LoadOptions) -> Any:
        names = [f"{axis}_{split}" for split in ("train", "val", "test") for axis in ("x", "y")]
        missing = [name for name in names if name not in arrays]
        if missing:
            raise ProjectError(f"{self.embedded}: missing arrays {missing}")
        x = np.concatenate([arrays["x_train"], arrays["x_val"], arrays["x_test"]]).astype(np.float32)
        y = np.concatenate([arrays["y_train"], arrays["y_val"], arrays["y_test"]])
        sizes = (len(arrays["x_train"]), len(arrays["x_val"]), len(arrays["x_test"]))
        if x.ndim != 2 or len(y) != len(x):
            raise ProjectError(f"{self.embedded}: the split arrays do not fit together")
        schema = self.schema
        preprocessing = Preprocessing.from_dict(self.preprocessing)
        columns = [ColumnInfo(name, "numeric", True) for name in schema["feature_names"]]
        report = LoadReport(self.source, RowReport(rows_read=len(x)), columns, schema["target"])
        return Dataset(x, y, sizes, task=schema["task"], feature_names=schema["feature_names"],
                       class_names=schema["class_names"], target=schema["target"], source=self.source,
                       preprocessing=preprocessing, options=options, report=report)


def _check_schema(schema: dict[str, Any]) -> None:
    """The recorded task, target and names must have the types a dataset gives them."""
    names_ok = lambda value: isinstance(value, list) and all(isinstance(v, str) for v in value)  # noqa: E731
    problems = [key for key, ok in (
        ("task", schema.get("task") in ("classification", "regression")),
        ("target", schema.get("target") is None or isinstance(schema.get("target"), str)),
        ("feature_names", names_ok(schema.get("feature_names"))),
        ("class_names", names_ok(schema.get("class_names")) and len(schema["class_names"]) >= 2
         if schema.get("task") == "classification" else schema.get("class_names") is None),
    ) if not ok or key not in schema]
    if problems:
        raise ProjectError(f"project.json: data.schema has a missing or bad {', '.join(problems)}")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
