"""``nnstudio info`` through the real entry point: the summary, its JSON form, bad files."""
import json
import subprocess
import sys

from nnstudio.data import make_builtin
from nnstudio.engine import build_network
from nnstudio.project import save_project
from nnstudio.training import TrainConfig, Trainer


def nnstudio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def trained_project(path, epochs=3):
    dataset = make_builtin("iris")
    network = build_network("dense:16,batchnorm,relu", 4, "classification", 3, seed=0)
    network.layers[0].set_fault("bias_not_summed")
    trainer = Trainer(network, dataset, TrainConfig(epochs=epochs, lr=0.02))
    list(trainer.run())
    return save_project(path, network, dataset, trainer, description="Find the broken layer.")


def test_info_prints_layers_shapes_parameters_data_settings_and_metrics(tmp_path):
    trained_project(tmp_path / "lab.nnproj")
    result = nnstudio("info", "lab.nnproj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Find the broken layer." in text
    assert "Network: 4 inputs, 163 parameters" in text
    assert "Dense(16)" in text and "(N, 16)" in text and "fault: bias_not_summed" in text
    assert "(N, 3)" in text and "51" in text  # the output layer: 16·3 + 3 parameters
    assert "Data: builtin:iris" in text and "target 'species'" in text and "104 train" in text
    assert "lr 0.02" in text and "batch_size 32" in text
    assert "Trained 3 epochs (12 steps)" in text and "val accuracy" in text


def test_info_json_has_the_same_facts(tmp_path):
    trained_project(tmp_path / "lab.nnproj", epochs=2)
    result = nnstudio("info", "lab.nnproj", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["network"]["parameters"] == 163
    assert [row["output_shape"] for row in summary["network"]["layers"]] == [[None, 16], [None, 16],
                                                                             [None, 16], [None, 3]]
    assert summary["data"]["kind"] == "builtin" and summary["data"]["rows"]["val"] == 23
    assert summary["training"]["lr"] == 0.02 and summary["epochs_trained"] == 2
    assert summary["final"]["epoch"] == 2 and summary["final"]["metric_name"] == "accuracy"


def test_info_on_an_untrained_project(tmp_path):
    save_project(tmp_path / "new.nnproj", build_network("dense:4", 2, "regression", 1))
    result = nnstudio("info", "new.nnproj", cwd=tmp_path)
    assert result.returncode == 0 and "Not trained yet." in result.stdout and "Data: none" in result.stdout


def test_info_on_a_damaged_or_missing_file_exits_2_with_a_message(tmp_path):
    (tmp_path / "bad.nnproj").write_bytes(b"PK\x03\x04 not really a zip")
    result = nnstudio("info", "bad.nnproj", cwd=tmp_path)
    assert result.returncode == 2 and "bad.nnproj is not a valid zip archive" in result.stderr
    assert "Traceback" not in result.stderr
    missing = nnstudio("info", "nowhere.nnproj", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere.nnproj" in missing.stderr
