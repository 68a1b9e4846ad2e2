"""``nnstudio train`` reports layer health: per-epoch "layers", top-level "findings", and the
findings printed after training."""
import json

from .test_train_cli import nnstudio, train_json

HEALTH_KEYS = {"layer_index", "label", "grad_norm", "weight_norm", "update_ratio",
               "activation_mean", "activation_std"}


def test_json_history_has_layers_and_the_report_has_findings(tmp_path):
    report = train_json("builtin:iris", "--layers", "dense:8,relu,dense:8,tanh", "--epochs", "3",
                        cwd=tmp_path)
    first = report["history"][0]
    assert [layer["label"] for layer in first["layers"]] == [
        "0:Dense(8)", "1:ReLU", "2:Dense(8)", "3:Tanh", "4:Dense(3)"]
    assert all(HEALTH_KEYS <= set(layer) for layer in first["layers"])
    assert "dead_fraction" in first["layers"][1] and "saturated_fraction" in first["layers"][3]
    assert "dead_fraction" not in first["layers"][0]
    assert report["findings"] == []


def test_findings_are_printed_and_in_the_json_with_layer_and_epoch(tmp_path):
    args = ("builtin:iris", "--layers", "dense:16,tanh", "--optimizer", "sgd", "--lr", "10",
            "--momentum", "0", "--epochs", "30")
    text = nnstudio("train", *args, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "layer health:" in text.stdout and "the learning rate is too high" in text.stdout
    report = json.loads(nnstudio("train", *args, "--json", cwd=tmp_path).stdout)
    update = next(f for f in report["findings"] if f["kind"] == "update_high")
    assert update["layer_label"] == "2:Dense(3)" and update["epoch"] >= 1
    assert update["message"] in text.stdout


def test_a_healthy_run_says_so(tmp_path):
    result = nnstudio("train", "builtin:iris", "--epochs", "5", cwd=tmp_path)
    assert result.returncode == 0 and "layer health: no findings" in result.stdout
