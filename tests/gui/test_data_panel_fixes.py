"""The data panel after Open CSV…: comes forward, names the target and why, shows every column
and NA as NA, keeps its label in step with the chosen target, names a bad file once."""
from __future__ import annotations

from tests.data.test_target_scaling_and_default import penguins_csv


def test_open_csv_brings_the_data_dock_forward(window, dialogs, tmp_path):
    path = penguins_csv(tmp_path)
    window.docks["Training"].raise_()
    dialogs.open_paths.append(str(path))
    window.actions_by_name["open_csv"].trigger()
    assert window.data_panel.path == str(path)
    assert not window.data_panel.visibleRegion().isEmpty()
    assert window.data_panel.isVisible()
    assert window.training_panel.visibleRegion().isEmpty()


def test_default_target_on_penguins_is_species_and_the_label_says_why(window, tmp_path):
    panel = window.data_panel
    assert panel.set_file(str(penguins_csv(tmp_path)))
    assert panel.target_combo.currentText() == "species"
    assert "target 'species', classification (its name 'species' says it is the label)" in \
        panel.file_label.text()


def test_file_label_follows_the_chosen_target(window, tmp_path):
    panel = window.data_panel
    panel.set_file(str(penguins_csv(tmp_path)))
    panel.target_combo.setCurrentText("body_mass_g")
    assert "target 'body_mass_g', regression" in panel.file_label.text()
    assert "species" not in panel.file_label.text()


def test_preview_shows_every_column_and_na_as_na(window, tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c,d,e,f,g,label\n" + "".join(
        f"{i},{'NA' if i == 0 else i},{i},{i},{i},{i},{i},{'xy'[i % 2]}\n" for i in range(30)))
    panel = window.data_panel
    panel.set_file(str(path))
    table = panel.preview
    assert table.columnCount() == 8
    assert table.item(0, 1).text() == "NA"
    widths = [table.columnWidth(c) for c in range(8)]
    assert max(widths) <= 120 and min(widths) > 0


def test_an_unreadable_file_is_named_once(window, dialogs, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert not window.data_panel.set_file(str(path))
    text = dialogs.errors[-1][1]
    assert text.count("empty.csv") == 1, text


def test_the_window_standardizes_a_regression_target_unless_told_not_to(qtbot, window, tmp_path):
    panel = window.data_panel
    panel.set_file(str(penguins_csv(tmp_path)))
    panel.target_combo.setCurrentText("body_mass_g")
    assert panel.options().standardize_target
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        panel.load()
    assert window.session.dataset.target_scaler is not None
    panel.standardize_target_check.setChecked(False)
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        panel.load()
    assert window.session.dataset.target_scaler is None
