"""``nnstudio gradcheck`` on the user's own code: ``--model`` and layer-function files, through
the real entry point: exit codes 0 / 1 / 2 and the JSON."""
import json
import re
import shutil
import subprocess
import sys

from nnstudio.resources import resource_path

IRIS = str(resource_path("datasets", "iris.csv"))


def nnstudio(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def package(tmp_path, old=None, new=None, file="classifiers/fc_net.py"):
    root = tmp_path / "cs231n"
    shutil.copytree(resource_path("examples", "cs231n"), root)
    if old is not None:
        path = root / file
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return root


def test_a_correct_model_exits_0_with_both_phases_in_the_json(tmp_path):
    fc_net = package(tmp_path) / "classifiers" / "fc_net.py"
    result = nnstudio("gradcheck", IRIS, "--target", "species", "--model",
                      f"{fc_net}:FullyConnectedNet", "--model-kwargs",
                      '{"hidden_dims": [8], "normalization": "batchnorm", "dropout_keep_ratio": 0.8,'
                      ' "reg": 0.1, "dtype": "float64", "weight_scale": 0.3}',
                      "--batch", "12", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["passed"] and set(data["phases"]) == {"fit", "predict"}
    fit = data["phases"]["fit"]
    assert [t["name"] for t in fit["tensors"]] == ["W1", "b1", "gamma1", "beta1", "W2", "b2"]
    assert fit["settings"]["factory"] == "FullyConnectedNet" and fit["settings"]["batch_size"] == 12


def test_a_missing_l2_term_exits_1_naming_the_weights(tmp_path):
    fc_net = package(tmp_path, 'dw + self.reg * self.params[f"W{i}"], db', "dw, db") \
        / "classifiers" / "fc_net.py"
    result = nnstudio("gradcheck", "builtin:iris", "--model", str(fc_net), "--batch", "10",
                      cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    failing = set(re.findall(r"\b((?:W|b|gamma|beta)\d+) .*MISMATCH", result.stdout))
    assert failing == {"W1", "W2"} and "FAIL (fit FAIL, predict FAIL)" in result.stdout


def test_an_exception_in_the_model_exits_2_with_its_file_and_line(tmp_path):
    fc_net = package(tmp_path, "X = X.astype(self.dtype)", "X = X.astype(self.dtype)[99]") \
        / "classifiers" / "fc_net.py"
    result = nnstudio("gradcheck", "builtin:iris", "--model", str(fc_net), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error in {fc_net}:" in result.stderr and "IndexError" in result.stderr
    as_json = nnstudio("gradcheck", "builtin:iris", "--model", str(fc_net), "--json", cwd=tmp_path)
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and data["status"] == "error" and not data["passed"]
    assert data["error"]["file"] == str(fc_net) and data["error"]["type"] == "IndexError"


def test_network_options_are_refused_with_a_model(tmp_path):
    fc_net = package(tmp_path) / "classifiers" / "fc_net.py"
    result = nnstudio("gradcheck", "builtin:iris", "--model", str(fc_net), "--layers", "dense:4",
                      cwd=tmp_path)
    assert result.returncode == 2 and "--layers cannot be used with --model" in result.stderr
    result = nnstudio("gradcheck", "builtin:iris", "--model", f"{fc_net}:nothing_here", cwd=tmp_path)
    assert result.returncode == 2 and "defines no nothing_here" in result.stderr
    result = nnstudio("gradcheck", "builtin:iris", "--model", str(fc_net), "--phase", "predict",
                      "--json", cwd=tmp_path)
    assert result.returncode == 0 and list(json.loads(result.stdout)["phases"]) == ["predict"]


def test_a_cs231n_layers_file_is_a_custom_layer_and_a_wrong_shape_exits_2(tmp_path):
    layers = package(tmp_path) / "layers.py"
    spec = "cs231n_affine:8,cs231n_batchnorm,cs231n_relu,cs231n_dropout:0.8"
    result = nnstudio("gradcheck", "builtin:iris", "--custom-layer", str(layers), "--layers", spec,
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    layers.write_text(layers.read_text(encoding="utf-8").replace(
        "    return dx, dgamma, dbeta\n", "    return dx, dgamma[None], dbeta\n"), encoding="utf-8")
    result = nnstudio("gradcheck", "builtin:iris", "--custom-layer", str(layers), "--layers", spec,
                      cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error in {layers}:" in result.stderr
    assert "dgamma has shape (1, 8), gamma has (8,)" in result.stderr
