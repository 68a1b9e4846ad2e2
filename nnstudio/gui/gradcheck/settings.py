"""The settings of a check: step h, tolerances, BatchNorm mode, dropout, regularization,
which elements, batch size and "screen first". The form only collects values; the
engine's ``CheckConfig`` validates them and its message is what the user sees."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLineEdit,
                               QSpinBox, QWidget)

from nnstudio.engine import Regularization
from nnstudio.engine.context import BN_STATS_LABELS, BN_STATS_MODES
from nnstudio.engine.gradcheck import (DEFAULT_H, DEFAULT_RTOL, FIT, PREDICT, SELECTED,
                                       CheckConfig)
from nnstudio.engine.gradcheck.phases import PHASE_TEXT

from .controller import CheckSettings

PHASE_CHOICES = (("both", "fit + predict (both phases)"),
                 (FIT, PHASE_TEXT[FIT]), (PREDICT, PHASE_TEXT[PREDICT]),
                 (SELECTED, "one phase, with the BatchNorm and dropout choices below"))
AUTO_FLOOR = "auto"

BN_CHOICES = tuple((mode, BN_STATS_LABELS[mode]) for mode in BN_STATS_MODES)
DROPOUT_CHOICES = (("fixed", "fixed mask, drawn once from the seed"),
                   ("off", "off (no dropout in the check)"),
                   ("redraw", "mask re-drawn per evaluation — wrong, for the demo"))
DEFAULT_BATCH = 32
#: a choice box may shrink to this many characters (its text is then cut short; the
#: drop-down list and the tooltip still show all of it) so the form fits a narrow view
COMBO_MIN_CHARACTERS = 14


class SettingsForm(QWidget):
    """Emits ``changed`` whenever a value is edited (the controller then starts over)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradcheckSettings")
        self._regularization = Regularization()
        form = QFormLayout(self)
        form.setContentsMargins(2, 2, 2, 2)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(3)
        self._add_numeric_rows(form)
        self._add_function_rows(form)
        self._add_scope_rows(form)
        self.sampling.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def _add_numeric_rows(self, form: QFormLayout) -> None:
        """Step and tolerances."""
        self.h = self._number_field(DEFAULT_H,
                                    "Central-difference step: (f(θ+h) − f(θ−h)) / 2h")
        self.rtol = self._number_field(DEFAULT_RTOL, "Relative tolerance of the verdict rule")
        self.atol = QLineEdit(AUTO_FLOOR)
        self.atol.setToolTip("Noise floor of the verdict rule. \"auto\": estimated from the "
                             "rounding error of the evaluations (recommended); a number fixes it")
        self.atol.setMaximumWidth(90)
        self.atol.editingFinished.connect(self.changed)
        tolerances = QHBoxLayout()
        for label, field in (("rtol", self.rtol), ("atol", self.atol)):
            field.setPlaceholderText(label)
            tolerances.addWidget(field)
        form.addRow("Step h", self.h)
        form.addRow("rtol / floor", tolerances)

    def _add_function_rows(self, form: QFormLayout) -> None:
        """What the checked function is: phases (or BatchNorm mode and dropout), seed, penalty."""
        self.phases = self._combo(PHASE_CHOICES, "BatchNorm and Dropout compute differently when "
                                  "fitting and predicting: check both (the default), or one")
        self.phases.currentIndexChanged.connect(self._update_enabled)
        form.addRow("Phases", self.phases)
        self.bn_stats = self._combo(BN_CHOICES, "Which statistics BatchNorm uses in the checked "
                                    "function (the same on the analytic and the numeric side)")
        form.addRow("BatchNorm", self.bn_stats)
        self.dropout = self._combo(DROPOUT_CHOICES, "A fixed mask makes f(θ+h), f(θ−h) and "
                                   "the backward pass see the same function; re-drawing it "
                                   "per evaluation shows why that matters")
        self.seed = self._spin(0, 2**31 - 1, 0, "Seed of the dropout masks, sampled elements "
                               "and screen directions")
        form.addRow("Dropout", self.dropout)
        form.addRow("Seed", self.seed)
        self.regularization = QCheckBox("include the L1/L2 penalty")
        self.regularization.toggled.connect(self.changed)
        form.addRow("Regularization", self.regularization)

    def _add_scope_rows(self, form: QFormLayout) -> None:
        """Which elements, on how many rows, screened first or not."""
        self.sampling = self._combo((("all", "all elements"), ("sampled", "k sampled per tensor")),
                                    "Check every element, or k seeded random ones per tensor")
        self.samples = self._spin(1, 100000, 10, "k: elements checked per tensor")
        elements = QHBoxLayout()
        elements.addWidget(self.sampling, 1)
        elements.addWidget(self.samples)
        form.addRow("Elements", elements)
        self.batch_size = self._spin(1, 100000, DEFAULT_BATCH,
                                     "Rows of the training split the check runs on (the first N)")
        form.addRow("Batch size", self.batch_size)
        self.screen_first = QCheckBox("screen first (one random direction per tensor)")
        self.screen_first.setToolTip("A directional check of every tensor in a few evaluations; "
                                     "the element check then drills into the tensors it flags")
        self.screen_first.toggled.connect(self.changed)
        form.addRow("", self.screen_first)

    # -- construction helpers ---------------------------------------------------------
    def _number_field(self, value: float, tip: str) -> QLineEdit:
        field = QLineEdit(format_setting(value))
        field.setToolTip(tip)
        field.setMaximumWidth(90)
        field.editingFinished.connect(self.changed)
        return field

    def _combo(self, choices, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(COMBO_MIN_CHARACTERS)
        for data, text in choices:
            combo.addItem(text, data)
        combo.setToolTip(tip)
        combo.currentIndexChanged.connect(self.changed)
        return combo

    def _spin(self, low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.valueChanged.connect(self.changed)
        return spin

    def _update_enabled(self) -> None:
        self.samples.setEnabled(self.sampling.currentData() == "sampled")
        selected = self.phases.currentData() == SELECTED
        self.bn_stats.setEnabled(selected)
        self.dropout.setEnabled(selected)

    # -- values -----------------------------------------------------------------------
    def set_regularization(self, regularization: Regularization) -> None:
        """The training settings' penalty, checked when "include" is ticked."""
        self._regularization = regularization
        self.regularization.setText(
            f"include the penalty (l1={regularization.l1:g}, l2={regularization.l2:g})")

    def set_bn_stats(self, mode: str) -> None:
        select(self.bn_stats, mode)

    def set_dropout(self, mode: str) -> None:
        select(self.dropout, mode)

    def set_phases(self, phases: str) -> None:
        select(self.phases, phases)

    def check_settings(self) -> CheckSettings:
        """The current values; raises ValueError naming the field that is wrong."""
        values = {name: _parse_number(name, getattr(self, name).text()) for name in ("h", "rtol")}
        floor = self.atol.text().strip()
        values["atol"] = None if floor.lower() in ("", AUTO_FLOOR) else _parse_number("floor", floor)
        sampled = self.sampling.currentData() == "sampled"
        config = CheckConfig(
            **values, bn_stats=self.bn_stats.currentData(), dropout=self.dropout.currentData(),
            seed=self.seed.value(), regularization=self._regularization,
            include_regularization=self.regularization.isChecked(),
            samples_per_tensor=self.samples.value() if sampled else None,
            screen_first=self.screen_first.isChecked())
        return CheckSettings(config, self.batch_size.value(), self.phases.currentData())


def format_setting(value: float) -> str:
    """1e-05 -> "1e-5": the way people write a step or a tolerance."""
    return np.format_float_scientific(value, trim="-", exp_digits=1)


def select(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    if index < 0:
        raise ValueError(f"unknown choice {data!r}")
    combo.setCurrentIndex(index)


def _parse_number(name: str, text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a number such as 1e-5, got {text!r}") from None
