"""How the loss is named where layers are listed (its row comes last)."""
from __future__ import annotations

_LOSS_LABELS = {"softmax_cross_entropy": "Softmax CE loss", "mse": "MSE loss"}


def loss_label(loss) -> str:
    return _LOSS_LABELS.get(loss.type_name, f"loss {loss.type_name}")
