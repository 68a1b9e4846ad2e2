"""The confusion matrix: counts from the engine that agree with the reported accuracy,
per-class recall, and a click on a cell lists those rows of the CSV."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from nnstudio.training import confusion_matrix
from tests.gui.driving import train


def show_view(qtbot, window):
    view = window.confusion_view
    window.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.confusion is not None, timeout=5000)
    return view


def test_matrix_agrees_with_the_validation_accuracy_and_shows_recall(qtbot, window):
    train(qtbot, window, epochs=5)
    view = show_view(qtbot, window)
    trainer = window.controller.trainer
    confusion = view.confusion
    assert confusion.matrix.sum() == window.session.dataset.n_val
    assert confusion.accuracy == trainer.evaluate("val")["metric"]
    table = view.matrix_table
    k = len(window.session.dataset.class_names)
    assert table.columnCount() == k + 1 and table.horizontalHeaderItem(k).text() == "recall"
    for i in range(k):
        assert table.item(i, k).text() == f"{confusion.recall[i]:.0%}"
        assert int(table.item(i, i).text()) == confusion.matrix[i, i]


def test_clicking_a_cell_lists_its_rows_of_the_csv(qtbot, window):
    train(qtbot, window, epochs=2)
    view = show_view(qtbot, window)
    dataset = window.session.dataset
    i, j = np.unravel_index(int(view.confusion.matrix.argmax()), view.confusion.matrix.shape)
    rect = view.matrix_table.visualItemRect(view.matrix_table.item(int(i), int(j)))
    qtbot.mouseClick(view.matrix_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    positions = view.confusion.rows(int(i), int(j))
    assert view.rows_table.rowCount() == len(positions) > 0
    first = int(view.rows_table.item(0, 0).text())
    assert first == int(dataset.rows_val[positions[0]]) + 1
    # features in the file's units: Iris sepal lengths are 4..8 cm, not standardized
    value = float(view.rows_table.item(0, 1).text())
    assert 4.0 <= value <= 8.0
    assert f"{len(positions)} row" in view.rows_label.text()


def test_test_split_and_regression(qtbot, window):
    train(qtbot, window, epochs=1)
    view = show_view(qtbot, window)
    view.split_combo.setCurrentIndex(1)
    assert view.confusion.matrix.sum() == window.session.dataset.n_test
    window.data_panel.load_builtin("regression_surface")
    qtbot.waitUntil(lambda: "classification" in view.summary.text(), timeout=3000)


def test_confusion_counts_cells():
    from nnstudio.engine import build_network

    net = build_network("dense:4,relu", 2, "classification", 3, seed=0)
    x = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    y = np.arange(50) % 3
    confusion = confusion_matrix(net, x, y, 3)
    assert confusion.matrix.sum() == 50
    np.testing.assert_array_equal(confusion.predicted, net.predict_classes(x))
    assert confusion.matrix[0].sum() == 17
    assert sum(len(confusion.rows(0, j)) for j in range(3)) == 17
