"""``model.preprocess`` on the original CSV rows reproduces the studio's features and its
predicted class labels exactly: fills of missing cells, one-hot order (with '<other>'),
standardization, class names."""
import numpy as np
import pytest

from nnstudio.data import LoadOptions, load_csv
from nnstudio.engine import Context, build_network
from nnstudio.export import export_pytorch
from nnstudio.training import TrainConfig, Trainer

from .exported import exported_modules
from .penguins import write_penguins_csv


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    path = write_penguins_csv(tmp_path_factory.mktemp("data") / "penguins.csv")
    return path


@pytest.mark.parametrize("missing,bn_stats", [("mean", "running"), ("most_frequent", "batch")])
def test_preprocess_on_the_csv_rows_gives_the_studios_labels(torch, tmp_path, penguins,
                                                               missing, bn_stats):
    dataset = load_csv(penguins, LoadOptions(target="species", missing=missing, max_categories=4))
    assert any("<other>" in name for name in dataset.feature_names)
    network = build_network("dense:12,batchnorm,relu,dropout:0.1,dense:8,tanh", dataset.n_features,
                            "classification", dataset.n_outputs, seed=1)
    trainer = Trainer(network, dataset, TrainConfig(epochs=4, lr=0.02))
    list(trainer.run())
    export_pytorch(network, tmp_path, dataset=dataset, train_config=trainer.config,
                   eval_bn_stats=bn_stats)
    with exported_modules(tmp_path) as (model, _):
        module = model.load()
        frame = model.read_csv(penguins)
        assert model.CLASS_NAMES == dataset.class_names
        assert model.FEATURE_NAMES == dataset.feature_names
        for split in ("train", "val", "test"):
            rows = getattr(dataset, f"rows_{split}")
            x_ours = getattr(dataset, f"x_{split}")
            part = frame.iloc[rows]
            features = model.preprocess(part).numpy()
            np.testing.assert_array_equal(features, dataset.preprocessing.transform(part))
            np.testing.assert_allclose(features, x_ours, rtol=0, atol=1e-6)
            studio = network.predict_classes(x_ours, Context.inference(bn_stats=bn_stats))
            labels = model.predict(module, part)
            assert labels == [dataset.class_names[i] for i in studio], split
            np.testing.assert_array_equal(model.encode_target(part).numpy(),
                                          getattr(dataset, f"y_{split}"))


def test_a_missing_cell_without_a_fill_and_an_unknown_label_are_named(torch, tmp_path, penguins):
    dataset = load_csv(penguins, LoadOptions(target="species", missing="drop"))
    network = build_network("dense:4", dataset.n_features, "classification", dataset.n_outputs)
    export_pytorch(network, tmp_path, dataset=dataset)
    with exported_modules(tmp_path) as (model, _):
        frame = model.read_csv(penguins)
        gap = frame.index[frame["bill_length_mm"].isin(["NA", "", "?", "N/A"])][0]
        with pytest.raises(ValueError, match=f"row {gap + 1}, column 'bill_length_mm'"):
            model.preprocess(frame)
        frame.loc[0, "species"] = "Emperor"
        with pytest.raises(ValueError, match="'Emperor' is not one of the classes"):
            model.encode_target(frame.iloc[:1])


def regression_export(tmp_path, target_standardizer=None):
    from nnstudio.data import Dataset

    rng = np.random.default_rng(3)
    x = rng.standard_normal((60, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    y = x @ [1.0, 0.2, 0.01] + 1000.0
    dataset = Dataset.from_arrays(x, y, "regression", feature_names=["a", "b", "c"])
    network = build_network("dense:6,tanh", 3, "regression", 1, seed=0)
    record = dataset.preprocessing.to_dict()
    record.pop("target_standardizer", None)  # the test chooses: none, or its own
    if target_standardizer is not None:
        record["target_standardizer"] = target_standardizer
    export_pytorch(network, tmp_path, dataset=dataset, preprocessing=record)
    frame = __import__("pandas").DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y})
    return network, dataset, frame


def test_regression_predictions_are_the_networks_outputs(torch, tmp_path):
    network, dataset, frame = regression_export(tmp_path)
    with exported_modules(tmp_path) as (model, _):
        assert model.CLASS_NAMES is None and model.TARGET_MEAN is None
        values = np.array(model.predict(model.load(), frame))
        target = model.encode_target(frame).numpy()
    features = dataset.preprocessing.transform(frame)
    np.testing.assert_allclose(values, network.predict(features)[:, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(target, frame[["y"]].to_numpy(np.float32))


def test_a_standardized_target_is_standardized_for_training_and_inverted_in_predict(torch, tmp_path):
    network, dataset, frame = regression_export(tmp_path, {"mean": [1000.0], "scale": [4.0]})
    with exported_modules(tmp_path) as (model, _):
        assert (model.TARGET_MEAN, model.TARGET_SCALE) == (1000.0, 4.0)
        values = np.array(model.predict(model.load(), frame))
        target = model.encode_target(frame).numpy()[:, 0]
    outputs = network.predict(dataset.preprocessing.transform(frame))[:, 0].astype(np.float64)
    np.testing.assert_allclose(values, outputs * 4.0 + 1000.0, rtol=1e-6)
    expected = (frame[["y"]].to_numpy(np.float32) - np.float32(1000.0)) * np.float32(0.25)
    np.testing.assert_array_equal(target, expected[:, 0])


def test_regression_rows_of_a_csv_predict_in_the_targets_units(torch, tmp_path):
    rng = np.random.default_rng(5)
    rows = ["size,rooms,city,price"] + [
        f"{s:.1f},{r},{c},{1000 * s + 5000 * r + (20000 if c == 'b' else 0) + rng.normal(0, 500):.0f}"
        for s, r, c in zip(rng.uniform(30, 150, 120), rng.integers(1, 6, 120),
                           rng.choice(["a", "b"], 120), strict=True)]
    path = tmp_path / "houses.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dataset = load_csv(path, LoadOptions(target="price", task="regression"))
    network = build_network("dense:8,tanh", dataset.n_features, "regression", 1, seed=0)
    export_pytorch(network, tmp_path / "out", dataset=dataset)
    scaler = getattr(dataset.preprocessing, "target_standardizer", None)
    with exported_modules(tmp_path / "out") as (model, _):
        frame = model.read_csv(path).iloc[dataset.rows_val]
        values = np.array(model.predict(model.load(), frame))
        target = model.encode_target(frame).numpy()
    outputs = network.predict(dataset.x_val)[:, 0].astype(np.float64)
    if scaler is not None:  # the network learned standardized prices: predict undoes it
        outputs = outputs * scaler.scale[0] + scaler.mean[0]
    np.testing.assert_allclose(values, outputs, rtol=1e-6, atol=1e-6 * np.abs(outputs).max())
    np.testing.assert_array_equal(target, dataset.y_val)
