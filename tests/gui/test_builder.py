"""The layer builder: palette, stack, property editor, undo/redo, refusal while training."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDropEvent

from nnstudio.engine import Layer
from nnstudio.gui.builder.editor import ArchitectureEditor
from nnstudio.gui.builder.palette import LAYER_TYPE_MIME
from nnstudio.gui.builder.panel import BuilderPanel
from nnstudio.gui.session import Session


@pytest.fixture
def builder(qtbot, xor_dataset):
    session = Session()
    session.set_dataset(xor_dataset)
    panel = BuilderPanel(session, ArchitectureEditor(session))
    qtbot.addWidget(panel)
    panel.show()
    return panel


def labels(panel) -> list[str]:
    return [row.label for row in panel.stack.rows()]


def double_click_palette(qtbot, panel, type_name: str) -> None:
    item = panel.palette.item_for_type(type_name)
    rect = panel.palette.visualItemRect(item)
    qtbot.mouseClick(panel.palette.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.palette.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_palette_offers_every_builtin_layer_with_a_tooltip(builder):
    assert builder.palette.type_names() == ["dense", "relu", "leakyrelu", "tanh", "sigmoid",
                                            "batchnorm", "dropout"]
    for name in builder.palette.type_names():
        assert builder.palette.item_for_type(name).toolTip()


def test_double_click_adds_a_layer_and_the_totals_follow_the_engine(qtbot, builder):
    before = builder.session.network.num_parameters()
    double_click_palette(qtbot, builder, "dense")
    assert labels(builder)[-2:] == ["Dense(16)", "Dense(2)"]
    network = builder.session.network
    assert network.num_parameters() > before
    assert builder.total_label.text() == f"Total parameters: {network.num_parameters():,}"
    assert builder.stack.current_layer() == len(builder.session.architecture) - 1


def test_build_edit_undo_redo_round_trip(qtbot, builder):
    stack = builder.session.undo_stack
    start = labels(builder)
    double_click_palette(qtbot, builder, "dropout")
    builder.stack.select_layer(0)
    units = builder.properties.field("units")
    units.setFocus()
    units.selectAll()
    qtbot.keyClicks(units, "64")
    assert labels(builder)[0] == "Dense(64)"
    assert builder.session.network.layers[0].params["W"].shape == (2, 64)
    assert stack.count() == 2, "typing 6 then 4 is one undo step"
    assert "units" in stack.undoText()
    builder.editor.undo()
    assert labels(builder)[0] == "Dense(16)"
    builder.editor.undo()
    assert labels(builder) == start
    builder.editor.redo()
    builder.editor.redo()
    assert labels(builder)[0] == "Dense(64)" and "Dropout(0.5)" in labels(builder)


def test_invalid_value_is_flagged_as_typed_and_not_applied(qtbot, builder):
    builder.stack.select_layer(0)
    units = builder.properties.field("units")
    units.selectAll()
    qtbot.keyClicks(units, "0")
    assert units.property("invalid") is True
    assert "positive integer" in builder.properties.error_label.text()
    assert labels(builder)[0] == "Dense(16)"
    assert builder.session.undo_stack.count() == 0


def test_dropout_rate_change_keeps_trained_weights(builder):
    builder.editor.add("dropout", 1)
    weights = builder.session.network.layers[0].params["W"].copy()
    builder.stack.select_layer(1)
    builder.properties.field("p").setText("0.3")
    builder.properties.field("p").textEdited.emit("0.3")
    assert labels(builder)[1] == "Dropout(0.3)"
    assert (builder.session.network.layers[0].params["W"] == weights).all()


def test_duplicate_delete_and_move_buttons(qtbot, builder):
    builder.stack.select_layer(0)
    qtbot.mouseClick(builder.duplicate_button, Qt.MouseButton.LeftButton)
    assert labels(builder)[:2] == ["Dense(16)", "Dense(16)"]
    builder.stack.select_layer(2)  # BatchNorm
    qtbot.mouseClick(builder.up_button, Qt.MouseButton.LeftButton)
    assert labels(builder)[1] == "BatchNorm"
    qtbot.mouseClick(builder.delete_button, Qt.MouseButton.LeftButton)
    assert "BatchNorm" not in labels(builder)
    assert builder.session.undo_stack.count() == 3


def drop_on_stack(panel, row: int, mime: QMimeData, source=None) -> None:
    stack = panel.stack
    rect = stack.visualItemRect(stack.topLevelItem(row))
    event = QDropEvent(rect.topLeft() + QPoint(5, 2), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    if source is not None:
        event.source = lambda: source  # a real drag would set it; the drop code reads it
    stack.dropEvent(event)


def test_drop_from_palette_inserts_at_the_drop_row(builder):
    mime = QMimeData()
    mime.setData(LAYER_TYPE_MIME, b"tanh")
    drop_on_stack(builder, 1, mime)
    assert labels(builder)[1] == "Tanh"


def test_drag_within_stack_reorders(builder):
    builder.stack.select_layer(2)  # ReLU
    drop_on_stack(builder, 0, QMimeData(), source=builder.stack)
    assert labels(builder)[:3] == ["ReLU", "Dense(16)", "BatchNorm"]
    assert "Move" in builder.session.undo_stack.undoText()


def test_output_layer_is_shown_but_not_editable(builder):
    rows = builder.stack.rows()
    assert rows[-1].is_output and rows[-1].output_dim == 2
    builder.stack.select_layer(len(rows) - 1)
    assert builder.properties.index == -1
    assert not builder.delete_button.isEnabled()


def test_edits_are_refused_with_a_message_while_training(qtbot, builder):
    builder.session.set_busy("training")
    before = labels(builder)
    double_click_palette(qtbot, builder, "relu")
    assert labels(builder) == before
    assert builder.notice.isVisible()
    assert "stop training" in builder.notice.text()
    builder.stack.select_layer(0)
    units = builder.properties.field("units")
    units.selectAll()
    qtbot.keyClicks(units, "8")
    assert labels(builder) == before
    builder.session.set_busy(None)


def test_layer_status_badges_for_the_gradient_checker(builder):
    stack = builder.stack
    stack.set_layer_status(0, "mismatch", "W: 3 elements differ")
    stack.set_layer_status(2, "kink")
    assert stack.layer_status(0) == "mismatch"
    assert "mismatch" in stack.topLevelItem(0).text(4)
    assert stack.topLevelItem(0).toolTip(4) == "W: 3 elements differ"
    with pytest.raises(ValueError):
        stack.set_layer_status(1, "bogus")
    builder.editor.add("relu")  # the architecture changed: old verdicts are stale
    assert stack.layer_status(0) is None


class Square(Layer):
    """x² (a custom layer for the palette test)."""

    type_name = "square_test"
    description = "Element-wise square"

    def forward(self, x, ctx):
        self.cache["x"] = x
        return x * x

    def backward(self, dout):
        return 2 * self.cache["x"] * dout


def test_custom_layer_can_be_added_to_the_palette_and_used(qtbot, builder):
    builder.palette.add_layer_type(Square)
    assert "square_test" in builder.palette.type_names()
    assert builder.palette.item_for_type("square_test").toolTip() == "Element-wise square"
    double_click_palette(qtbot, builder, "square_test")
    assert labels(builder)[-2] == "Square"
