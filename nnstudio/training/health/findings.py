"""Rules that turn layer-health numbers into findings a student can act on.

Each rule reads the per-epoch ``layers`` entries of a training history (see
:mod:`.recorder`) and names the layer and the epoch. Thresholds, and why:

- **Dead units** (ReLU, LeakyReLU): ``dead_fraction`` ≥ ``DEAD_FRACTION`` (0.5) in the last
  epoch that measured it. A ReLU whose input is ≤ 0 on every row passes no gradient and never
  recovers; a few such units are normal, half the layer is not. "Since" is the first epoch of
  the unbroken run of epochs at or above the threshold.
- **Saturation** (Tanh, Sigmoid): ``saturated_fraction`` ≥ ``SATURATED_FRACTION`` (0.5): half
  the units sit within 1 % of an end of their range on most rows, where the derivative is
  below 0.02 (tanh) or 0.01 (sigmoid) and the layer barely learns.
- **Vanishing / exploding gradients**: ``output_grad_norm`` (∂loss/∂output) of the last layer
  divided by that of layer 0, median over the measured epochs, ≥ ``GRADIENT_SPREAD`` (10²) or
  ≤ 1/10²; or exactly 0 at layer 0 (nothing gets through). Parameter gradient norms are not
  used: they grow with the scale of the layer's input. Correct networks on the built-in
  datasets stay within a factor of about ten.
- **Update ratio** (cs231n: ‖Δθ‖/‖θ‖ ≈ 1e-3 per step is healthy): a layer whose median over
  the first ``EARLY_EPOCHS`` (10) measured epochs is above ``UPDATE_TOO_HIGH`` (1e-1, a tenth
  of the weights changes per step) means the learning rate is too high; every layer's median
  below ``UPDATE_TOO_LOW`` (1e-6), too low. The first epochs, because a learning rate that
  is too high shows there: later its steps shrink as the units saturate (SGD at lr 10 on Iris:
  0.4 a step in epochs 2–5, 1e-5 by epoch 97). Adam at lr 0.01 on a small network gives about
  1e-2: not a finding.
- **Initial loss** (classification): at step 0 the loss should be about ln C for C classes
  (the network knows nothing yet). Correct He-initialised networks on the built-in datasets
  start between 0.6 and 2.5 × ln C (10 seeds each: a random initialisation is not uniform);
  above ``INITIAL_LOSS_FACTOR`` (3) × ln C the initial outputs are overconfident: too large
  initial weights or inputs not standardized.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

DEAD_FRACTION = 0.5
SATURATED_FRACTION = 0.5
GRADIENT_SPREAD = 1e2
UPDATE_TOO_HIGH = 1e-1
UPDATE_TOO_LOW = 1e-6
EARLY_EPOCHS = 10
INITIAL_LOSS_FACTOR = 3.0


@dataclass(frozen=True)
class Finding:
    """One diagnosis: ``kind`` is "dead", "saturated", "vanishing", "exploding",
    "update_high", "update_low" or "initial_loss"; ``layer_index`` None for the whole net."""

    kind: str
    layer_index: int | None
    layer_label: str | None
    epoch: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_initial_loss(n_classes: int) -> float:
    """ln C: the cross-entropy of a uniform prediction over C classes."""
    return math.log(n_classes)


def initial_loss_finding(loss: float, n_classes: int, epoch: int = 1) -> Finding | None:
    """A finding when the loss at step 0 is far above ln C (see the module docstring)."""
    expected = expected_initial_loss(n_classes)
    if not math.isfinite(loss) or loss <= INITIAL_LOSS_FACTOR * expected:
        return None
    return Finding("initial_loss", None, None, epoch,
                   f"loss at step 0 is {loss:.3g} for {n_classes} classes; ln {n_classes} = "
                   f"{expected:.2f} expected: check the initialisation (smaller initial weights) "
                   "and that the inputs are standardized")


def find_problems(history: list[dict[str, Any]], task: str = "classification",
                  n_classes: int | None = None) -> list[Finding]:
    """All findings of a training history, in the order of the rules above."""
    epochs = [entry for entry in history if isinstance(entry.get("layers"), list)]
    findings: list[Finding] = []
    if epochs:
        findings += _unit_findings(epochs, "dead_fraction", DEAD_FRACTION, "dead")
        findings += _unit_findings(epochs, "saturated_fraction", SATURATED_FRACTION, "saturated")
        findings += _gradient_spread(epochs)
        findings += _update_ratio(epochs)
    if task == "classification" and n_classes and n_classes >= 2:
        for entry in history:
            if entry.get("initial_loss") is not None:
                finding = initial_loss_finding(entry["initial_loss"], n_classes, entry["epoch"])
                findings += [finding] if finding is not None else []
                break
    return findings


def _series(epochs: list[dict], key: str) -> dict[int, list[tuple[int, float, dict]]]:
    """layer index -> [(epoch, value, layer entry)] where ``key`` was measured."""
    series: dict[int, list[tuple[int, float, dict]]] = {}
    for entry in epochs:
        for layer in entry["layers"]:
            value = layer.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                series.setdefault(layer["layer_index"], []).append((entry["epoch"], float(value), layer))
    return series


def _unit_findings(epochs: list[dict], key: str, threshold: float, kind: str) -> list[Finding]:
    findings = []
    for index, points in _series(epochs, key).items():
        last_epoch, last_value, layer = points[-1]
        if last_value < threshold:
            continue
        since = last_epoch
        for epoch, value, _ in reversed(points):
            if value < threshold:
                break
            since = epoch
        name = _layer_name(layer)
        if kind == "dead":
            hint = ("try a lower learning rate, a smaller negative bias, or LeakyReLU"
                    if layer["type"] == "relu" else "try a lower learning rate or a smaller negative bias")
            text = f"{name}: {last_value:.0%} of units dead since epoch {since} ({hint})"
        else:
            text = (f"{name}: {last_value:.0%} of units saturated since epoch {since}, their "
                    "gradient is almost 0 (standardize the inputs, use smaller initial weights, "
                    "or put BatchNorm before it)")
        findings.append(Finding(kind, index, layer["label"], since, text.replace("%", " %")))
    return findings


def _gradient_spread(epochs: list[dict]) -> list[Finding]:
    """∂loss/∂output at the last layer over the same at layer 0, median over measured epochs."""
    ratios, zero_since = [], None
    for entry in epochs:
        flows = [layer.get("output_grad_norm") for layer in entry["layers"]]
        if len(flows) < 2 or flows[0] is None or flows[-1] is None:
            continue
        if flows[0] == 0:
            zero_since = entry["epoch"] if zero_since is None else zero_since
            ratios.append((entry["epoch"], math.inf))
        else:
            zero_since = None
            ratios.append((entry["epoch"], flows[-1] / flows[0]))
    if not ratios:
        return []
    first = epochs[-1]["layers"][0]
    types = {layer["type"] for layer in epochs[-1]["layers"]}
    if zero_since is not None:
        return [Finding("vanishing", 0, first["label"], zero_since,
                        f"no gradient reaches {_layer_name(first)} since epoch {zero_since} "
                        f"(vanishing gradients: {_vanishing_hint(types)})")]
    spread = sorted(ratio for _, ratio in ratios)[len(ratios) // 2]
    since = next((epoch for epoch, ratio in ratios if ratio >= min(spread, GRADIENT_SPREAD)), ratios[0][0])
    if spread >= GRADIENT_SPREAD:
        return [Finding("vanishing", 0, first["label"], since,
                        f"gradients shrink {_power(spread)}× from the output to layer 0 "
                        f"(median over epochs {ratios[0][0]}–{ratios[-1][0]}; vanishing: "
                        f"{_vanishing_hint(types)})")]
    if spread <= 1 / GRADIENT_SPREAD:
        return [Finding("exploding", 0, first["label"], ratios[0][0],
                        f"gradients grow {_power(1 / spread)}× from the output to layer 0 "
                        f"(median over epochs {ratios[0][0]}–{ratios[-1][0]}; exploding: lower the "
                        "learning rate, use smaller initial weights, or add BatchNorm)")]
    return []


def _vanishing_hint(types: set[str]) -> str:
    if types & {"sigmoid", "tanh"}:
        return "a sigmoid/tanh stack saturates, try ReLU or BatchNorm"
    return "try BatchNorm, He initialisation or fewer layers"


def _update_ratio(epochs: list[dict]) -> list[Finding]:
    """The layer with the highest median update ratio over the first measured epochs."""
    series = {index: points[:EARLY_EPOCHS]
              for index, points in _series(epochs, "update_ratio").items()}
    if not series:
        return []
    medians = {index: sorted(value for _, value, _ in points)[len(points) // 2]
               for index, points in series.items()}
    index = max(medians, key=medians.get)
    points = series[index]
    if medians[index] > UPDATE_TOO_HIGH:
        epoch = next(epoch for epoch, value, _ in points if value > UPDATE_TOO_HIGH)
        return [Finding("update_high", index, points[0][2]["label"], epoch,
                        f"update ratio {_sci(medians[index])} at layer {index} (median over epochs "
                        f"{points[0][0]}–{points[-1][0]}; healthy: about 1e-3): the learning rate "
                        "is too high")]
    if medians[index] < UPDATE_TOO_LOW:
        return [Finding("update_low", None, None, points[0][0],
                        f"update ratios are at most {_sci(medians[index])} (median over epochs; "
                        "healthy: about 1e-3): the learning rate is too low")]
    return []


def _layer_name(layer: dict) -> str:
    index, _, describe = layer["label"].partition(":")
    return f"layer {index} {describe}"


def _power(value: float) -> str:
    """10⁴ for 12,345: the order of magnitude, in superscript digits."""
    exponent = int(math.floor(math.log10(value)))
    return "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _sci(value: float) -> str:
    """3e-1 for 0.3 (not Python's 3e-01)."""
    mantissa, _, exponent = f"{value:.0e}".partition("e")
    return f"{mantissa}e{int(exponent)}"
