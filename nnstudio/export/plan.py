"""What each layer of a network is in PyTorch: constructor code, state and comments.

Layer ``i`` of the network becomes entry ``i`` of an ``nn.Sequential``, so a tensor's name
in the exported state dict is ``"{i}.{torch name}"`` — the same index as in NN Studio.
Faults and custom layers without a ``to_torch()`` hook are refused here, before anything
is written: an export is never a silently different model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.context import AUTO, BATCH, BN_STATS_CHOICES, RUNNING
from ..engine.layers import (BUILTIN_LAYERS, BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU,
                             Sigmoid, Tanh)
from ..engine.network import Network
from .hook import HOOK, ExportError, call_hook, has_hook

LOSSES = {"softmax_cross_entropy": "nn.CrossEntropyLoss()", "mse": "nn.MSELoss()"}
STUDIO_BATCHNORM = "StudioBatchNorm1d"


@dataclass
class ModuleEntry:
    """One ``nn.Sequential`` entry: ``module`` is its constructor expression."""

    index: int
    label: str
    module: str
    comment: str
    state: dict[str, np.ndarray] = field(default_factory=dict)
    regularized: tuple[str, ...] = ()
    definitions: str = ""


@dataclass
class ExportPlan:
    """The whole network as PyTorch modules, plus what the generated code needs to know."""

    entries: list[ModuleEntry]
    dtype: str
    input_dim: int
    output_dim: int
    loss: str
    loss_type: str

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every tensor of the exported module by its torch name, e.g. ``"0.weight"``."""
        return {f"{entry.index}.{name}": value
                for entry in self.entries for name, value in entry.state.items()}

    def regularized_names(self) -> list[str]:
        return [f"{entry.index}.{name}" for entry in self.entries for name in entry.regularized]

    def definitions(self) -> list[str]:
        """Module-level code the entries need, each text once, in order of first use."""
        seen: list[str] = []
        for entry in self.entries:
            if entry.definitions and entry.definitions not in seen:
                seen.append(entry.definitions)
        return seen

    @property
    def uses_studio_batchnorm(self) -> bool:
        return any(entry.module.startswith(STUDIO_BATCHNORM + "(") for entry in self.entries)


def plan_export(network: Network, train_bn_stats: str = AUTO,
                eval_bn_stats: str = RUNNING) -> ExportPlan:
    """The export plan of a built network.

    Parameters
    ----------
    network : Network
    train_bn_stats : {"auto", "batch", "running"}
        The training setting ``TrainConfig.bn_stats``: statistics in ``model.train()``.
    eval_bn_stats : {"auto", "batch", "running"}
        Statistics of the studio's predictions: those of ``model.eval()``.

    Raises
    ------
    ExportError
        Unbuilt network, an injected fault, a custom layer without ``to_torch()``.
    """
    if network.input_dim is None:
        raise ExportError("the network is not built yet, so it has no weights to export")
    refuse_faults(network)
    if network.loss.type_name not in LOSSES:
        raise ExportError(f"the loss {network.loss.type_name!r} has no PyTorch export")
    modes = (_phase(train_bn_stats, BATCH), _phase(eval_bn_stats, RUNNING))
    entries = [_entry(index, layer, network.dtype, modes) for index, layer in enumerate(network.layers)]
    return ExportPlan(entries, network.dtype.name, network.input_dim, network.output_dim,
                      LOSSES[network.loss.type_name], network.loss.type_name)


def refuse_faults(network: Network) -> None:
    """ExportError naming every injected fault: a broken backward is a teaching device, and
    its forward pass would export fine, hiding that the studio's gradients were wrong."""
    faults = [f"layer {index} {layer.describe()} has the fault {layer.fault!r}"
              for index, layer in enumerate(network.layers) if layer.fault]
    if network.loss.fault:
        faults.append(f"the loss has the fault {network.loss.fault!r}")
    if faults:
        raise ExportError("a network with an injected fault is not exported: " + "; ".join(faults)
                          + ". Restore the correct backward first (Correct backward in the "
                          "Inject fault menu).")


def _phase(choice: str, auto: str) -> str:
    if choice not in BN_STATS_CHOICES:
        raise ExportError(f"BatchNorm statistics must be {', '.join(BN_STATS_CHOICES[:-1])} or "
                          f"{BN_STATS_CHOICES[-1]}, got {choice!r}")
    return auto if choice == AUTO else choice


def _entry(index: int, layer: Layer, dtype: np.dtype, modes: tuple[str, str]) -> ModuleEntry:
    label = layer.describe()
    if type(layer) not in BUILTIN_LAYERS:
        if not has_hook(layer):
            raise ExportError(
                f"layer {index} {label} ({type(layer).__name__}, type {layer.type_name!r}) is a "
                f"custom layer without a {HOOK}() method, so NN Studio does not know what it is in "
                f"PyTorch and will not guess. Add {HOOK}() to the class (see the README section "
                f"'Export to PyTorch' and resources/examples/prelu_layer.py).")
        hook = call_hook(layer, index, dtype)
        comment = hook.comment or f"{label}: custom layer, exported by its {HOOK}()"
        return ModuleEntry(index, label, hook.module, comment, hook.state, hook.regularized,
                           hook.definitions)
    return _builtin_entry(index, layer, modes)


def _builtin_entry(index: int, layer: Layer, modes: tuple[str, str]) -> ModuleEntry:
    label = layer.describe()
    if isinstance(layer, Dense):
        return ModuleEntry(
            index, label, f"nn.Linear({layer.input_dim}, {layer.units})",
            f"{label}: torch's weight (out, in) is NN Studio's W (in, out) transposed",
            {"weight": np.ascontiguousarray(layer.params["W"].T), "bias": layer.params["b"].copy()},
            ("weight",))
    if isinstance(layer, BatchNorm):
        return _batchnorm_entry(index, layer, modes)
    simple = {ReLU: ("nn.ReLU()", "max(x, 0)"), Tanh: ("nn.Tanh()", "tanh"),
              Sigmoid: ("nn.Sigmoid()", "logistic sigmoid")}
    if type(layer) in simple:
        module, what = simple[type(layer)]
        return ModuleEntry(index, label, module, f"{label}: {what}")
    if isinstance(layer, LeakyReLU):
        return ModuleEntry(index, label, f"nn.LeakyReLU(negative_slope={layer.slope!r})",
                           f"{label}: x if x > 0 else {layer.slope!r}·x")
    if isinstance(layer, Dropout):
        return ModuleEntry(index, label, f"nn.Dropout(p={layer.p!r})",
                           f"{label}: inverted dropout, active in train() mode only")
    raise ExportError(f"layer {index} {label}: no PyTorch export for {type(layer).__name__}")


def _batchnorm_entry(index: int, layer: BatchNorm, modes: tuple[str, str]) -> ModuleEntry:
    label = layer.describe()
    train, evaluate = (layer.stats, layer.stats) if layer.stats != AUTO else modes
    buffers = layer.buffers
    state = {"weight": layer.params["gamma"].copy(), "bias": layer.params["beta"].copy(),
             "running_mean": buffers["running_mean"].copy(),
             "running_var": buffers["running_var"].copy(),
             "num_batches_tracked": np.asarray(buffers["num_batches_tracked"], dtype=np.int64).copy()}
    settings = f"eps={layer.eps!r}, momentum={layer.momentum!r}"
    comment = (f"{label}: momentum {layer.momentum!r} weights the new batch and the running "
               "variance is unbiased, as in NN Studio")
    if (train, evaluate) == (BATCH, RUNNING):
        module = f"nn.BatchNorm1d({layer.input_dim}, {settings})"
    else:
        module = (f"{STUDIO_BATCHNORM}({layer.input_dim}, {settings}, "
                  f"train_stats={train!r}, eval_stats={evaluate!r})")
        comment += f"; {train} statistics in train(), {evaluate} in eval()"
    return ModuleEntry(index, label, module, comment, state)
