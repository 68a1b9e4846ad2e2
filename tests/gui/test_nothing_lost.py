"""Nothing is lost: every action that replaces the session (or its trained weights) asks about
unsaved changes first, and Cancel leaves everything as it was; a reopened project shows where
it stopped."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from nnstudio.gui.gradcheck.example import EXAMPLE_PROJECT
from tests.gui.driving import train


def guided_example_action(window):
    menu = next(a.menu() for a in window.menuBar().actions()
                if a.menu() is not None and a.menu().title().replace("&", "") == "Check")
    return next(a for a in menu.actions() if a.text().startswith("Guided Example"))


@pytest.fixture
def edited(window, dialogs, tmp_path, settings):
    """A window with an unsaved edit; every dialog answer is Cancel."""
    window.editor.add("tanh")
    assert window.session.modified
    dialogs.save_answer = QMessageBox.StandardButton.Cancel
    saved = tmp_path / "saved.nnproj"
    other_layers = len(window.session.architecture)
    return window, dialogs, saved, other_layers


def layer_names(window):
    return [row.label for row in window.builder.stack.rows()]


def assert_kept(window, dialogs):
    assert dialogs.questions, "no question was asked"
    assert "Tanh" in layer_names(window)
    assert window.session.modified


def test_guided_example_asks_first(edited):
    window, dialogs, *_ = edited
    assert EXAMPLE_PROJECT.exists()
    guided_example_action(window).trigger()
    assert_kept(window, dialogs)
    assert window.session.path is None


def test_new_asks_first(edited):
    window, dialogs, *_ = edited
    window.actions_by_name["new"].trigger()
    assert_kept(window, dialogs)


def test_open_asks_first(edited):
    window, dialogs, *_ = edited
    dialogs.open_paths.append(str(EXAMPLE_PROJECT))
    window.actions_by_name["open"].trigger()
    assert_kept(window, dialogs)
    assert dialogs.open_paths  # the file dialog never opened


def test_open_recent_asks_first(edited):
    window, dialogs, *_ = edited
    window.files.add_recent(str(EXAMPLE_PROJECT))
    window.files._fill_recent_menu()
    window.recent_menu.actions()[0].trigger()
    assert_kept(window, dialogs)


def test_builtin_dataset_asks_first(edited):
    window, dialogs, *_ = edited
    window.actions_by_name["builtin_xor"].trigger()
    assert_kept(window, dialogs)
    assert window.session.dataset.source == "builtin:iris"


def test_loading_a_csv_asks_first(edited, tmp_path):
    window, dialogs, *_ = edited
    path = tmp_path / "lab.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 5},{'xy'[i % 2]}\n" for i in range(40)))
    assert window.data_panel.set_file(str(path))
    assert not window.data_panel.load()
    assert_kept(window, dialogs)
    assert window.data_panel.worker is None


def test_reset_weights_after_training_asks_first(qtbot, window, dialogs):
    train(qtbot, window, epochs=1)
    before = window.session.network
    dialogs.save_answer = QMessageBox.StandardButton.Cancel
    window.training_panel.reset_button.click()
    assert dialogs.questions and "trained weights" in dialogs.questions[-1]
    assert window.session.network is before


def test_discard_goes_ahead(edited):
    window, dialogs, *_ = edited
    dialogs.save_answer = QMessageBox.StandardButton.Discard
    guided_example_action(window).trigger()
    assert window.session.path == str(EXAMPLE_PROJECT)


def test_reopened_trained_project_shows_curves_and_where_it_stopped(qtbot, window, make_window,
                                                                    tmp_path):
    train(qtbot, window, epochs=4)
    window.session.update_train_config(epochs=10)
    path = str(tmp_path / "run.nnproj")
    assert window.files.write(path)
    other = make_window(path)
    steps, losses = other.curves.curve_data("saved_means")
    assert len(steps) == 4 and steps[-1] == window.controller.trainer.step
    assert other.training_panel.progress.format() == "Epoch 4 of 10, paused"
    assert other.training_panel.progress.value() == 400
    assert other.training_panel.start_button.text() == "Continue to epoch 10"
    assert other.training_panel.results_table.item(2, 0).text() != ""  # the test split
