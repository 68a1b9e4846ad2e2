"""Loading data through the data panel: preview, options, worker thread, errors, cancel."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def write_csv(path, rows: int = 60, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["size,colour,weight,label"]
    for i in range(rows):
        size, weight = rng.normal(), rng.normal()
        colour = ("red", "green", "blue")[i % 3]
        label = "big" if size + weight > 0 else "small"
        lines.append(f"{size:.4f},{colour},{weight:.4f},{label}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def load(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        assert panel.load()
    qtbot.waitUntil(lambda: panel.worker is None)


def test_preview_shows_columns_kinds_and_actions(tmp_path, window):
    panel = window.data_panel
    assert panel.set_file(write_csv(tmp_path / "lab.csv"))
    assert [panel.target_combo.itemText(i) for i in range(panel.target_combo.count())] == [
        "size", "colour", "weight", "label"]
    assert panel.target_combo.currentText() == "label"
    header = panel.preview.horizontalHeaderItem(1).text()
    assert "colour" in header and "categorical" in header and "one-hot" in header
    assert "target" in panel.preview.horizontalHeaderItem(3).text()
    assert panel.preview.rowCount() == 20


def test_csv_loads_off_the_gui_thread_and_the_network_is_rebuilt(qtbot, tmp_path, window):
    panel = window.data_panel
    panel.set_file(write_csv(tmp_path / "lab.csv"))
    panel.missing_combo.setCurrentIndex(1)
    panel.val_spin.setValue(0.2)
    load(qtbot, panel)
    dataset = window.session.dataset
    assert dataset.target == "label" and dataset.task == "classification"
    assert dataset.n_features == 5  # size, weight, colour one-hot ×3
    assert dataset.options.missing == "mean" and dataset.options.val_fraction == 0.2
    assert window.session.network.input_dim == 5
    assert window.session.network.output_dim == 2
    assert "label" in panel.summary_label.text()
    assert window.builder.input_label.text().startswith("Input: 5 features")


def test_choosing_another_target_and_task(qtbot, tmp_path, window):
    panel = window.data_panel
    panel.set_file(write_csv(tmp_path / "lab.csv"))
    panel.target_combo.setCurrentText("weight")
    panel.task_combo.setCurrentIndex(2)  # regression
    assert "target" in panel.preview.horizontalHeaderItem(2).text()
    load(qtbot, panel)
    assert window.session.dataset.task == "regression"
    assert window.session.network.loss.type_name == "mse"


def test_bad_csv_names_the_problem_and_keeps_the_previous_dataset(qtbot, tmp_path, window, dialogs):
    previous = window.session.dataset
    bad = tmp_path / "bad.csv"
    rows = "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(30000))
    bad.write_text("a,b,label\n" + rows + "3,4,y,9\n" + rows)  # past the head the preview reads
    panel = window.data_panel
    assert panel.set_file(str(bad))
    dialogs.errors.clear()
    panel.target_combo.setCurrentText("label")
    with qtbot.waitSignal(panel.failed, timeout=10000):
        panel.load()
    qtbot.waitUntil(lambda: panel.worker is None)
    assert window.session.dataset is previous
    title, text = dialogs.errors[-1]
    assert "bad.csv" in text and "row 30001" in text and "previous dataset stays loaded" in text


def test_a_bad_row_in_the_preview_is_reported_with_its_row(tmp_path, window, dialogs):
    bad = tmp_path / "short.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4,y,9\n5,6,x\n")
    assert not window.data_panel.set_file(str(bad))
    title, text = dialogs.errors[-1]
    assert "short.csv" in text and "row 2" in text


def test_missing_file_is_reported_in_a_dialog(window, dialogs):
    assert not window.data_panel.set_file("/nonexistent/lab.csv")
    assert "lab.csv" in dialogs.errors[-1][1]


def test_cancel_keeps_the_previous_dataset(qtbot, tmp_path, window):
    previous = window.session.dataset
    panel = window.data_panel
    panel.set_file(write_csv(tmp_path / "big.csv", rows=60000))
    with qtbot.waitSignal(panel.message, timeout=10000,
                          check_params_cb=lambda text: "cancelled" in text):
        panel.load()
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None)
    assert window.session.dataset is previous
    assert not panel.progress.isVisible()


def test_dropping_a_csv_file_previews_it(tmp_path, window):
    path = write_csv(tmp_path / "dropped.csv")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.data_panel.dropEvent(event)
    assert window.data_panel.path == path


def test_builtin_datasets_from_the_menu(window):
    window.actions_by_name["builtin_circles"].trigger()
    assert window.session.dataset.source == "builtin:circles"
    assert window.session.network.input_dim == 2


def test_loading_is_refused_while_training(qtbot, tmp_path, window):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    previous = window.session.dataset
    assert not window.data_panel.load_builtin("xor")
    assert window.session.dataset is previous
    assert "stop training first" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()
