"""The ``to_torch()`` hook through which a custom layer says what it is in PyTorch.

Export writes source code and a weights file, never live torch objects, so the hook runs
without torch: it returns *text* for ``model.py`` and numpy arrays for the weights.

    class PReLU(Layer):
        ...
        def to_torch(self):
            return {"module": f"nn.PReLU(num_parameters={self.input_dim})",
                    "state": {"weight": self.params["alpha"]}}

Keys (a :class:`TorchModule` or a plain dict with the same names):

``module``        a Python expression that builds the ``torch.nn.Module`` (it may use
                  ``torch``, ``nn``, ``F`` = ``torch.nn.functional``, ``np`` and names
                  from ``definitions``)
``state``         the module's ``state_dict()`` as numpy arrays: name -> array, exactly the
                  names and shapes the module has (e.g. a ``Linear``'s weight is (out, in))
``definitions``   optional module-level source code (a class of your own), written once
                  into ``model.py`` above the network
``regularized``   optional names in ``state`` that L1/L2 apply to, as your layer's
                  ``regularized`` params are in NN Studio
``comment``       optional one line written above the module in ``model.py``
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.layers import Layer
from ..engine.user_code import call_user

HOOK = "to_torch"
_KEYS = ("module", "state", "definitions", "regularized", "comment")


class ExportError(ValueError):
    """The network cannot be exported as it is; the message says which layer and why."""


@dataclass
class TorchModule:
    """One layer as PyTorch: construction code, its state and what is regularized."""

    module: str
    state: dict[str, np.ndarray] = field(default_factory=dict)
    definitions: str = ""
    regularized: tuple[str, ...] = ()
    comment: str = ""


def has_hook(layer: Layer) -> bool:
    return callable(getattr(type(layer), HOOK, None))


def call_hook(layer: Layer, index: int, dtype: np.dtype) -> TorchModule:
    """Run the layer's ``to_torch()`` (user code: errors name its file and line) and check
    what it returned, so a wrong answer is refused here rather than in the user's torch."""
    where = f"layer {index} {layer.describe()}"
    result = call_user(getattr(layer, HOOK), context=f"in {HOOK}() of {where}")
    if isinstance(result, dict):
        unknown = sorted(set(result) - set(_KEYS))
        if unknown or "module" not in result:
            raise ExportError(f"{where}: {HOOK}() must return a dict with 'module' (and optionally "
                              f"{', '.join(_KEYS[1:])}); got keys {sorted(result)}")
        result = TorchModule(**result)
    if not isinstance(result, TorchModule):
        raise ExportError(f"{where}: {HOOK}() must return a dict or TorchModule, "
                          f"got {type(result).__name__}")
    return _checked(result, where, dtype)


def _checked(result: TorchModule, where: str, dtype: np.dtype) -> TorchModule:
    for name, mode in (("module", "eval"), ("definitions", "exec")):
        text = getattr(result, name)
        if not isinstance(text, str) or (name == "module" and not text.strip()):
            raise ExportError(f"{where}: {HOOK}()['{name}'] must be Python source text")
        try:
            compile(text, f"<{HOOK}() {name} of {where}>", mode)
        except SyntaxError as exc:
            raise ExportError(f"{where}: {HOOK}()['{name}'] is not valid Python: {exc.msg} "
                              f"({text.splitlines()[(exc.lineno or 1) - 1] if text else ''!r})") from None
    if not isinstance(result.state, dict):
        raise ExportError(f"{where}: {HOOK}()['state'] must be a dict of name -> numpy array")
    state = {}
    for name, value in result.state.items():
        if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
            raise ExportError(f"{where}: state name {name!r} is not a torch state_dict name")
        array = np.array(value)
        if array.dtype.kind == "f":
            array = array.astype(dtype)  # the module is cast to the network's dtype
        elif array.dtype.kind not in "iub":
            raise ExportError(f"{where}: state {name!r} has dtype {array.dtype}, not numbers")
        state[name] = array
    regularized = tuple(result.regularized)
    stray = [name for name in regularized if name not in state]
    if stray:
        raise ExportError(f"{where}: regularized names {stray} are not in its state")
    if not isinstance(result.comment, str) or "\n" in result.comment:
        raise ExportError(f"{where}: {HOOK}()['comment'] must be one line of text")
    return TorchModule(result.module.strip(), state, result.definitions.strip(), regularized,
                       result.comment.strip())
