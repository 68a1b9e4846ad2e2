"""An example custom layer: PReLU, a leaky ReLU whose negative slope is learned per feature.

Load it explicitly, then use it like a built-in layer:

    nnstudio gradcheck data.csv --target label --custom-layer resources/examples/prelu_layer.py \
        --layers dense:16,prelu,dense:8,prelu

or, in Python, ``nnstudio.engine.custom_layers.load_custom_layers(path)``. Its backward is
correct, so the gradient checker passes (elements near x = 0 may show as kinks: the layer
reports its on/off pattern through ``kink_pattern``). Switch on its fault
``alpha_grad_unsummed`` to see the checker flag the ``alpha`` tensor.

``to_torch`` is the export hook (``nnstudio export``, *File ▸ Export to PyTorch…*): it says
what this layer is in PyTorch — code for ``model.py`` and the tensors of its state dict.
Without it a network using the layer is not exported.
"""
import numpy as np

from nnstudio.engine import Context, Layer


class PReLU(Layer):
    """``x`` where x > 0, ``alpha·x`` elsewhere; alpha: (D,), learned, starts at 0.25."""

    type_name = "prelu"
    description = "Parametric ReLU: x if x > 0 else alpha·x, alpha learned per feature"
    FAULTS = {
        "alpha_grad_unsummed": "dalpha takes only the first sample instead of summing over the batch",
    }

    def __init__(self, initial_alpha: float = 0.25) -> None:
        super().__init__()
        self.initial_alpha = float(initial_alpha)

    def config(self) -> dict:
        return {"initial_alpha": self.initial_alpha}

    def describe(self) -> str:
        return "PReLU"

    def build(self, input_dim: int, rng: np.random.Generator, dtype) -> int:
        self.input_dim = self.output_dim = int(input_dim)
        self._init_param("alpha", np.full(input_dim, self.initial_alpha, dtype=dtype))
        return self.output_dim

    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        """x: (..., N, D) -> (..., N, D)."""
        self._check_input(x)
        active = x > 0
        self.cache.update(x=x, active=active)
        return np.where(active, x, self.params["alpha"] * x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, D) -> dx: (N, D); adds d(loss)/d(alpha) into grads["alpha"]."""
        x, active = self.cache["x"], self.cache["active"]
        negative_part = np.where(active, 0.0, dout * x)
        if self.fault == "alpha_grad_unsummed":
            self.grads["alpha"] += negative_part[0]
        else:
            self.grads["alpha"] += negative_part.sum(axis=0)
        return np.where(active, dout, self.params["alpha"] * dout)

    def kink_pattern(self) -> np.ndarray | None:
        return self.cache.get("active")

    def to_torch(self) -> dict:
        """torch.nn.PReLU computes the same function: x if x >= 0 else weight·x, weight: (D,)."""
        return {"module": f"nn.PReLU(num_parameters={self.input_dim})",
                "state": {"weight": self.params["alpha"]},
                "comment": "PReLU: x if x > 0 else alpha·x, alpha learned per feature"}
