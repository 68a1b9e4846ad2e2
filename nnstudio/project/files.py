"""Saving and loading a whole session as one ``.nnproj`` file.

Layout of the zip archive::

    project.json   format and version, network architecture (layer settings, faults),
                   data source and fitted preprocessing, training settings, metrics
                   history, the trainer's resumable counters, a description
    weights.npz    parameters and buffers ("index.name", as ``Network.state_dict``)
    trainer.npz    optimizer state and the order of an epoch in progress (optional)
    data/NAME      a copy of the data file, when it was embedded (optional)

Nothing in a project file is executed: arrays are parsed without unpickling, layer types
must already be registered, and a custom layer must be loaded explicitly beforehand;
``project.json`` records each custom layer file (``custom_layer_records``) so that opening
can name the files to load.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.json_values import json_safe
from ..engine.network import Network
from ..training import TrainConfig, Trainer
from ..training.health.layout import layer_entries_ok
from ..training.state import resume_gaps
from .archive import (ProjectError, decode_npz, encode_npz, open_zip, read_member,
                      write_zip_atomically)
from .custom_layer_records import parse_records, records_for, require_loaded
from .datasource import DataSource
from .network_io import network_from_json, network_to_json, size_check

FORMAT = "nnstudio-project"
FORMAT_VERSION = 1
PROJECT_JSON, WEIGHTS, TRAINER_ARRAYS = "project.json", "weights.npz", "trainer.npz"
#: project.json of a real project is a few KB to a few MB (long histories); more is refused
MAX_DOCUMENT_BYTES = 32 * 2**20


@dataclass
class Project:
    """A loaded project.

    Attributes
    ----------
    path : Path
    network : Network
        Weights, BatchNorm statistics and injected faults as saved.
    data_source : DataSource or None
        Where the data came from, with its options, schema and fitted preprocessing.
    dataset : Dataset or None
        Reloaded from the embedded copy or the source; None when it could not be (see
        ``data_note``) or when loading was skipped.
    data_note : str or None
        Why ``dataset`` is None, or a warning about it (e.g. the file changed since saving).
    train_config : TrainConfig
    history : list of dict
        Per-epoch metrics, as ``Trainer.history``.
    trainer_state : dict or None
        ``Trainer.state_dict()`` as saved (with its "arrays"); None if never trained.
    description : str
    extras : dict
        JSON data a front end stored with the project (e.g. the window's view settings).
    format_version : int
    saved_by : str
    resume_notes : list of str
        Set by :meth:`make_trainer`: what of the saved optimizer state was missing and
        started afresh (empty when the run continues exactly).
    custom_layer_notes : list of str
        Custom layer files that were loaded but differ from those the project was saved with.
    """

    path: Path
    network: Network
    data_source: DataSource | None
    dataset: Any
    data_note: str | None
    train_config: TrainConfig
    history: list[dict[str, Any]] = field(default_factory=list)
    trainer_state: dict[str, Any] | None = None
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    saved_by: str = ""
    resume_notes: list[str] = field(default_factory=list)
    custom_layer_notes: list[str] = field(default_factory=list)

    def make_trainer(self, dataset: Any = None, restore_state: bool = True,
                     strict: bool = False) -> Trainer:
        """A :class:`Trainer` that continues exactly where the saved one stopped.

        ``dataset`` overrides ``self.dataset``. With ``restore_state=False`` only the
        history is kept (a fresh optimizer, generator and counters). Raises ProjectError if
        there is no dataset or the saved state does not fit it. Optimizer state missing
        from the file (no ``trainer.npz``) starts afresh and is listed in
        ``resume_notes``; with ``strict`` it raises ProjectError instead.
        """
        dataset = dataset if dataset is not None else self.dataset
        if dataset is None:
            raise ProjectError(f"{self.path.name}: no data to train on"
                               + (f" ({self.data_note})" if self.data_note else ""))
        state, gaps = self.trainer_state, []
        if restore_state and isinstance(state, dict) and state.get("progress") is not None \
                and "progress/order" not in (state.get("arrays") or {}):
            gaps.append(f"the epoch in progress (epoch {state.get('epoch', 0) + 1}) restarts "
                        "from its first batch, in a new order")
            state = {**state, "progress": None}
        try:
            trainer = Trainer(self.network, dataset, self.train_config)
            if restore_state and state is not None:
                trainer.load_state_dict(state)
        except ValueError as exc:
            raise ProjectError(f"{self.path.name}: {exc}") from None
        gaps += resume_gaps(trainer, state) if restore_state and state is not None else []
        self.resume_notes = [f"{self.path.name}: {gap}, so training does not continue exactly "
                             "as if it had never stopped" for gap in gaps]
        if strict and gaps:
            raise ProjectError(f"{self.path.name}: cannot continue exactly: {'; '.join(gaps)} "
                               f"({TRAINER_ARRAYS} is missing or incomplete)")
        trainer.history = [dict(entry) for entry in self.history]
        return trainer


def save_project(path: str | Path, network: Network, data: Any = None, training: Any = None, *,
                 history: list[dict] | None = None, embed_data: bool = False,
                 description: str = "", extras: dict[str, Any] | None = None) -> Path:
    """Write a project file atomically (temporary file, then rename); return its path.

    Parameters
    ----------
    path : str or Path
        Usually ending in ``.nnproj``. An existing file is replaced only once the new
        one is completely written.
    network : Network
        Built. Its architecture, injected faults, parameters and buffers are saved.
    data : Dataset, DataSource, Project or None
        A dataset records its source (CSV path or built-in generator), load options,
        schema and fitted preprocessing; a loaded project's ``data_source`` (or the
        project itself) keeps any embedded copy.
    training : Trainer, TrainConfig or None
        A trainer contributes its settings, history and resumable state (it must be
        training ``network``); a config only the settings.
    history : list of dict, optional
        Overrides the trainer's history.
    embed_data : bool
        Store a copy of the data file in the project, so it opens anywhere. Built-in
        datasets are regenerated from their parameters and need no copy.
    description : str
        Free text shown by ``nnstudio info`` (e.g. a teacher's instructions).
    extras : dict, optional
        JSON-safe settings of a front end, returned as ``Project.extras``.
    """
    path = Path(path)
    source = _data_source(data)
    config, state, history = _training_parts(network, training, history)
    members: dict[str, bytes] = {}
    embedded = source.embedded_member(path.parent, embed_data) if source is not None else None
    if embedded is not None:
        members[embedded[0]] = embedded[1]
    arrays = dict(state.pop("arrays")) if state is not None else {}
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "saved_by": f"nnstudio {__version__}",
        "description": str(description), "network": network_to_json(network),
        "data": None if source is None else source.to_json(path.parent, embedded and embedded[0]),
        "training": config.to_dict(), "history": history, "trainer": state,
        "extras": dict(extras or {}),
        "custom_layers": [record.to_json() for record in records_for(network, path.parent)],
    }
    members[PROJECT_JSON] = json.dumps(json_safe(document), indent=1, allow_nan=False).encode("utf-8")
    members[WEIGHTS] = encode_npz(network.state_dict())
    if arrays:
        members[TRAINER_ARRAYS] = encode_npz(arrays)
    write_zip_atomically(path, dict(sorted(members.items())))
    return path


def _data_source(data: Any) -> DataSource | None:
    if data is None or isinstance(data, DataSource):
        return data
    if isinstance(data, Project):
        return data.data_source
    return DataSource.from_dataset(data)


def _training_parts(network: Network, training: Any, history: list[dict] | None):
    if isinstance(training, Trainer):
        if training.network is not network:
            raise ValueError("the trainer given to save_project trains a different network")
        state = training.state_dict()
        return training.config, state, [dict(e) for e in (history if history is not None else training.history)]
    if training is None or isinstance(training, TrainConfig):
        return training or TrainConfig(), None, [dict(e) for e in (history or [])]
    raise ValueError(f"training must be a Trainer, a TrainConfig or None, got {type(training).__name__}")


def load_project(path: str | Path, *, load_data: bool = True) -> Project:
    """Read and validate a project file.

    Every part is checked and a problem raises :class:`ProjectError` (a ValueError) that
    names it: not a zip or truncated, a missing member or key, a newer format version,
    an unknown layer type, a weight of the wrong name, shape or dtype, a pickled array,
    a member path escaping the archive, an oversized member. A missing file raises
    FileNotFoundError.

    With ``load_data`` (default) the dataset is reloaded, from the embedded copy if there
    is one, else from the recorded source (looked up relative to the project first).
    When that fails, ``Project.dataset`` is None and ``Project.data_note`` says why.
    """
    path = Path(path)
    try:
        return _load(path, load_data)
    except MemoryError:
        raise ProjectError(f"{path.name}: not enough memory to load this project") from None
    except RecursionError:
        raise ProjectError(f"{path.name}: project.json is nested too deeply") from None


def _load(path: Path, load_data: bool) -> Project:
    where = path.name
    archive = open_zip(path, where)
    names = set(archive.namelist())
    for required in (PROJECT_JSON, WEIGHTS):
        if required not in names:
            raise ProjectError(f"{where} is not an NN Studio project: it has no {required}")
    size = archive.getinfo(PROJECT_JSON).file_size
    if size > MAX_DOCUMENT_BYTES:
        raise ProjectError(f"{where}: project.json is {size / 2**20:.0f} MB; at most "
                           f"{MAX_DOCUMENT_BYTES // 2**20} MB are accepted (a damaged or hostile file)")
    document = _read_document(read_member(archive, PROJECT_JSON, where), where)
    weights = decode_npz(read_member(archive, WEIGHTS, where), WEIGHTS,
                         check=size_check(document["network"]))
    # Never runs a file: a custom layer the user has not loaded stops here, naming its files.
    layer_notes = require_loaded(parse_records(document.get("custom_layers")), path)
    network = network_from_json(document["network"], weights)
    try:
        config = TrainConfig.from_dict(document["training"])
    except (ValueError, TypeError) as exc:
        raise ProjectError(f"project.json: training: {exc}") from None
    history = _history(document["history"])
    state = _trainer_state(document.get("trainer"), archive, names, where)
    source = DataSource.from_json(document["data"], archive, where) if document["data"] is not None else None
    dataset, note = None, (None if source is not None else "the project has no data source")
    if source is not None and load_data:
        dataset, note = source.load(path.parent)
    elif source is not None:
        note = "the data was not loaded"
    project = Project(path, network, source, dataset, note, config, history, state,
                      document["description"], document["extras"], document["format_version"],
                      document["saved_by"])
    project.custom_layer_notes = layer_notes
    return project


def _read_document(raw: bytes, where: str) -> dict[str, Any]:
    try:
        # NaN and Infinity literals are not JSON; read as null, they are then refused
        # wherever a number is required, and a history keeps them as "no value".
        document = json.loads(raw.decode("utf-8"), parse_constant=lambda _name: None)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProjectError(f"{where}: project.json is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ProjectError(f"{where}: project.json does not describe an NN Studio project "
                           f"(expected \"format\": \"{FORMAT}\")")
    version = document.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(f"{where}: project.json has a bad format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ProjectError(f"{where} was written by a newer NN Studio (project format {version}); "
                           f"this version reads format {FORMAT_VERSION} and older: please update")
    for key in ("network", "data", "training", "history"):
        if key not in document:
            raise ProjectError(f"{where}: project.json is missing the key {key!r}")
    document.setdefault("description", "")
    document.setdefault("saved_by", "")
    document.setdefault("extras", {})
    if not isinstance(document["extras"], dict):
        raise ProjectError(f"{where}: project.json: extras must be an object")
    if not isinstance(document["description"], str) or not isinstance(document["saved_by"], str):
        raise ProjectError(f"{where}: project.json: description and saved_by must be text")
    return document


def _history(history: Any) -> list[dict[str, Any]]:
    """Per-epoch entries whose values have the types training writes (numbers or null,
    a metric name, a dict of gradient norms); anything else is refused by its key."""
    if not isinstance(history, list):
        raise ProjectError("project.json: 'history' must be a list of per-epoch objects")
    for position, entry in enumerate(history):
        if not isinstance(entry, dict) or not _is_count(entry.get("epoch")):
            raise ProjectError(f"project.json: history[{position}] is not a per-epoch object with an 'epoch'")
        for key, value in entry.items():
            if key == "metric_name":
                ok = value is None or isinstance(value, str)
            elif key == "grad_norms":
                ok = value is None or (isinstance(value, dict)
                                       and all(_is_number_or_null(v) for v in value.values()))
            elif key in ("epoch", "step"):
                ok = _is_count(value)
            elif key == "layers":  # layer health, see nnstudio.training.health
                ok = layer_entries_ok(value)
            else:
                ok = _is_number_or_null(value)
            if not ok:
                raise ProjectError(f"project.json: history[{position}].{key} has a value of the "
                                   f"wrong type ({type(value).__name__})")
    return history


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _trainer_state(state: Any, archive, names: set[str], where: str) -> dict[str, Any] | None:
    if state is None:
        return None
    if not isinstance(state, dict):
        raise ProjectError("project.json: 'trainer' must be an object or null")
    for key in ("epoch", "step"):
        if key in state and not _is_count(state[key]):
            raise ProjectError(f"project.json: trainer.{key} must be a non-negative integer")
    arrays = decode_npz(read_member(archive, TRAINER_ARRAYS, where), TRAINER_ARRAYS) \
        if TRAINER_ARRAYS in names else {}
    return {**state, "arrays": arrays}
