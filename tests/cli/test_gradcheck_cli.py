"""``nnstudio gradcheck`` through the real entry point, in a subprocess: exit codes and JSON."""
import json
import subprocess
import sys

import pytest

from nnstudio.resources import resource_path

IRIS = str(resource_path("datasets", "iris.csv"))
FAULTY = str(resource_path("examples", "faulty_swish_layer.py"))
PRELU = str(resource_path("examples", "prelu_layer.py"))


def nnstudio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def gradcheck_json(*args, cwd, code=0):
    result = nnstudio("gradcheck", *args, "--json", cwd=cwd)
    assert result.returncode == code, result.stderr + result.stdout[-2000:]
    return json.loads(result.stdout)


def test_a_correct_network_exits_0_with_the_documented_json(tmp_path):
    data = gradcheck_json(IRIS, "--target", "species", "--layers", "dense:8,batchnorm,relu,dropout:0.2",
                          "--seed", "3", "--batch", "16", cwd=tmp_path)
    assert data["format"] == "nnstudio.gradcheck/2" and data["status"] == "ok"
    assert data["passed"] is True and set(data["phases"]) == {"fit", "predict"}
    assert data["culprits"] == [] and isinstance(data["elapsed_seconds"], float)
    fit, predict = data["phases"]["fit"], data["phases"]["predict"]
    assert fit["passed"] and fit["complete"] and predict["passed"]
    settings = fit["settings"]
    assert settings["bn_stats"] == "batch" and settings["dropout"] == "fixed" and settings["seed"] == 3
    assert settings["batch_size"] == 16 and settings["faults"] == [] and settings["h"] == 1e-5
    assert settings["source"].startswith(IRIS)
    assert (predict["settings"]["bn_stats"], predict["settings"]["dropout"]) == ("running", "off")
    assert "population statistics of the check batch" in predict["notes"][0]  # never trained
    # inputs of layers whose later layers mix rows (BatchNorm on batch statistics, an
    # active dropout mask): 4 seeded rows (and random directions); the rest: every row
    inputs = 4 * (4 + 8 + 8 + 8) + 16 * 8 + 16 * 3
    assert fit["totals"] == {"planned": 83 + inputs, "checked": 83 + inputs,
                             "ok": 83 + inputs - fit["totals"]["kink"],
                             "kink": fit["totals"]["kink"], "mismatch": 0, "unverifiable": 0}
    assert [t["name"] for t in fit["tensors"] if t["kind"] == "parameter"] == \
        ["0.W", "0.b", "1.gamma", "1.beta", "4.W", "4.b"]
    assert [layer["input_gradient"]["status"] for layer in fit["layers"]] == ["ok"] * 6
    assert fit["mismatches"] == []


def test_an_injected_fault_exits_1_and_lists_every_mismatch(tmp_path):
    data = gradcheck_json("builtin:iris", "--layers", "dense:8,batchnorm,relu", "--fault",
                          "batchnorm:missing_1_over_n", cwd=tmp_path, code=1)
    fit = data["phases"]["fit"]
    assert data["passed"] is False and fit["settings"]["faults"] == ["1:missing_1_over_n"]
    assert fit["network"]["layers"][1]["fault"] == "missing_1_over_n"
    assert {m["tensor"] for m in fit["mismatches"]} <= {"0.W", "0.b", "0.<input>", "1.<input>"}
    assert len(fit["mismatches"]) == fit["totals"]["mismatch"] > 0
    first = fit["mismatches"][0]
    assert first["verdict"] == "mismatch" and len(first["index"]) in (1, 2)
    # the culprit is the BatchNorm, not the Dense where the wrong gradient lands
    assert [(c["phase"], c["layer_index"], c["part"]) for c in data["culprits"]][0] == \
        ("fit", 1, "input")
    assert {c["layer_index"] for c in data["culprits"]} == {1}
    assert [layer["role"] for layer in fit["layers"]][:3] == ["affected", "culprit", "ok"]
    assert data["phases"]["predict"]["passed"]  # running statistics: no mean path to get wrong


def test_human_output_is_a_table_with_a_verdict(tmp_path):
    result = nnstudio("gradcheck", "builtin:iris", "--layers", "dense:6,tanh", "--fault", "loss:wrong_sign",
                      cwd=tmp_path)
    assert result.returncode == 1
    assert "0 Dense(6)" in result.stdout and "Worst mismatches:" in result.stdout
    assert "FAIL:" in result.stdout and "loss:wrong_sign" in result.stdout
    assert "the error enters at the loss" in result.stdout


def test_sampled_screened_running_statistics_run(tmp_path):
    data = gradcheck_json("builtin:iris", "--layers", "dense:8,batchnorm,relu", "--samples-per-tensor", "3",
                          "--bn-stats", "running", "--dropout", "off", "--screen", cwd=tmp_path)
    selected = data["phases"]["selected"]
    assert selected["settings"]["samples_per_tensor"] == 3 and selected["screen"] is not None
    assert selected["settings"]["bn_stats"] == "running" and data["passed"] is True


def test_redrawn_dropout_masks_fail_as_they_should(tmp_path):
    gradcheck_json("builtin:iris", "--layers", "dense:8,relu,dropout:0.5", "--dropout", "redraw",
                   cwd=tmp_path, code=1)


def test_custom_layers_from_files(tmp_path):
    gradcheck_json("builtin:iris", "--custom-layer", PRELU, "--layers", "dense:6,prelu", cwd=tmp_path)
    data = gradcheck_json("builtin:iris", "--custom-layer", FAULTY, "--layers", "dense:6,swish_faulty",
                          cwd=tmp_path, code=1)
    fit = data["phases"]["fit"]
    assert {m["tensor"] for m in fit["mismatches"]} == {"0.W", "0.b", "0.<input>", "1.<input>"}
    assert [(c["layer_index"], c["part"]) for c in fit["culprits"]] == [(1, "input")]
    assert fit["settings"]["custom_layers"] == [FAULTY]


def test_a_saved_project_is_checked_with_its_penalty(tmp_path):
    trained = nnstudio("train", "builtin:iris", "--layers", "dense:8,batchnorm,relu", "--epochs", "2",
                       "--l2", "0.01", "--save", "lab.nnproj", "--json", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    data = gradcheck_json("lab.nnproj", "--include-regularization", cwd=tmp_path)
    fit = data["phases"]["fit"]
    assert data["passed"] and fit["settings"]["l2"] == 0.01 and fit["settings"]["include_regularization"]
    assert "notes" in data["phases"]["predict"] and not data["phases"]["predict"]["notes"]  # trained


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--target", "y"], "missing.csv"),
    (["builtin:nothing"], "unknown built-in dataset"),
    (["builtin:iris", "--fault", "7:wrong_sign"], "out of range"),
    (["builtin:iris", "--fault", "dense"], "LAYER:FAULT"),
    (["builtin:iris", "--layers", "dense:4,conv"], "unknown layer"),
    (["builtin:iris", "--h", "5"], "far too large"),
    (["builtin:iris", "--batch", "0"], "--batch"),
    ([IRIS, "--target", "petal"], "petal"),
    (["builtin:iris", "--custom-layer", "nowhere.py"], "nowhere.py"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, args, message):
    result = nnstudio("gradcheck", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_broken_custom_layer_file_is_reported_with_its_line(tmp_path):
    (tmp_path / "bad.py").write_text("from nnstudio.engine import Layer\n\nclass X(Layer:\n    pass\n")
    result = nnstudio("gradcheck", "builtin:iris", "--custom-layer", "bad.py", cwd=tmp_path)
    assert result.returncode == 2 and "line 3" in result.stderr and "syntax error" in result.stderr


def test_list_faults(tmp_path):
    result = nnstudio("gradcheck", "--list-faults", cwd=tmp_path)
    assert result.returncode == 0
    assert "missing_1_over_n" in result.stdout and "softmax_cross_entropy (loss)" in result.stdout


CRASHING_LAYER = '''import numpy as np
from nnstudio.engine import Layer


class Crash(Layer):
    type_name = "crash"

    def forward(self, x, ctx):
        return x * 2.0

    def backward(self, dout):
        return dout[:, :, 0]
'''


def test_an_exception_in_user_code_exits_2_naming_file_and_line(tmp_path):
    (tmp_path / "crash.py").write_text(CRASHING_LAYER)
    result = nnstudio("gradcheck", "builtin:iris", "--custom-layer", "crash.py", "--layers",
                      "dense:4,crash", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error in {tmp_path / 'crash.py'}:12: IndexError" in result.stderr
    assert "Traceback" not in result.stderr
    data = gradcheck_json("builtin:iris", "--custom-layer", "crash.py", "--layers", "dense:4,crash",
                          cwd=tmp_path, code=2)
    assert data["status"] == "error" and data["passed"] is False
    assert data["error"]["line"] == 12 and data["error"]["type"] == "IndexError"
