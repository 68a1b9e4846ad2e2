"""``nnstudio export FILE.nnproj --to DIR``: the project's network as PyTorch code.

Writes ``model.py`` (an ``nn.Sequential`` with ``load`` and ``preprocess``),
``weights.safetensors``, ``train.py``, ``data.safetensors`` (the training split, when the
data can be loaded) and ``README.md``. Needs no torch. Exit 2 when the project cannot be
read or the network cannot be exported (an injected fault, a custom layer without
``to_torch()``), with a message naming the layer.
"""
from __future__ import annotations

from nnstudio.engine.context import BN_STATS_MODES
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.export import export_project


def add_arguments(parser) -> None:
    parser.add_argument("project", help="a .nnproj project file")
    parser.add_argument("--to", required=True, metavar="DIR",
                        help="folder for the exported files (created if needed)")
    parser.add_argument("--custom-layer", action="append", default=[], metavar="FILE",
                        help="load a custom layer file first (runs its code); its layers "
                             "export through their to_torch() method")
    parser.add_argument("--bn-stats", choices=BN_STATS_MODES, default=None,
                        help="BatchNorm statistics of the exported model's eval() mode "
                             "(default: the project's, as the studio predicts)")


def run(args) -> int:
    for path in args.custom_layer:
        load_custom_layers(path)
    result = export_project(args.project, args.to, eval_bn_stats=args.bn_stats)
    print(f"Exported {len(result.plan.entries)} layers to {result.directory}:")
    for path in result.files:
        print(f"  {path.name}")
    for note in result.notes:
        print(f"Note: {note}")
    print(f"Run: cd {result.directory} && python -c \"import model; print(model.load())\"")
    return 0
