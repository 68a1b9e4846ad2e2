"""Export a network as runnable PyTorch code with its weights: ``model.py``,
``weights.safetensors``, ``train.py`` and a ``README.md``.

Writing needs only the standard library and numpy; torch is needed only to run the
output. Numbers match the engine's because NN Studio follows PyTorch's conventions.

    from nnstudio.export import export_project
    export_project("lab.nnproj", "lab_torch/")

Custom layers are exported through their ``to_torch()`` hook (see :mod:`.hook`); a network
with an injected fault, or a custom layer without the hook, is refused with
:class:`ExportError` naming the layer.
"""
from .hook import ExportError, TorchModule
from .plan import ExportPlan, plan_export
from .project import export_project
from .tensor_file import read_safetensors, write_safetensors
from .writer import ExportResult, export_pytorch

__all__ = ["ExportError", "ExportPlan", "ExportResult", "TorchModule", "export_project",
           "export_pytorch", "plan_export", "read_safetensors", "write_safetensors"]
