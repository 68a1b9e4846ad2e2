"""The window says what the data left out, asks before embedding a file from outside the
project's folder, and says what of a saved run starts afresh."""
from __future__ import annotations

import zipfile

from PySide6.QtWidgets import QMessageBox


def write_csv(path, rows: int = 40) -> str:
    lines = ["id,const,x,z,label"] + [f"{i},7,{i * 0.37 % 1:.3f},{i * 0.71 % 1:.3f},{i % 2}"
                                      for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def load(qtbot, window, path) -> None:
    panel = window.data_panel
    assert panel.set_file(path)
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        assert panel.load()
    qtbot.waitUntil(lambda: panel.worker is None)


def test_left_out_columns_are_named_in_the_status_and_the_summary(qtbot, tmp_path, window):
    load(qtbot, window, write_csv(tmp_path / "lab.csv"))
    status = window.statusBar().currentMessage()
    assert "2 column(s) left out" in status and "id" in status and "const" in status
    summary = window.data_panel.summary_label.text()
    assert "Columns left out (2)" in summary and "counts rows" in summary and "every row" in summary


def test_saving_asks_before_embedding_data_from_outside_the_project_folder(qtbot, tmp_path,
                                                                          window, dialogs):
    outside, project_folder = tmp_path / "elsewhere", tmp_path / "projects"
    outside.mkdir()
    project_folder.mkdir()
    load(qtbot, window, write_csv(outside / "private.csv"))
    dialogs.save_answer = QMessageBox.StandardButton.No
    assert window.files.write(str(project_folder / "a.nnproj"))
    assert "private.csv" in dialogs.questions[-1] and "not in the project's folder" in dialogs.questions[-1]
    assert not any(n.startswith("data/") for n in zipfile.ZipFile(project_folder / "a.nnproj").namelist())
    asked = len(dialogs.questions)
    assert window.files.write(str(project_folder / "a.nnproj"))  # asked once per file and folder
    assert len(dialogs.questions) == asked

    dialogs.save_answer = QMessageBox.StandardButton.Yes
    assert window.files.write(str(outside / "b.nnproj"))  # inside its folder: no question
    assert len(dialogs.questions) == asked
    assert "data/private.csv" in zipfile.ZipFile(outside / "b.nnproj").namelist()
    (tmp_path / "other").mkdir()
    assert window.files.write(str(tmp_path / "other" / "c.nnproj"))  # another folder: asked, yes
    assert len(dialogs.questions) == asked + 1
    assert "data/private.csv" in zipfile.ZipFile(tmp_path / "other" / "c.nnproj").namelist()


def test_opening_a_project_without_optimizer_state_says_what_starts_afresh(qtbot, tmp_path, make_window):
    from nnstudio.data import make_builtin
    from nnstudio.engine import build_network
    from nnstudio.project import save_project
    from nnstudio.training import TrainConfig, Trainer

    dataset = make_builtin("iris")
    network = build_network("dense:4,relu", dataset.n_features, dataset.task, dataset.n_outputs)
    trainer = Trainer(network, dataset, TrainConfig(epochs=1))
    list(trainer.run(1))
    path = save_project(tmp_path / "run.nnproj", network, dataset, trainer)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "trainer.npz"}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    window = make_window()
    assert window.files.open_project(str(path))
    assert "moments" in window.statusBar().currentMessage()
