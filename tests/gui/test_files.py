"""Projects from the window: save, reopen, recent files, bad files, New, PNG export."""
from __future__ import annotations

import numpy as np

from nnstudio.gui.files import RECENT_KEY
from tests.gui.driving import train


def test_save_and_reopen_a_project(qtbot, tmp_path, make_window, dialogs, settings):
    window = make_window()
    window.editor.add("dropout", 3)
    window.session.update_train_config(lr=0.02, batch_size=16)
    train(qtbot, window, epochs=3)
    path = str(tmp_path / "lab.nnproj")
    dialogs.save_paths.append(str(tmp_path / "lab"))  # the suffix is added
    window.actions_by_name["save_as"].trigger()
    assert not window.session.modified
    assert window.windowTitle().startswith("lab.nnproj")
    state = window.session.network.state_dict()

    other = make_window()
    dialogs.open_paths.append(path)
    other.actions_by_name["open"].trigger()
    assert other.session.path == path and not other.session.modified
    labels = [layer.describe() for layer in other.session.network.layers]
    assert labels == [layer.describe() for layer in window.session.network.layers]
    assert "Dropout(0.5)" in labels
    for name, value in other.session.network.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    assert other.session.train_config == window.session.train_config
    assert other.training_panel.fields["lr"].text() == "0.02"
    np.testing.assert_array_equal(other.curves.curve_data("val_loss")[0], [1, 2, 3])
    assert other.controller.trainer.epoch == 3
    assert other.files.recent_files()[0].endswith("lab.nnproj")
    train(qtbot, other, epochs=1)  # continues: epoch 4
    np.testing.assert_array_equal(other.curves.curve_data("val_loss")[0], [1, 2, 3, 4])


def test_a_damaged_project_is_reported_and_the_session_is_kept(tmp_path, window, dialogs):
    bad = tmp_path / "broken.nnproj"
    bad.write_bytes(b"not a zip at all")
    network = window.session.network
    assert not window.files.open_project(str(bad))
    assert window.session.network is network
    title, text = dialogs.errors[-1]
    assert title == "Cannot open the project" and "broken.nnproj" in text and "zip" in text


def test_recent_files_live_in_the_given_settings(tmp_path, window, settings):
    path = str(tmp_path / "a.nnproj")
    assert window.files.write(path)
    assert settings.value(RECENT_KEY)[0].endswith("a.nnproj")
    window.recent_menu.aboutToShow.emit()
    assert [a.text() for a in window.recent_menu.actions()] == ["a.nnproj"]


def test_save_is_refused_while_a_batch_runs(qtbot, tmp_path, window):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    assert not window.files.write(str(tmp_path / "x.nnproj"))
    assert "stop training" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()


def test_new_project_asks_about_unsaved_changes_then_resets(window, dialogs):
    window.editor.add("tanh")
    dialogs.save_answer = dialogs.save_answer.__class__.Discard
    window.actions_by_name["new"].trigger()
    assert dialogs.questions
    assert "Tanh" not in [row.label for row in window.builder.stack.rows()]
    assert window.session.undo_stack.count() == 0 and not window.session.modified


def test_export_curves_as_png(qtbot, tmp_path, window, dialogs):
    train(qtbot, window, epochs=2)
    dialogs.save_paths.append(str(tmp_path / "curves"))
    assert window.files.export_curves()
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_app_opens_a_project_given_on_the_command_line(tmp_path, make_window):
    first = make_window()
    path = str(tmp_path / "start.nnproj")
    first.files.write(path)
    window = make_window(path)
    assert window.session.path == path


def test_app_opens_a_csv_given_on_the_command_line(qtbot, tmp_path, make_window):
    csv = tmp_path / "points.csv"
    csv.write_text("u,v,cls\n" + "".join(f"{i % 5},{i % 3},{'ab'[i % 2]}\n" for i in range(40)))
    window = make_window(str(csv))
    qtbot.waitUntil(lambda: window.session.dataset.source == str(csv), timeout=10000)
    assert window.session.network.input_dim == 2


def test_closing_while_training_can_save_first(qtbot, tmp_path, window, dialogs):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    dialogs.save_answer = dialogs.save_answer.__class__.Save
    dialogs.save_paths.append(str(tmp_path / "closing.nnproj"))
    assert window.close()
    assert (tmp_path / "closing.nnproj").exists()
    assert window.controller.worker is None


def test_cancelling_the_close_prompt_keeps_training(qtbot, window, dialogs):
    window.session.update_train_config(epochs=100000)
    with qtbot.waitSignal(window.controller.batches, timeout=5000):
        window.controller.start()
    dialogs.save_answer = dialogs.save_answer.__class__.Cancel
    assert not window.close()
    step = window.controller.trainer.step
    qtbot.waitUntil(lambda: window.controller.trainer.step > step + 5, timeout=3000)
    with qtbot.waitSignal(window.controller.finished, timeout=2000):
        window.controller.stop()
