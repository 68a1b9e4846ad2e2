"""Exporting a saved project: its network, preprocessing, settings and training data."""
from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..project import load_project
from .writer import ExportResult, export_pytorch


def export_project(path: str | Path, directory: str | Path,
                   eval_bn_stats: str | None = None) -> ExportResult:
    """Export the project file ``path`` into ``directory`` (see :func:`export_pytorch`).

    The data is reloaded for ``train.py``'s training split; when it cannot be, the export
    still happens without it and the result's ``notes`` say why. Raises ProjectError for a
    bad project file and ExportError for a network that cannot be exported.
    """
    project = load_project(path)
    source = project.data_source
    record = None
    if source is not None and source.preprocessing is not None:
        record = dict(source.preprocessing)
        record["target"] = record.get("target") or source.schema.get("target")
    result = export_pytorch(
        project.network, directory, dataset=project.dataset, preprocessing=record,
        train_config=project.train_config, eval_bn_stats=eval_bn_stats,
        optimizer_state=_optimizer_state(project),
        about=f"Exported by NN Studio {__version__} from {Path(path).name}.")
    if project.dataset is None and project.data_note:
        result.notes.append(f"The project's data was not exported: {project.data_note}.")
    return result


def _optimizer_state(project) -> dict | None:
    """The saved optimizer's arrays ("3.W/velocity", "steps"), if it is of the configured kind."""
    state = project.trainer_state
    if not state or state.get("optimizer") != project.train_config.optimizer:
        return None
    prefix = "optimizer/"
    return {key[len(prefix):]: value for key, value in state["arrays"].items()
            if key.startswith(prefix)}
