"""Writing an export: ``model.py``, ``weights.safetensors``, ``train.py``, ``README.md`` and
the training data, each file atomically, with no torch needed."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..data import Preprocessing
from ..engine.network import Network
from ..training.config import TrainConfig
from .hook import ExportError
from .plan import ExportPlan, plan_export
from .source_model import WEIGHTS_FILE, model_source
from .source_readme import readme_source
from .optimizer_state import torch_optimizer_state
from .source_train import DATA_FILE, OPTIMIZER_FILE, train_source
from .tensor_file import encode_safetensors

#: the training split is exported for train.py up to this size (else --csv is needed)
DATA_LIMIT_BYTES = 64 * 2**20


@dataclass
class ExportResult:
    """Where the files went, the plan they came from, and anything the user should know."""

    directory: Path
    files: list[Path]
    plan: ExportPlan
    notes: list[str] = field(default_factory=list)


def export_pytorch(network: Network, directory: str | Path, *, dataset: Any = None,
                   preprocessing: Preprocessing | dict | None = None,
                   train_config: TrainConfig | None = None, eval_bn_stats: str | None = None,
                   optimizer_state: dict[str, np.ndarray] | None = None,
                   about: str = "") -> ExportResult:
    """Write ``network`` as a PyTorch module, its weights, a training script and a README.

    Parameters
    ----------
    network : Network
        Built; no injected fault; custom layers only with a ``to_torch()`` hook.
    directory : str or Path
        Created if needed; the exported files in it are replaced.
    dataset : Dataset, optional
        Its training and validation splits go to ``data.safetensors`` for ``train.py``,
        and its preprocessing is used unless ``preprocessing`` is given.
    preprocessing : Preprocessing or its ``to_dict()``, optional
        What ``preprocess`` reproduces. Without it the network's inputs are taken as given.
    train_config : TrainConfig, optional
        Optimizer and settings of ``train.py``; its ``bn_stats`` is the BatchNorm
        statistics of ``model.train()``.
    eval_bn_stats : {"running", "batch", "auto"}, optional
        BatchNorm statistics of the studio's predictions (``model.eval()``); default
        ``train_config.eval_bn_stats``.
    optimizer_state : dict, optional
        ``Optimizer.state_dict()`` of the optimizer that trained ``network`` (of
        ``train_config``'s kind): ``train.py`` then resumes its momentum or Adam moments.
    about : str
        A line on where the network comes from, for the docstrings and README.

    Raises
    ------
    ExportError
        The network cannot be exported (the message names the layer), or it does not fit
        the preprocessing.
    """
    config = train_config or TrainConfig()
    plan = plan_export(network, config.bn_stats, eval_bn_stats or config.eval_bn_stats)
    record = _preprocessing_record(preprocessing, dataset)
    _check_fits(plan, record)
    about = about or f"Exported by NN Studio {__version__}."
    contents: dict[str, bytes] = {
        WEIGHTS_FILE: encode_safetensors(plan.state_dict(), {"format": "pt"}),
        "model.py": model_source(plan, record, about).encode("utf-8"),
        "train.py": train_source(plan, config, about).encode("utf-8"),
    }
    notes: list[str] = []
    data = _data_tensors(dataset, notes)
    if data is not None:
        contents[DATA_FILE] = encode_safetensors(data)
    moments = torch_optimizer_state(network, optimizer_state, notes)
    if moments is not None:
        contents[OPTIMIZER_FILE] = encode_safetensors(moments)
    contents["README.md"] = readme_source(plan, about, sorted(contents) + ["README.md"],
                                          notes).encode("utf-8")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {directory}: {exc}") from None
    files = [_write_atomically(directory / name, payload) for name, payload in contents.items()]
    return ExportResult(directory, files, plan, notes)


def _preprocessing_record(preprocessing: Any, dataset: Any) -> dict | None:
    if preprocessing is None and dataset is not None:
        preprocessing = getattr(dataset, "preprocessing", None)
    if preprocessing is None:
        return None
    record = dict(preprocessing if isinstance(preprocessing, dict) else preprocessing.to_dict())
    if record.get("target") is None and getattr(dataset, "target", None):
        record["target"] = dataset.target  # datasets made from arrays name it only there
    return record


def _check_fits(plan: ExportPlan, record: dict | None) -> None:
    if record is None:
        return
    width = Preprocessing.from_dict(record).n_features
    if width != plan.input_dim:
        raise ExportError(f"the network takes {plan.input_dim} inputs but the data's "
                          f"preprocessing makes {width} features: they do not belong together")
    classes = record.get("class_names")
    if record.get("task") == "classification" and classes and len(classes) != plan.output_dim:
        raise ExportError(f"the network has {plan.output_dim} outputs for {len(classes)} classes")


def _data_tensors(dataset: Any, notes: list[str]) -> dict[str, np.ndarray] | None:
    if dataset is None:
        notes.append("No training data was available: `train.py` needs `--csv FILE`.")
        return None
    arrays = {f"{axis}_{split}": np.ascontiguousarray(getattr(dataset, f"{axis}_{split}"))
              for split in ("train", "val") for axis in ("x", "y")}
    size = sum(array.nbytes for array in arrays.values())
    if size > DATA_LIMIT_BYTES:
        notes.append(f"The training data ({size / 2**20:.0f} MB) was not exported: "
                     "`train.py` needs `--csv FILE`.")
        return None
    return arrays


def _write_atomically(path: Path, payload: bytes) -> Path:
    """Write to a temporary file beside ``path``, then rename it into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {path}: {exc}") from None
        raise
    return path
