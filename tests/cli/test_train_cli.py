"""``nnstudio train`` through the real entry point, in a subprocess: exit codes, output, files."""
import json
import subprocess
import sys

import pytest

from nnstudio.resources import resource_path

IRIS = str(resource_path("datasets", "iris.csv"))


def nnstudio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def train_json(*args, cwd):
    result = nnstudio("train", *args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_train_a_csv_prints_one_json_object_and_saves_a_project(tmp_path):
    report = train_json(IRIS, "--target", "species", "--layers", "dense:16,batchnorm,relu,dropout:0.1",
                        "--epochs", "12", "--batch-size", "16", "--optimizer", "sgd", "--lr", "0.05",
                        "--momentum", "0.8", "--nesterov", "--l1", "1e-5", "--l2", "1e-4",
                        "--val-split", "0.2", "--seed", "3", "--save", "iris.nnproj", cwd=tmp_path)
    assert report["status"] == "ok" and report["diverged"] is None
    assert report["epochs"] == 12 and len(report["history"]) == 12
    assert report["metric_name"] == "accuracy" and 0 <= report["final"]["val"]["metric"] <= 1
    assert set(report["final"]) == {"train", "val", "test"} and report["final"]["val"]["n"] == 30
    assert report["config"] == {"optimizer": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": True,
                                "l1": 1e-5, "l2": 1e-4, "batch_size": 16, "epochs": 12, "seed": 3,
                                "bn_stats": "auto", "predict_bn_stats": "running"}
    layers = [row["layer"] for row in report["network"]["layers"]]
    assert layers == ["Dense(16)", "BatchNorm", "ReLU", "Dropout(0.1)", "Dense(3)"]  # output added
    assert report["data"]["target"] == "species" and report["saved"] == "iris.nnproj"
    assert (tmp_path / "iris.nnproj").is_file()
    epoch = report["history"][-1]
    assert epoch["val_loss_other_bn"] is not None and "0:Dense(16)" in epoch["grad_norms"]


def test_continuing_a_project_equals_training_without_stopping(tmp_path):
    common = ["builtin:xor", "--samples", "200", "--layers", "dense:8,tanh", "--seed", "2"]
    straight = train_json(*common, "--epochs", "9", cwd=tmp_path)
    train_json(*common, "--epochs", "5", "--save", "xor.nnproj", cwd=tmp_path)
    continued = train_json("xor.nnproj", "--epochs", "4", cwd=tmp_path)
    assert continued["epochs"] == 9 and continued["saved"] == "xor.nnproj"
    assert continued["history"] == straight["history"]
    assert continued["final"] == straight["final"]


def test_continuing_a_finished_project_without_epochs_trains_nothing(tmp_path):
    train_json("builtin:iris", "--epochs", "3", "--save", "p.zip", cwd=tmp_path)
    report = train_json("p.zip", cwd=tmp_path)  # recognised as a project by its content
    assert report["epochs"] == 3 and len(report["history"]) == 3 and report["saved"] == "p.zip"


def test_regression_reports_r2(tmp_path):
    report = train_json("builtin:regression_surface", "--samples", "300", "--epochs", "5", cwd=tmp_path)
    assert report["metric_name"] == "r2" and report["data"]["task"] == "regression"
    assert report["network"]["layers"][-1]["output_shape"] == [None, 1]


def test_text_output_summarises_the_run(tmp_path):
    result = nnstudio("train", "builtin:iris", "--epochs", "4", "--save", "p.nnproj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("trained 4 epochs (16 steps)")
    assert "val   loss" in result.stdout and "saved to p.nnproj" in result.stdout
    assert "epoch 4/4" in result.stderr  # progress lines when stderr is not a terminal


def test_an_unknown_layer_token_exits_2_listing_the_valid_ones(tmp_path):
    result = nnstudio("train", IRIS, "--layers", "dense:16,frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown layer 'frobnicate'" in result.stderr
    assert "valid layers: batchnorm, dense, dropout, leakyrelu, relu, sigmoid, tanh" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["missing.csv"], "missing.csv"),
    ([IRIS, "--target", "colour"], "colour"),
    ([IRIS, "--epochs", "-1"], "epochs must be an integer >= 0"),
    ([IRIS, "--lr", "0"], "lr must be"),
    (["builtin:nothing"], "unknown built-in dataset 'nothing'"),
    (["builtin:iris", "--target", "species"], "do not apply to built-in datasets"),
    (["builtin:iris", "--save", "no/such/dir/p.nnproj"], "directory no/such/dir does not exist"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, args, message):
    result = nnstudio("train", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_changing_the_architecture_of_a_saved_project_is_refused(tmp_path):
    train_json("builtin:iris", "--epochs", "1", "--save", "p.nnproj", cwd=tmp_path)
    result = nnstudio("train", "p.nnproj", "--layers", "dense:4", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "--layers, --seed cannot change when continuing a project" in result.stderr


def test_divergence_exits_1_naming_the_layer_and_saves_the_last_good_weights(tmp_path):
    result = nnstudio("train", "builtin:regression_surface", "--samples", "200", "--layers", "dense:16,relu",
                      "--optimizer", "sgd", "--lr", "1000", "--json", "--save", "d.nnproj", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["status"] == "diverged"
    diverged = report["diverged"]
    assert diverged["layer_label"] in diverged["message"]
    assert f"epoch {diverged['epoch']}, batch {diverged['batch']}" in diverged["message"]
    assert "Training diverged" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "d.nnproj").is_file()


def test_on_a_terminal_the_progress_bar_shows_loss_and_eta_and_ends_with_a_newline():
    import io

    from nnstudio.commands.train import ProgressReporter
    from nnstudio.data import make_builtin
    from nnstudio.engine import build_network
    from nnstudio.training import TrainConfig, Trainer

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    dataset = make_builtin("iris")
    trainer = Trainer(build_network("dense:8,relu", 4, "classification", 3), dataset, TrainConfig(epochs=5))
    terminal = Terminal()
    reporter = ProgressReporter(terminal, trainer, None)
    for snapshot in trainer.run():
        reporter.update(snapshot)
    reporter.finish()
    last = terminal.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("epoch 5/5 [####################]  loss ")
    assert "val accuracy" in last and "ETA 0:00" in last and terminal.getvalue().endswith("\n")
