"""The text of the exported ``model.py``: the network as ``nn.Sequential``, weight loading,
and the project's preprocessing."""
from __future__ import annotations

import textwrap
from typing import Any

from .literals import comment, one_line
from .plan import STUDIO_BATCHNORM, ExportPlan
from .source_data import preprocessing_source

WEIGHTS_FILE = "weights.safetensors"

STUDIO_BATCHNORM_SOURCE = f'''

class {STUDIO_BATCHNORM}(nn.BatchNorm1d):
    """BatchNorm1d with NN Studio's fixed choice of statistics per phase.

    ``train_stats`` and ``eval_stats`` are "batch" (normalise with the batch's own mean and
    biased variance) or "running" (with the running estimates), in train() and eval()
    mode. The running estimates move only when batch statistics are used in train() mode,
    by the same rule as nn.BatchNorm1d: momentum weights the new batch, unbiased variance.
    """

    def __init__(self, num_features, eps, momentum, train_stats="batch", eval_stats="running"):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.train_stats, self.eval_stats = train_stats, eval_stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stats = self.train_stats if self.training else self.eval_stats
        if stats == "running":
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        if not self.training:  # batch statistics in eval(): nothing may move
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
        self.num_batches_tracked += 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            True, self.momentum, self.eps)
'''

WEIGHTS_SOURCE = '''

def load(path=HERE / WEIGHTS_FILE) -> nn.Sequential:
    """The exported network with its trained weights and BatchNorm buffers, in eval() mode."""
    model = build_model()
    model.load_state_dict(read_weights(path), strict=True)
    return model.eval()


def read_weights(path) -> dict:
    """name -> tensor of a .safetensors file, never unpickled: with the safetensors package
    when it is installed, else with the small reader below (the format is a JSON header and
    the raw little-endian bytes of each tensor)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        return {name: torch.from_numpy(array) for name, array in _read_safetensors(path).items()}
    return load_file(str(path))


def write_weights(path, state: dict) -> None:
    """Save a state dict (e.g. ``model.state_dict()``) as .safetensors, without pickle."""
    header, chunks, offset = {}, [], 0
    for name in sorted(state):
        array = state[name].detach().cpu().numpy()
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        kind = _TYPE_NAMES[array.dtype.name]
        header[name] = {"dtype": kind, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


_TYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_}
_TYPE_NAMES = {np.dtype(numpy_type).name: name for name, numpy_type in _TYPES.items()}


def _read_safetensors(path) -> dict:
    raw = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    header.pop("__metadata__", None)
    data = memoryview(raw)[8 + size:]
    arrays = {}
    for name, info in header.items():
        start, stop = info["data_offsets"]
        dtype = np.dtype(_TYPES[info["dtype"]])
        flat = np.frombuffer(data[start:stop], dtype=dtype.newbyteorder("<"))
        arrays[name] = flat.astype(dtype).reshape(info["shape"])
    return arrays
'''


def model_source(plan: ExportPlan, preprocessing: dict[str, Any] | None, about: str) -> str:
    """The whole of ``model.py``.

    Parameters
    ----------
    plan : ExportPlan
    preprocessing : dict or None
        ``Preprocessing.to_dict()`` of the project's dataset.
    about : str
        One line on where the network came from (project file, version).
    """
    studio_bn = plan.uses_studio_batchnorm
    tables = preprocessing is not None  # the table helpers need math, warnings, pandas
    imports = ["import json"] + ["import math"] * tables + ["import struct"] + [
        "import warnings"] * tables + ["from pathlib import Path", "", "import numpy as np"] + [
        "import pandas as pd"] * tables + ["import torch", "from torch import nn"]
    definitions = "\n\n\n".join(plan.definitions())
    if studio_bn or "F." in definitions or any("F." in entry.module for entry in plan.entries):
        imports.append("from torch.nn import functional as F")
    parts = [_docstring(plan, about), "\n".join(imports), "",
             "HERE = Path(__file__).resolve().parent",
             f"WEIGHTS_FILE = {WEIGHTS_FILE!r}",
             f"#: the studio trained this network in {plan.dtype}",
             f"DTYPE = torch.{plan.dtype}",
             f"#: {plan.input_dim} inputs (FEATURE_NAMES) -> {plan.output_dim} outputs",
             f"N_INPUTS, N_OUTPUTS = {plan.input_dim}, {plan.output_dim}"]
    if definitions:
        parts += ["", "", "# -- custom layers, as their to_torch() hooks wrote them "
                  + "-" * 21, definitions]
    source = "\n".join(parts) + "\n"
    if studio_bn:
        source += STUDIO_BATCHNORM_SOURCE
    source += _build_model(plan) + WEIGHTS_SOURCE + preprocessing_source(preprocessing)
    return source.rstrip("\n") + "\n"


def _docstring(plan: ExportPlan, about: str) -> str:
    predicts = "class names" if plan.loss_type != "mse" else "predicted values"
    rows = "\n".join(_layer_row(entry.index, entry.label, entry.module) for entry in plan.entries)
    return f'''"""A network trained in NN Studio, as a PyTorch module.

{one_line(about)}

    import model
    net = model.load()                                  # trained weights, eval() mode
    rows = model.read_csv("data.csv")                   # or any pandas DataFrame
    print(model.predict(net, rows))                     # {predicts}
    logits = net(model.preprocess(rows))                # the raw outputs

Layers (index = position in the nn.Sequential = prefix of the weights' names):

{rows}

Loss in training: {plan.loss}. Weights: {WEIGHTS_FILE}, read without pickle.
torch's conventions are NN Studio's: BatchNorm momentum weights the new
batch and the running variance is unbiased; Dropout is inverted and off in eval().
"""
'''


def _build_model(plan: ExportPlan) -> str:
    lines = ["", "", "def build_model() -> nn.Sequential:",
             '    """The architecture with fresh weights (``load`` puts the trained ones in)."""',
             "    model = nn.Sequential("]
    for entry in plan.entries:
        lines += comment(f"{entry.index} {entry.comment}", "        ")
        lines.append(f"        {entry.module},")
    lines += ["    )", "    return model.to(DTYPE)", ""]
    return "\n".join(lines)


def _layer_row(index: int, label: str, module: str) -> str:
    row = f"    {index:<3}{one_line(label):<22}{one_line(module)}"
    if len(row) <= 88:
        return row
    pieces = textwrap.wrap(one_line(module), 88 - 29, break_long_words=False)
    return f"    {index:<3}{one_line(label)}\n" + "\n".join(f"{'':<29}{piece}" for piece in pieces)
