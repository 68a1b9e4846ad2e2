"""Custom layers stay with a project: the files are recorded (relative, absolute, SHA-256);
opening never runs them, names them when they are not loaded, and flags changed content."""
import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from nnstudio.data import make_builtin
from nnstudio.engine import LAYER_TYPES, Context, build_network
from nnstudio.engine import custom_layers
from nnstudio.engine.custom_layers import load_custom_layers
from nnstudio.engine.gradcheck import CheckConfig, GradientChecker, check_batch
from nnstudio.project import load_project, save_project
from nnstudio.project.custom_layer_records import (CHANGED, MISSING, OK, CustomLayersNeeded,
                                                   read_requirements)
from nnstudio.resources import resource_path
from nnstudio.training import TrainConfig, Trainer

SPEC = "dense:6,student_bn,relu,student_dropout:0.2"


pytestmark = pytest.mark.usefixtures("forget_custom_layers")


def forget_custom_layers():
    for name in ("student_bn", "student_dropout"):
        LAYER_TYPES.pop(name, None)
        custom_layers._SOURCES.pop(name, None)


@pytest.fixture
def layer_files(tmp_path):
    folder = tmp_path / "layers"
    folder.mkdir()
    for name in ("student_batchnorm.py", "student_dropout.py"):
        shutil.copy(resource_path("examples", "layer_functions", name), folder / name)
    return folder / "student_batchnorm.py", folder / "student_dropout.py"


def trained_project(tmp_path, layer_files):
    for path in layer_files:
        load_custom_layers(path)
    dataset = make_builtin("iris")
    network = build_network(SPEC, dataset.n_features, dataset.task, dataset.n_outputs, seed=1)
    trainer = Trainer(network, dataset, TrainConfig(epochs=2, batch_size=16))
    for _ in trainer.run():
        pass
    project = tmp_path / "work" / "lab.nnproj"
    project.parent.mkdir()
    save_project(project, network, dataset, trainer)
    return project, network, dataset


def test_a_project_with_layer_functions_round_trips_with_its_running_statistics(tmp_path, layer_files):
    project, network, dataset = trained_project(tmp_path, layer_files)
    document = json.loads(zipfile.ZipFile(project).read("project.json"))
    records = document["custom_layers"]
    assert [r["types"] for r in records] == [["student_bn"], ["student_dropout"]]
    assert records[0]["path"] == "../layers/student_batchnorm.py"
    assert records[0]["absolute"] == str(layer_files[0].resolve()) and len(records[0]["sha256"]) == 64
    running_mean = network.layers[1].buffers["running_mean"]
    assert np.any(running_mean != 0)

    forget_custom_layers()
    with pytest.raises(CustomLayersNeeded, match="--custom-layer .*student_batchnorm.py") as caught:
        load_project(project)
    assert [s.state for s in caught.value.statuses] == [OK, OK]

    for path in layer_files:
        load_custom_layers(path)
    loaded = load_project(project)
    np.testing.assert_array_equal(loaded.network.layers[1].buffers["running_mean"], running_mean)
    np.testing.assert_array_equal(loaded.network.predict(dataset.x_test), network.predict(dataset.x_test))
    x, y = check_batch(dataset.x_train, dataset.y_train, 16, 0)
    for bn_stats in ("batch", "running"):
        assert GradientChecker(loaded.network, x, y, CheckConfig(bn_stats=bn_stats)).run().passed
    loaded.make_trainer()  # continues


def test_changed_and_missing_files_are_told_apart_without_running_them(tmp_path, layer_files):
    project, _, _ = trained_project(tmp_path, layer_files)
    assert [s.state for s in read_requirements(project)] == [OK, OK]
    layer_files[1].write_text(layer_files[1].read_text() + "\n# edited\n", encoding="utf-8")
    moved = tmp_path / "elsewhere" / "lab.nnproj"
    moved.parent.mkdir()
    shutil.copy(project, moved)
    layer_files[0].rename(tmp_path / "renamed.py")
    states = {s.record.types[0]: s for s in read_requirements(moved)}
    assert states["student_bn"].state == MISSING and states["student_bn"].found is None
    assert states["student_dropout"].state == CHANGED  # found by its absolute path
    assert "CHANGED" in states["student_dropout"].describe()


def test_state_a_layer_creates_only_while_training_is_saved_and_restored(tmp_path):
    path = tmp_path / "counting.py"
    path.write_text('import numpy as np\nNAME = "counting"\nLAYER_PARAM = {}\n'
                    "def forward(x, param):\n"
                    '    if param["mode"] == "train":\n'
                    '        param["steps"] = param.get("steps", np.zeros(1)) + 1\n'
                    "    return x * 1.0, None\n"
                    "def backward(dout, cache):\n    return dout\n", encoding="utf-8")
    load_custom_layers(path)
    network = build_network("counting", 3, "classification", 2)
    assert network.layers[0].buffers == {}
    x = np.ones((4, 3))
    for _ in range(3):
        network.forward(x, Context.train(np.random.default_rng(0)))
    assert network.layers[0].buffers["steps"][0] == 3
    save_project(tmp_path / "c.nnproj", network)
    assert load_project(tmp_path / "c.nnproj").network.layers[0].buffers["steps"][0] == 3


def test_the_command_line_loads_custom_layers_only_when_told(tmp_path, layer_files):
    project, _, _ = trained_project(tmp_path, layer_files)
    before = project.read_bytes()

    def train(*extra):
        return subprocess.run([sys.executable, "-m", "nnstudio", "train", str(project), "--epochs",
                               "1", *extra], capture_output=True, text=True, timeout=120)
    refused = train()
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"--custom-layer {layer_files[0].resolve()}" in refused.stderr
    assert f"--custom-layer {layer_files[1].resolve()}" in refused.stderr
    assert project.read_bytes() == before  # nothing ran
    flags = [arg for path in layer_files for arg in ("--custom-layer", str(path))]
    done = train(*flags)
    assert done.returncode == 0, done.stderr
    assert "changed since" not in done.stderr
    layer_files[1].write_text(layer_files[1].read_text() + "\n# edited\n", encoding="utf-8")
    edited = train(*flags)
    assert edited.returncode == 0
    assert f"note: {layer_files[1].resolve()} (layers student_dropout) changed since" in edited.stderr


def test_info_describes_a_project_with_custom_layers_when_they_are_given(tmp_path, layer_files):
    project, _, _ = trained_project(tmp_path, layer_files)

    def info(*extra):
        return subprocess.run([sys.executable, "-m", "nnstudio", "info", str(project), *extra],
                              capture_output=True, text=True, timeout=120)
    assert info().returncode == 2
    shown = info(*[arg for path in layer_files for arg in ("--custom-layer", str(path))])
    assert shown.returncode == 0 and "student_bn" in shown.stdout
