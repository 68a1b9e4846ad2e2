"""The ``README.md`` written next to the exported files."""
from __future__ import annotations

from .literals import one_line
from .plan import ExportPlan


def readme_source(plan: ExportPlan, about: str, files: list[str], notes: list[str]) -> str:
    rows = "\n".join(f"| {entry.index} | {one_line(entry.label)} | `{one_line(entry.module)}` |"
                     for entry in plan.entries)
    listing = "\n".join(f"- `{name}`" for name in files)
    extra = "".join(f"\n- {one_line(note)}" for note in notes)
    predicts = "class names" if plan.loss_type != "mse" else "predicted values"
    return f"""# {one_line(about)}

A network exported from NN Studio as PyTorch code and weights. Running it needs `torch`,
`numpy` and `pandas` (`pip install torch numpy pandas`); the `safetensors` package is used
when it is installed and is not required: `model.py` reads the weights file itself.
Nothing here is unpickled.

{listing}

## Use the model

```python
import model
net = model.load()                       # the trained weights, in eval() mode
rows = model.read_csv("my_rows.csv")     # or any pandas DataFrame with the same columns
print(model.predict(net, rows))          # {predicts}
outputs = net(model.preprocess(rows))    # the network's raw outputs ({plan.output_dim} per row)
```

`preprocess` applies what the studio fitted on the training split: the fill of missing
cells, one-hot columns in their category order, and the feature standardization (the
constants at the top of that section of `model.py`). Raw CSV rows therefore get the same
predictions as in the studio.

## Continue training

```bash
python train.py                         # the exported training split (data.safetensors)
python train.py --epochs 20 --out continued.safetensors
python train.py --csv more_rows.csv     # rows of a table, through model.preprocess
```

`train.py` uses the project's optimizer and settings (its docstring lists them), seeds
the row order and dropout masks, starts from the exported weights and writes the new
ones with `model.write_weights` (safetensors). Load them with `model.load("continued.safetensors")`.

## Layers

| # | NN Studio | PyTorch |
|---|-----------|---------|
{rows}

The state dict's names are `INDEX.NAME`, e.g. `0.weight`, with BatchNorm buffers
(`running_mean`, `running_var`, `num_batches_tracked`) included. NN Studio follows
PyTorch's conventions (BatchNorm momentum weights the new batch, unbiased running
variance, inverted dropout, L2 = `weight_decay`), so outputs and gradients agree with the
studio's to rounding.{extra}
"""
