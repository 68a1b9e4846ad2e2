"""Saving and loading a project: identical predictions, identical continuation, data found again."""
import io
import json
import shutil
import zipfile

import numpy as np
import pytest

from nnstudio.data import LoadOptions, load_csv, make_builtin
from nnstudio.engine import build_network
from nnstudio.project import DataSource, ProjectError, load_project, save_project
from nnstudio.resources import resource_path
from nnstudio.training import TrainConfig, Trainer
from tests.training.test_health import assert_same_frames

SPEC = "dense:12,batchnorm,relu,dropout:0.2,dense:6,tanh"


def trainer_for(dataset, spec=SPEC, **settings):
    network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs, seed=2)
    return Trainer(network, dataset, TrainConfig(**{"epochs": 4, "batch_size": 16, **settings}))


def pull(trainer, count):
    run = trainer.run()
    for _ in range(count):
        next(run)
    run.close()


@pytest.fixture
def iris_csv(tmp_path):
    path = tmp_path / "data" / "iris.csv"
    path.parent.mkdir()
    shutil.copy(resource_path("datasets", "iris.csv"), path)
    return path


def test_save_load_gives_identical_predictions_buffers_and_settings(tmp_path):
    dataset = make_builtin("two_spirals", n_samples=200)
    trainer = trainer_for(dataset, l2=1e-3, optimizer="sgd", lr=0.05)
    list(trainer.run())
    path = save_project(tmp_path / "spirals.nnproj", trainer.network, dataset, trainer)
    project = load_project(path)
    np.testing.assert_array_equal(project.network.predict(dataset.x_test), trainer.network.predict(dataset.x_test))
    for name, value in trainer.network.state_dict().items():
        np.testing.assert_array_equal(project.network.state_dict()[name], value, err_msg=name)
    assert project.train_config == trainer.config and project.history == trainer.history
    assert project.network.config() == trainer.network.config()


@pytest.mark.parametrize("pulls", [6, 8, 19])  # between batches, after an epoch, later mid-epoch
def test_continuing_a_loaded_project_equals_never_stopping(tmp_path, pulls):
    dataset = make_builtin("xor", n_samples=120)
    uninterrupted = trainer_for(dataset)
    list(uninterrupted.run())
    interrupted = trainer_for(dataset)
    pull(interrupted, pulls)
    save_project(tmp_path / "xor.nnproj", interrupted.network, dataset, interrupted)
    resumed = load_project(tmp_path / "xor.nnproj").make_trainer()
    list(resumed.run())
    assert resumed.history == uninterrupted.history
    for name, value in uninterrupted.network.state_dict().items():
        np.testing.assert_array_equal(resumed.network.state_dict()[name], value, err_msg=name)


def test_a_csv_source_is_found_relative_to_the_project_after_both_move(tmp_path, iris_csv):
    dataset = load_csv(iris_csv, LoadOptions(target="species", seed=3))
    trainer = trainer_for(dataset)
    save_project(tmp_path / "lab.nnproj", trainer.network, dataset, trainer)
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "data", moved / "data")
    shutil.copy(tmp_path / "lab.nnproj", moved / "lab.nnproj")
    shutil.rmtree(tmp_path / "data")
    project = load_project(moved / "lab.nnproj")
    assert project.data_note is None and project.data_source.kind == "csv"
    np.testing.assert_array_equal(project.dataset.x_val, dataset.x_val)
    assert project.dataset.options == dataset.options


def test_a_missing_source_leaves_the_dataset_none_with_a_note_naming_the_file(tmp_path, iris_csv):
    dataset = load_csv(iris_csv, LoadOptions(target="species"))
    save_project(tmp_path / "lab.nnproj", trainer_for(dataset).network, dataset)
    iris_csv.unlink()
    project = load_project(tmp_path / "lab.nnproj")
    assert project.dataset is None and "iris.csv" in project.data_note and "not found" in project.data_note
    with pytest.raises(ProjectError, match="no data to train on"):
        project.make_trainer()


def test_embedded_data_travels_with_the_project_and_survives_a_resave(tmp_path, iris_csv):
    dataset = load_csv(iris_csv, LoadOptions(target="species"))
    trainer = trainer_for(dataset)
    pull(trainer, 5)
    save_project(tmp_path / "handout.nnproj", trainer.network, dataset, trainer, embed_data=True,
                 description="Lab 3: find the broken layer")
    iris_csv.unlink()
    project = load_project(tmp_path / "handout.nnproj")
    assert project.data_note is None and project.description == "Lab 3: find the broken layer"
    np.testing.assert_array_equal(project.dataset.x_train, dataset.x_train)
    continued = project.make_trainer()
    list(continued.run())
    save_project(tmp_path / "handout.nnproj", continued.network, project.dataset, continued)
    again = load_project(tmp_path / "handout.nnproj")
    assert again.dataset is not None and again.history == continued.history
    assert any(name.startswith("data/") for name in zipfile.ZipFile(tmp_path / "handout.nnproj").namelist())


def test_in_memory_and_generated_data_are_stored_exactly(tmp_path):
    dataset = make_builtin("circles", n_samples=150, noise=0.3, seed=5)
    save_project(tmp_path / "c.nnproj", trainer_for(dataset).network, dataset)
    project = load_project(tmp_path / "c.nnproj")
    assert project.data_source.kind == "arrays" and project.dataset.source == "builtin:circles"
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(project.dataset, f"x_{split}"), getattr(dataset, f"x_{split}"))
        np.testing.assert_array_equal(getattr(project.dataset, f"y_{split}"), getattr(dataset, f"y_{split}"))
    assert project.dataset.class_names == dataset.class_names


def test_injected_faults_are_saved_so_a_handout_stays_broken(tmp_path):
    dataset = make_builtin("iris")
    network = trainer_for(dataset).network
    network.layers[0].set_fault("bias_not_summed")
    network.loss.set_fault("wrong_sign")
    save_project(tmp_path / "broken.nnproj", network, dataset)
    project = load_project(tmp_path / "broken.nnproj", load_data=False)
    assert project.network.layers[0].fault == "bias_not_summed" and project.network.loss.fault == "wrong_sign"
    assert project.dataset is None and project.data_note == "the data was not loaded"


def test_a_network_only_project_has_no_data_source_and_keeps_front_end_extras(tmp_path):
    network = build_network("dense:4,relu", 3, "regression", 1)
    save_project(tmp_path / "n.nnproj", network, extras={"bn_view": "running", "zoom": [1, 2]})
    project = load_project(tmp_path / "n.nnproj")
    assert project.data_source is None and project.dataset is None
    assert project.train_config == TrainConfig() and project.trainer_state is None
    assert project.extras == {"bn_view": "running", "zoom": [1, 2]}


def test_project_json_is_readable_and_weights_load_with_plain_numpy(tmp_path):
    dataset = make_builtin("iris")
    trainer = trainer_for(dataset)
    pull(trainer, 3)
    save_project(tmp_path / "p.nnproj", trainer.network, dataset, trainer)
    with zipfile.ZipFile(tmp_path / "p.nnproj") as archive:
        document = json.loads(archive.read("project.json"))
        archive.extract("weights.npz", tmp_path)
    assert document["format"] == "nnstudio-project" and document["format_version"] == 1
    assert document["data"]["preprocessing"]["standardizer"]["mean"]  # the fitted standardization
    assert document["training"]["batch_size"] == 16 and document["trainer"]["step"] == 3
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as weights:
        assert set(weights.files) == set(trainer.network.state_dict())


def test_saving_the_same_state_twice_gives_the_same_bytes(tmp_path):
    dataset = make_builtin("iris")
    network = trainer_for(dataset).network
    first = save_project(tmp_path / "a.nnproj", network, dataset).read_bytes()
    assert save_project(tmp_path / "b.nnproj", network, dataset).read_bytes() == first


def test_data_source_from_a_reloaded_dataset_keeps_its_embedded_copy(tmp_path, iris_csv):
    dataset = load_csv(iris_csv, LoadOptions(target="species"))
    save_project(tmp_path / "p.nnproj", trainer_for(dataset).network, dataset, embed_data=True)
    project = load_project(tmp_path / "p.nnproj")
    assert DataSource.from_dataset(project.dataset) is project.data_source
    assert project.data_source.embedded_bytes == iris_csv.read_bytes()


def test_layer_health_history_and_histograms_round_trip(tmp_path):
    dataset = make_builtin("two_spirals", n_samples=200)
    trainer = trainer_for(dataset, "dense:8,relu,dense:8,sigmoid", epochs=3, batch_size=8)
    list(trainer.run())
    path = save_project(tmp_path / "health.nnproj", trainer.network, dataset, trainer)
    project = load_project(path)
    assert project.history == trainer.history and "layers" in project.history[0]
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("project.json"))
    assert saved["history"][0]["layers"][1]["dead_fraction"] is not None
    assert_same_frames(project.make_trainer(), trainer)


def test_a_project_saved_before_layer_health_still_loads_and_trains(tmp_path):
    dataset = make_builtin("two_spirals", n_samples=200)
    trainer = trainer_for(dataset, epochs=2)
    list(trainer.run())
    path = save_project(tmp_path / "old.nnproj", trainer.network, dataset, trainer)
    with zipfile.ZipFile(path) as archive:  # strip what layer health added
        members = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(members["project.json"])
    for entry in document["history"]:
        for key in ("layers", "health_rows", "initial_loss"):
            entry.pop(key, None)
    members["project.json"] = json.dumps(document).encode()
    arrays = np.load(io.BytesIO(members["trainer.npz"]))
    kept = {key: arrays[key] for key in arrays.files if not key.startswith("health/")}
    buffer = io.BytesIO()
    np.savez(buffer, **kept)
    members["trainer.npz"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    project = load_project(path)
    assert "layers" not in project.history[0]
    resumed = project.make_trainer()
    list(resumed.run(1))
    assert "layers" in resumed.history[-1] and len(resumed.history) == 3
