"""Recomputing BatchNorm's population statistics from the BatchNorm panel, and saying what it
changed ("running mean moved by up to 0.094; validation loss 0.1913 → 0.1895").

The statistics are the engine's (``Network.recompute_population_statistics``, through the
session); the validation numbers are the trainer's.
"""
from __future__ import annotations

from nnstudio.engine.context import BN_STATS_NAMES

from . import messages
from .number_text import format_number


def recompute_with_report(panel) -> str | None:
    """Ask, recompute over the training set, redraw ``panel`` and show the report in it;
    returns the report, or None when nothing was recomputed."""
    session = panel.session
    if not panel.recompute_button.isEnabled():
        return None
    n_train = getattr(session.dataset, "n_train", len(session.dataset.x_train))
    if not messages.confirm(panel, "Recompute population statistics",
                            "Replace every BatchNorm layer's running mean and variance with "
                            f"the statistics of its input over all {n_train} training rows? "
                            "Training has moved them with momentum so far; this cannot be "
                            "undone."):
        return None
    mode = session.bn_mode
    before = _validation_loss(panel, mode)
    try:
        moved = session.recompute_population_statistics()
    except ValueError as exc:
        panel.recompute_report.setText(str(exc))
        return None
    panel.refresh_numbers()
    after = _validation_loss(panel, mode)
    mean_move = max((m for m, _ in moved.values()), default=0.0)
    var_move = max((v for _, v in moved.values()), default=0.0)
    text = (f"Recomputed over {n_train} training rows: running mean moved by up to "
            f"{mean_move:.3g}, running variance by up to {var_move:.3g}")
    if before is not None and after is not None:
        text += (f"; validation loss ({BN_STATS_NAMES[mode]}) "
                 f"{format_number(before)} → {format_number(after)}")
    panel.recompute_report.setText(text + ".")
    panel.redraw_statistics()
    return text + "."


def _validation_loss(panel, mode: str) -> float | None:
    try:
        return panel.evaluate_modes().get(mode, {}).get("loss")
    except ValueError:
        return None
