"""``nnstudio new-layer NAME [--style functions | class]``: start a layer of your own.

Writes ``NAME.py`` (or ``--output FILE``): a commented layer that is correct as written — a
per-feature scale and shift, out = x·gamma + beta — so the gradient check passes before
you change anything; the places to change are marked ``CHANGE``. ``functions`` (default)
is the cs231n layer-function convention, ``class`` a ``Layer`` subclass. An existing file
is never overwritten (exit 2).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nnstudio.engine.layers import BUILTIN_LAYERS

STYLES = ("functions", "class")

FUNCTIONS_TEMPLATE = '''"""{name}: a layer in NN Studio's layer-function convention (cs231n style).

Written by `nnstudio new-layer {name}`. As written it is a correct per-feature scale and
shift, out = x*gamma + beta, and passes the gradient checker:

    nnstudio gradcheck builtin:iris --custom-layer {file} --layers dense:8,{name}

Change the places marked CHANGE, then run the check again: a wrong backward shows up as
a mismatch, and the report names the layer where the error enters.
"""
import numpy as np

NAME = "{name}"  # the name used in --layers specs and in the window's palette

# CHANGE: the learned arrays, in the order backward returns their gradients:
# name -> (shape, init). A shape is a tuple of "D" (the input width), "units" (the first
# spec argument, e.g. {name}:16) or integers; init is "zeros", "ones", "he", "xavier" or
# a number (every element set to it).
PARAMS = {{"gamma": (("D",), "ones"), "beta": (("D",), "zeros")}}

# CHANGE (optional): a layer that changes the width says so:
# OUTPUT = "units"

# CHANGE (optional): settings and state, passed to forward as its last argument (as
# cs231n's bn_param). NN Studio sets "mode" ("train" or "test") and "seed" before every
# call; arrays forward stores in it (running_mean, ...) are kept and saved with projects.
# Spec arguments override the entries in order ({name}:1e-3 sets the first one).
# With it, forward is forward(x, gamma, beta, layer_param).
# LAYER_PARAM = {{"eps": 1e-5}}


def forward(x, gamma, beta):
    """x: (N, D) -> out: (N, D), cache.

    CHANGE: compute the output; keep in ``cache`` whatever backward needs.
    """
    out = x * gamma + beta
    cache = (x, gamma)
    return out, cache


def backward(dout, cache):
    """dout: (N, D) -> dx: (N, D), dgamma: (D,), dbeta: (D,).

    CHANGE: return dx first, then one gradient per entry of PARAMS, in its order, each of
    its parameter's shape (sum over the batch axis: the loss is already a batch mean).
    """
    x, gamma = cache
    dx = dout * gamma
    dgamma = (dout * x).sum(axis=0)
    dbeta = dout.sum(axis=0)
    return dx, dgamma, dbeta
'''

CLASS_TEMPLATE = '''"""{name}: a layer of NN Studio as a ``Layer`` subclass.

Written by `nnstudio new-layer {name} --style class`. As written it is a correct
per-feature scale and shift, out = x*gamma + beta, and passes the gradient checker:

    nnstudio gradcheck builtin:iris --custom-layer {file} --layers dense:8,{name}

Change the places marked CHANGE, then run the check again.
"""
import numpy as np

from nnstudio.engine import Context, Layer


class {class_name}(Layer):
    """Per-feature scale and shift (CHANGE this description with the layer)."""

    type_name = "{name}"  # the name used in --layers specs and in the window's palette
    description = "out = x*gamma + beta per feature"

    def build(self, input_dim: int, rng: np.random.Generator, dtype) -> int:
        """Create the parameters for inputs of width ``input_dim``; return the output width.

        CHANGE: your parameters. Each needs a gradient array of the same shape.
        """
        self.input_dim = self.output_dim = int(input_dim)
        self.params["gamma"] = np.ones(input_dim, dtype=dtype)
        self.params["beta"] = np.zeros(input_dim, dtype=dtype)
        for name, value in self.params.items():
            self.grads[name] = np.zeros_like(value)
        return self.output_dim

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        """x: (N, D) -> (N, D). ``ctx.training`` says whether this is a training step.

        CHANGE: compute the output; keep in ``self.cache`` what backward needs.
        """
        self.cache["x"] = x
        return x * self.params["gamma"] + self.params["beta"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, D) -> dx: (N, D); ADD the parameter gradients into ``self.grads``.

        CHANGE: your gradients (summed over the batch axis).
        """
        x = self.cache["x"]
        self.grads["gamma"] += (dout * x).sum(axis=0)
        self.grads["beta"] += dout.sum(axis=0)
        return dout * self.params["gamma"]
'''


def add_arguments(parser) -> None:
    parser.add_argument("name", help="the layer's name in specs: a lower-case identifier, "
                                     "e.g. my_scale")
    parser.add_argument("--style", choices=STYLES, default="functions",
                        help="layer functions in the cs231n convention (default) or a Layer "
                             "subclass")
    parser.add_argument("--output", metavar="FILE", help="where to write (default NAME.py)")


def template(name: str, style: str, file: str) -> str:
    """The text of a new layer file."""
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"the layer name must be a lower-case identifier, e.g. my_scale; "
                         f"got {name!r}")
    if any(cls.type_name == name for cls in BUILTIN_LAYERS):
        raise ValueError(f"{name!r} is a built-in layer's name; choose another")
    if style not in STYLES:
        raise ValueError(f"--style must be one of {', '.join(STYLES)}, got {style!r}")
    class_name = "".join(part.capitalize() for part in name.split("_")) or "MyLayer"
    chosen = FUNCTIONS_TEMPLATE if style == "functions" else CLASS_TEMPLATE
    return chosen.format(name=name, file=file, class_name=class_name)


def run(args) -> int:
    path = Path(args.output or f"{args.name}.py")
    text = template(args.name, args.style, path.name)
    if path.exists():
        raise ValueError(f"{path} exists already; choose another --output (nothing was written)")
    if not path.parent.resolve().is_dir():
        raise FileNotFoundError(f"directory {path.parent} does not exist")
    # Atomic: a temporary file in the same folder, renamed into place.
    handle, temporary = tempfile.mkstemp(dir=path.parent.resolve(), prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"wrote {path} ({args.style} style); check it with:\n"
          f"  nnstudio gradcheck builtin:iris --custom-layer {path} --layers dense:8,{args.name}")
    return 0
