"""The studio's optimizer state (momentum buffers, Adam moments and step count) under
torch's names, so that ``train.py`` continues exactly where the studio stopped."""
from __future__ import annotations

import numpy as np

from ..engine.layers import BUILTIN_LAYERS
from ..engine.network import Network

#: our slot -> torch.optim's state key
SLOTS = {"velocity": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq"}
#: our parameter name -> (torch name, transpose?) for the built-in layers that learn
PARAMETERS = {"W": ("weight", True), "b": ("bias", False), "gamma": ("weight", False),
              "beta": ("bias", False)}


def torch_optimizer_state(network: Network, state: dict[str, np.ndarray] | None,
                          notes: list[str]) -> dict[str, np.ndarray] | None:
    """``Optimizer.state_dict()`` output ("3.W/velocity", "steps") -> {"3.weight/momentum_buffer":
    array, "step": int64}, or None when there is nothing to carry over (no state yet, plain
    SGD, or a custom layer whose parameters torch may name differently; ``notes`` says so)."""
    if not state:
        return None
    converted: dict[str, np.ndarray] = {"step": np.array(int(state.get("steps", 0)), np.int64)}
    for key, value in state.items():
        if key == "steps":
            continue
        name, _, slot = key.rpartition("/")
        index, _, param = name.partition(".")
        layer = network.layers[int(index)]
        if type(layer) not in BUILTIN_LAYERS:
            notes.append(f"The optimizer state was not exported (layer {index} {layer.describe()} "
                         "is a custom layer): train.py starts it fresh.")
            return None
        torch_name, transpose = PARAMETERS[param]
        array = np.asarray(value)
        array = array.T if transpose else array
        converted[f"{index}.{torch_name}/{SLOTS[slot]}"] = np.ascontiguousarray(array)
    return converted if len(converted) > 1 else None
