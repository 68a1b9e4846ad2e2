"""Opening a project with custom layers in the window: the files are listed and the user is
asked (never loaded on their own); changed content is flagged; a missing file can be located."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QDialog, QLabel

from nnstudio.data import make_builtin
from nnstudio.engine import LAYER_TYPES, build_network
from nnstudio.engine import custom_layers
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.gui.project_layers import ProjectLayersDialog
from nnstudio.project import save_project
from nnstudio.resources import resource_path


pytestmark = pytest.mark.usefixtures("forget_custom_layers")


@pytest.fixture
def project(tmp_path):
    layer = tmp_path / "layers" / "student_batchnorm.py"
    layer.parent.mkdir()
    shutil.copy(resource_path("examples", "layer_functions", "student_batchnorm.py"), layer)
    load_custom_layers(layer)
    dataset = make_builtin("iris")
    network = build_network("dense:6,student_bn,relu", 4, "classification", 3, seed=0)
    path = tmp_path / "lab.nnproj"
    save_project(path, network, dataset)
    LAYER_TYPES.pop("student_bn")
    custom_layers._SOURCES.pop("student_bn")
    return path, layer


def scripted(monkeypatch, act):
    """Replace the modal loop by ``act(dialog)``, which drives the real widgets."""
    seen = []

    def run(dialog):
        seen.append(dialog)
        return act(dialog)
    monkeypatch.setattr(ProjectLayersDialog, "exec", run)
    return seen


def test_the_files_are_listed_and_loaded_only_when_the_user_agrees(window, monkeypatch, project):
    path, layer = project
    seen = scripted(monkeypatch, lambda dialog: QDialog.DialogCode.Rejected)
    assert not window.files.open_project(str(path))
    assert "student_bn" not in LAYER_TYPES  # nothing ran
    row = seen[0].tree.topLevelItem(0)
    assert row.text(0) == str(layer.resolve()) and row.text(1) == "student_bn"
    assert row.text(2) == "found, unchanged"
    texts = [label.text() for label in seen[0].findChildren(QLabel)]
    assert any("runs the Python code" in text for text in texts)

    def accept(dialog):
        dialog.load_button.click()
        return dialog.result()
    scripted(monkeypatch, accept)
    assert window.files.open_project(str(path))
    assert [layer.type_name for layer in window.session.network.layers][:2] == ["dense", "student_bn"]
    assert "student_bn" in window.palette.type_names()


def test_changed_content_is_flagged_and_a_missing_file_can_be_located(window, monkeypatch, dialogs,
                                                                      project, tmp_path):
    path, layer = project
    moved = tmp_path / "moved" / "student_batchnorm.py"
    moved.parent.mkdir()
    moved.write_text(layer.read_text() + "\n# edited\n", encoding="utf-8")
    layer.unlink()
    states = []

    def locate_then_accept(dialog):
        states.append(dialog.tree.topLevelItem(0).text(2))
        states.append(dialog.load_button.isEnabled())
        dialogs.open_paths.append(str(moved))
        dialog.locate_button.click()
        states.append(dialog.tree.topLevelItem(0).text(2))
        dialog.load_button.click()
        return dialog.result()
    scripted(monkeypatch, locate_then_accept)
    assert window.files.open_project(str(path))
    assert states == ["NOT FOUND: use Locate…", False,
                      "CONTENT CHANGED since the project was saved"]
    assert window.session.network.layers[1].type_name == "student_bn"


def test_import_layer_takes_layer_functions_and_the_palette_gives_them_units(window, dialogs):
    from PySide6.QtWidgets import QMessageBox

    from nnstudio.gui.gradcheck.custom_layer_action import import_custom_layer

    dialogs.save_answer = QMessageBox.StandardButton.Yes
    path = resource_path("examples", "layer_functions", "student_affine.py")
    added = import_custom_layer(window, str(path))
    assert [cls.type_name for cls in added] == ["student_affine"] and not dialogs.errors
    assert "runs the Python code" in dialogs.questions[-1]
    assert window.editor.add("student_affine", 0)
    layer = window.session.network.layers[0]
    assert layer.type_name == "student_affine" and layer.units == 16
    assert layer.params["w"].shape == (4, 16)


def test_app_custom_layer_option_loads_the_files_and_opens_the_project_without_asking(
        qtbot, settings, monkeypatch, project, capsys):
    from nnstudio.gui import launch

    path, layer = project
    asked = scripted(monkeypatch, lambda dialog: QDialog.DialogCode.Rejected)
    classes = launch.load_layer_files([str(layer)])
    window = launch.open_window(str(path), settings=settings, layer_classes=classes)
    qtbot.addWidget(window)
    assert not asked and window.session.path == str(path)
    assert window.session.network.layers[1].type_name == "student_bn"
    assert "student_bn" in window.palette.type_names()
    window.close()
    assert launch.main(["--custom-layer", str(path.parent / "missing.py")]) == 2
    assert "custom layer file not found" in capsys.readouterr().err
