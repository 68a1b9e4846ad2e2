"""``nnstudio export`` through the real entry point: files, torch-free writing, the generated
code compiles and lints cleanly, train.py runs, refusals exit 2."""
import importlib.util
import py_compile
import subprocess
import sys

import numpy as np
import pytest

from nnstudio.data import LoadOptions, load_csv
from nnstudio.engine import build_network
from nnstudio.export import read_safetensors
from nnstudio.project import load_project, save_project
from nnstudio.training import TrainConfig, Trainer

from ..export.penguins import write_penguins_csv

FILES = ["README.md", "data.safetensors", "model.py", "optimizer.safetensors", "train.py",
         "weights.safetensors"]


def nnstudio(*args, cwd, torch_importable=True):
    """Run the command; without torch_importable, any import of torch fails in the child."""
    code = "import sys\nfrom nnstudio.cli import main\nsys.exit(main(sys.argv[1:]))"
    if not torch_importable:
        code = "import sys\nsys.modules['torch'] = None\n" + code
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    csv = write_penguins_csv(folder / "penguins.csv")
    dataset = load_csv(csv, LoadOptions(target="species", missing="mean"))
    network = build_network("dense:8,batchnorm,relu,dropout:0.2", dataset.n_features,
                            "classification", dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=2, optimizer="sgd", nesterov=True,
                                                    l1=1e-4, l2=1e-3, lr=0.05))
    list(trainer.run())
    return save_project(folder / "lab.nnproj", network, dataset, trainer)


def test_export_writes_the_files_without_torch_and_the_code_is_clean(project, tmp_path):
    result = nnstudio("export", str(project), "--to", str(tmp_path / "out"), cwd=tmp_path,
                      torch_importable=False)
    assert result.returncode == 0, result.stderr
    assert "Exported 5 layers" in result.stdout
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == FILES
    for name in ("model.py", "train.py"):
        py_compile.compile(str(tmp_path / "out" / name), doraise=True)
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (it is in the test extra)")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--preview",
                           "--select", "E,F,W,I", "--line-length", "100", "model.py", "train.py"],
                          cwd=tmp_path / "out", capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    moments = read_safetensors(tmp_path / "out" / "optimizer.safetensors")
    saved = load_project(project).trainer_state
    assert int(moments["step"]) == saved["step"] > 0
    np.testing.assert_array_equal(moments["0.weight/momentum_buffer"],
                                  saved["arrays"]["optimizer/0.W/velocity"].T)
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "python train.py" in readme and "model.predict(net, rows)" in readme


def test_the_generated_train_py_continues_training(torch, project, tmp_path):
    out = tmp_path / "out"
    assert nnstudio("export", str(project), "--to", str(out), cwd=tmp_path).returncode == 0
    run = subprocess.run([sys.executable, "train.py", "--epochs", "2"], cwd=out,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("epoch 1: train loss") and "val accuracy" in lines[0]
    assert lines[1].startswith("epoch 2: train loss")
    assert (out / "weights-continued.safetensors").is_file()
    assert (out / "weights-continued.optimizer.safetensors").is_file()
    again = subprocess.run([sys.executable, "train.py", "--epochs", "1", "--csv",
                            str(project.parent / "penguins.csv"), "--weights",
                            "weights-continued.safetensors", "--optimizer-state",
                            "weights-continued.optimizer.safetensors", "--out", "more.safetensors"],
                           cwd=out, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("epoch 1: train loss") and (out / "more.safetensors").is_file()


def test_a_fault_in_the_project_exits_2_with_the_layer_named(tmp_path):
    dataset = load_csv(write_penguins_csv(tmp_path / "p.csv"), LoadOptions(target="species", missing="mean"))
    network = build_network("dense:4,relu", dataset.n_features, "classification", 3)
    network.layers[1].set_fault("inverted_mask")
    save_project(tmp_path / "broken.nnproj", network, dataset)
    result = nnstudio("export", "broken.nnproj", "--to", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "layer 1 ReLU has the fault 'inverted_mask'" in result.stderr
    assert not (tmp_path / "out").exists()
    missing = nnstudio("export", "nowhere.nnproj", "--to", "out", cwd=tmp_path)
    assert missing.returncode == 2 and "nowhere.nnproj" in missing.stderr


def test_a_project_with_the_example_prelu_exports_after_loading_its_file(tmp_path):
    from pathlib import Path

    from nnstudio.data import make_builtin
    from nnstudio.engine.custom_layers import load_custom_layers

    prelu_file = Path(__file__).resolve().parents[2] / "resources" / "examples" / "prelu_layer.py"
    load_custom_layers(prelu_file)
    network = build_network("dense:6,prelu", 4, "classification", 3)
    save_project(tmp_path / "prelu.nnproj", network, make_builtin("iris"))
    refused = nnstudio("export", "prelu.nnproj", "--to", "out", cwd=tmp_path)
    assert refused.returncode == 2 and "prelu" in refused.stderr  # the layer's file is not loaded
    result = nnstudio("export", "prelu.nnproj", "--to", "out", "--custom-layer", str(prelu_file),
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nn.PReLU(num_parameters=6)" in (tmp_path / "out" / "model.py").read_text()
