"""The property editor of the selected layer: its constructor settings, validated as typed.

Each keystroke is checked by asking the engine to make the layer with the new value
(``layer_from_config``); a valid value becomes an undoable edit at once (consecutive edits of
one field merge into one undo step), an invalid one turns the field red and says why.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from nnstudio.engine import LAYER_TYPES, layer_from_config

from ..architecture import ArchitectureModel
from .editor import ArchitectureEditor

FIELD_HINTS = {
    ("dense", "units"): "Number of outputs (a positive integer)",
    ("dense", "init"): "He (for ReLU) or Xavier (for tanh/sigmoid) initialisation",
    ("leakyrelu", "slope"): "Slope for x < 0, in [0, 1)",
    ("dropout", "p"): "Probability of zeroing each input during training, in [0, 1)",
    ("batchnorm", "momentum"): "Weight of the new batch in the running statistics "
                               "(PyTorch convention, default 0.1)",
    ("batchnorm", "eps"): "Added to the variance before the square root",
    ("batchnorm", "stats"): "Statistics this layer uses: auto follows the global switch",
}


def parse_value(text: str, like: Any) -> Any:
    """Convert typed text to the type of the current value ``like``; ValueError if it won't."""
    text = text.strip()
    if isinstance(like, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    return text


class PropertyEditor(QWidget):
    """Form for the settings of hidden layer ``index``; empty for the output layer."""

    def __init__(self, model: ArchitectureModel, editor: ArchitectureEditor, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("propertyEditor")
        self.model, self.editor = model, editor
        self.index = -1
        self._form_key: tuple | None = None
        self._fields: dict[str, QWidget] = {}
        self._title = QLabel("Select a layer to edit its settings")
        self._title.setObjectName("propertyTitle")
        self._title.setWordWrap(True)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setContentsMargins(0, 0, 0, 0)
        self.error_label = QLabel("")
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._form_host)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        model.changed.connect(self.refresh)

    def field(self, key: str) -> QWidget:
        """The input widget of setting ``key`` (for tests and keyboard focus)."""
        return self._fields[key]

    def show_layer(self, index: int, output_label: str = "") -> None:
        """Edit hidden layer ``index``; -1 clears; past the end shows ``output_label``."""
        self.index = index if 0 <= index < len(self.model) else -1
        if self.index < 0:
            self._clear_form()
            self._title.setText(output_label or "Select a layer to edit its settings")
            return
        self.refresh()

    def refresh(self) -> None:
        """Re-read the model: rebuild the form if the layer changed, else update values."""
        if self.index >= len(self.model):
            self.index = -1
        if self.index < 0:
            self._clear_form()
            return
        entry = self.model.entry(self.index)
        try:
            config = entry.full_config()
        except ValueError:
            config = dict(entry.config)
        form_key = (self.index, entry.type_name, tuple(config))
        if form_key != self._form_key:
            self._build_form(entry.type_name, config)
            self._form_key = form_key
        else:
            self._update_values(config)
        cls = LAYER_TYPES.get(entry.type_name)
        description = cls.description if cls is not None else ""
        self._title.setText(f"<b>{entry.label()}</b> — layer {self.index}<br>{description}")

    def _clear_form(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._fields.clear()
        self._form_key = None
        self.error_label.setText("")

    def _build_form(self, type_name: str, config: dict[str, Any]) -> None:
        self._clear_form()
        cls = LAYER_TYPES.get(type_name)
        choices_of = getattr(cls, "CHOICES", {}) if cls is not None else {}
        for key, value in config.items():
            choices = choices_of.get(key)
            widget = self._make_field(key, value, choices)
            widget.setToolTip(FIELD_HINTS.get((type_name, key), ""))
            self._fields[key] = widget
            self._form.addRow(key, widget)

    def _make_field(self, key: str, value: Any, choices) -> QWidget:
        if choices:
            combo = QComboBox()
            combo.addItems([str(c) for c in choices])
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda text, k=key: self._commit(k, text))
            return combo
        if isinstance(value, bool):
            box = QCheckBox()
            box.setChecked(value)
            box.toggled.connect(lambda checked, k=key: self._commit(k, checked))
            return box
        line = QLineEdit(_format(value))
        line.setProperty("like", value)
        line.textEdited.connect(lambda text, k=key: self._on_text_edited(k, text))
        line.editingFinished.connect(lambda k=key: self._on_editing_finished(k))
        return line

    def _update_values(self, config: dict[str, Any]) -> None:
        for key, value in config.items():
            widget = self._fields.get(key)
            widget.blockSignals(True)
            try:
                if isinstance(widget, QComboBox):
                    widget.setCurrentText(str(value))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QLineEdit):
                    widget.setProperty("like", value)
                    if not _same(widget.text(), value):
                        widget.setText(_format(value))
                        _mark(widget, valid=True)
            finally:
                widget.blockSignals(False)

    def _on_text_edited(self, key: str, text: str) -> None:
        widget = self._fields[key]
        try:
            value = parse_value(text, widget.property("like"))
            entry = self.model.entry(self.index)
            layer_from_config(entry.type_name, {**entry.config, key: value})
        except ValueError as exc:
            _mark(widget, valid=False)
            self.error_label.setText(f"{key}: {exc}")
            return
        _mark(widget, valid=True)
        self.error_label.setText("")
        self._commit(key, value)

    def _on_editing_finished(self, key: str) -> None:
        """Leaving a field with an invalid value puts the current valid one back."""
        if self.index < 0 or key not in self._fields:
            return
        widget = self._fields[key]
        value = self.model.entry(self.index).config.get(key, widget.property("like"))
        if not _same(widget.text(), value):
            widget.setText(_format(value))
        _mark(widget, valid=True)
        self.error_label.setText("")

    def _commit(self, key: str, value: Any) -> None:
        if self.index < 0:
            return
        if not self.editor.set_setting(self.index, key, value):
            self.refresh_values_from_model()

    def refresh_values_from_model(self) -> None:
        if self.index >= 0:
            self._update_values(self.model.entry(self.index).full_config())


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _same(text: str, value: Any) -> bool:
    try:
        return parse_value(text, value) == value
    except ValueError:
        return False


def _mark(widget: QWidget, valid: bool) -> None:
    widget.setProperty("invalid", not valid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
