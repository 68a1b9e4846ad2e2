"""An affine layer in the layer-function convention: ``student_affine:UNITS``.

    nnstudio gradcheck builtin:iris --custom-layer resources/examples/layer_functions/student_affine.py \
        --layers student_affine:16,relu
"""
NAME = "student_affine"
PARAMS = {"w": (("D", "units"), "he"), "b": (("units",), "zeros")}
OUTPUT = "units"


def forward(x, w, b):
    """x: (N, D), w: (D, units), b: (units,) -> out: (N, units)."""
    return x @ w + b, (x, w)


def backward(dout, cache):
    """dout: (N, units) -> dx: (N, D), dw: (D, units), db: (units,)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
