"""``nnstudio info FILE.nnproj [--json]``: summarise a saved project without training.

Prints the layers with output shapes and parameter counts, the data source and whether
it can be found, the training settings, how far training went and the last metrics.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from nnstudio.engine.network import Network
from nnstudio.project import Project, load_project


def add_arguments(parser) -> None:
    parser.add_argument("project", help="a .nnproj project file")
    parser.add_argument("--json", action="store_true",
                        help="print the summary as one JSON object instead of text")
    parser.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                        help="load the layers a project uses from a Python file first (runs "
                             "its code); repeatable")


def run(args) -> int:
    from nnstudio.engine.custom_layers import load_custom_layers

    for path in args.custom_layer:
        load_custom_layers(path)
    project = load_project(args.project, load_data=False)
    for note in project.custom_layer_notes:
        print(f"note: {note}", file=sys.stderr)
    summary = project_summary(project)
    if args.json:
        print(json.dumps(summary, indent=1, allow_nan=False))
    else:
        print(format_summary(summary))
    return 0


def network_rows(network: Network) -> list[dict[str, Any]]:
    """One row per layer: index, label, type, output shape, parameter count, fault."""
    return [{"index": index, "layer": layer.describe(), "type": layer.type_name,
             "output_shape": [None, layer.output_dim], "parameters": layer.num_parameters(),
             "fault": layer.fault}
            for index, layer in enumerate(network.layers)]


def network_summary(network: Network) -> dict[str, Any]:
    return {"input_dim": network.input_dim, "layers": network_rows(network),
            "loss": network.loss.type_name, "parameters": network.num_parameters(),
            "dtype": network.dtype.name}


def project_summary(project: Project) -> dict[str, Any]:
    """The JSON-safe summary that ``info`` prints (also used by tests and scripts)."""
    source = project.data_source
    data = None
    if source is not None:
        data = {"kind": source.kind, "source": source.source, "task": source.schema.get("task"),
                "target": source.schema.get("target"),
                "features": len(source.schema.get("feature_names") or []),
                "classes": source.schema.get("class_names"),
                "rows": dict(zip(("train", "val", "test"), source.sizes)),
                "available": source.describe(project.path.parent)}
    state = project.trainer_state or {}
    return {
        "file": str(project.path), "format_version": project.format_version,
        "saved_by": project.saved_by, "description": project.description,
        "network": network_summary(project.network),
        "data": data,
        "training": project.train_config.to_dict(),
        "epochs_trained": state.get("epoch", project.history[-1]["epoch"] if project.history else 0),
        "steps": state.get("step", 0),
        "mid_epoch": state.get("progress") is not None,
        "final": project.history[-1] if project.history else None,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The human-readable text of :func:`project_summary`."""
    lines = [f"{summary['file']} (project format {summary['format_version']}, {summary['saved_by']})"]
    if summary["description"]:
        lines += ["", summary["description"]]
    net = summary["network"]
    lines += ["", f"Network: {net['input_dim']} inputs, {net['parameters']:,} parameters, "
                  f"loss {net['loss']}, {net['dtype']}"]
    lines += ["  #  layer                 output      params"]
    for row in net["layers"]:
        shape = f"(N, {row['output_shape'][1]})"
        fault = f"  fault: {row['fault']}" if row["fault"] else ""
        lines.append(f"  {row['index']:<2} {row['layer']:<21} {shape:<11} {row['parameters']:>6,}{fault}")
    lines += ["", _data_text(summary["data"])]
    config = summary["training"]
    settings = ", ".join(f"{key} {value}" for key, value in config.items())
    lines += ["", f"Training: {settings}"]
    lines.append(_progress_text(summary))
    return "\n".join(lines)


def _data_text(data: dict[str, Any] | None) -> str:
    if data is None:
        return "Data: none recorded"
    rows = data["rows"]
    classes = f", classes {', '.join(map(str, data['classes']))}" if data["classes"] else ""
    return (f"Data: {data['source']} ({data['kind']}; {data['available']})\n"
            f"  {data['task']}, target {data['target']!r}, {data['features']} features{classes}\n"
            f"  rows: {rows['train']} train, {rows['val']} validation, {rows['test']} test")


def _progress_text(summary: dict[str, Any]) -> str:
    final = summary["final"]
    if final is None:
        return "Not trained yet."
    text = f"Trained {summary['epochs_trained']} epochs ({summary['steps']} steps)"
    if summary["mid_epoch"]:
        text += ", saved in the middle of an epoch"
    name = final.get("metric_name", "metric")
    parts = [f"train loss {_number(final.get('train_loss'))}", f"train {name} {_number(final.get('train_metric'))}",
             f"val loss {_number(final.get('val_loss'))}", f"val {name} {_number(final.get('val_metric'))}"]
    return text + ".\nLast epoch: " + ", ".join(parts)


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"
