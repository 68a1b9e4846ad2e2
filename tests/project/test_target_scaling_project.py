"""A standardized regression target is saved with a project and comes back the same; a
project written before targets were standardized keeps training on its raw target."""
import json
import zipfile

import numpy as np

from nnstudio.data import LoadOptions, load_csv
from nnstudio.engine import build_network
from nnstudio.project import load_project, save_project
from nnstudio.training import TrainConfig, Trainer
from tests.data.test_target_scaling_and_default import penguins_csv


def trained(dataset):
    network = build_network("dense:8,relu", dataset.n_features, dataset.task, dataset.n_outputs)
    trainer = Trainer(network, dataset, TrainConfig(epochs=2))
    for _ in trainer.run():
        pass
    return trainer


def test_standardized_target_round_trips(tmp_path):
    csv = penguins_csv(tmp_path)
    dataset = load_csv(csv, LoadOptions(target="body_mass_g"))
    trainer = trained(dataset)
    path = save_project(tmp_path / "mass.nnproj", trainer.network, dataset, trainer)
    project = load_project(path)
    np.testing.assert_allclose(project.dataset.target_scaler.mean, dataset.target_scaler.mean)
    np.testing.assert_array_equal(project.dataset.y_val, dataset.y_val)
    assert project.data_note is None
    again = project.make_trainer()
    assert again.evaluate("val")["rmse"] == trainer.evaluate("val")["rmse"]


def test_a_project_from_before_keeps_its_raw_target_and_its_target_column(tmp_path):
    csv = penguins_csv(tmp_path)
    old_default = load_csv(csv, LoadOptions(target="year", standardize_target=False))
    trainer = trained(old_default)
    path = save_project(tmp_path / "old.nnproj", trainer.network, old_default, trainer)
    # rewrite it as an older version wrote it: no standardize_target, target left to default
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(members["project.json"])
    options = document["data"]["options"]
    options.pop("standardize_target")
    options["target"] = None
    members["project.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    project = load_project(path)
    assert project.dataset.target == "year" and project.dataset.target_scaler is None
    assert project.data_note is None
