"""Readable numbers from the start: regression targets are standardized on the training split
(saved, inverted for the target's units), and the default target is the column that looks
like a label, with the reason."""
from __future__ import annotations

import numpy as np

from nnstudio.data import LoadOptions, Preprocessing, load_csv, make_builtin
from nnstudio.data.dataset import Dataset

PENGUINS_HEADER = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year"


def penguins_csv(tmp_path, rows: int = 120):
    rng = np.random.default_rng(0)
    lines = [PENGUINS_HEADER]
    for i in range(rows):
        species = ("Adelie", "Gentoo", "Chinstrap")[i % 3]
        flipper = 180 + 15 * (i % 3) + rng.normal(0, 4)
        mass = 3000 + 25 * (flipper - 180) + rng.normal(0, 150)
        lines.append(f"{species},{('Biscoe', 'Dream')[i % 2]},{39 + rng.normal():.1f},"
                     f"{17 + rng.normal():.1f},{flipper:.0f},{mass:.0f},"
                     f"{('male', 'female')[i % 2]},{2007 + i % 3}")
    path = tmp_path / "penguins.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_penguins_default_target_is_species_and_says_why(tmp_path):
    dataset = load_csv(penguins_csv(tmp_path))
    assert dataset.target == "species" and dataset.task == "classification"
    assert dataset.options.target == "species"  # recorded for a saved project


def test_default_target_rules(tmp_path):
    from nnstudio.data import infer_schema, read_table

    def target_of(text):
        path = tmp_path / "t.csv"
        path.write_text(text)
        options = LoadOptions()
        schema = infer_schema(read_table(str(path), 100, options), options)
        return schema.target, schema.target_reason

    rows = "".join(f"{i},{i % 3},{'ab'[i % 2]},{i * 2}\n" for i in range(40))
    assert target_of("a,Label,kind,z\n" + rows) == ("Label", "its name 'Label' says it is the label")
    assert target_of("a,b,kind,z\n" + rows) == ("kind", "'kind' is the last text column")
    assert target_of("a,b,c,z\n" + "".join(f"{i},{i % 3},{i},{i * 2}\n" for i in range(40))) == (
        "z", "'z' is the last column")


def test_regression_target_is_standardized_on_the_training_split(tmp_path):
    dataset = load_csv(penguins_csv(tmp_path), LoadOptions(target="body_mass_g"))
    assert dataset.task == "regression"
    assert abs(float(dataset.y_train.mean())) < 1e-5
    assert abs(float(dataset.y_train.std()) - 1) < 1e-4
    scaler = dataset.target_scaler
    assert 3000 < scaler.mean[0] < 4000 and dataset.target_unit_scale == scaler.scale[0]
    raw = load_csv(penguins_csv(tmp_path), LoadOptions(target="body_mass_g",
                                                        standardize_target=False))
    np.testing.assert_allclose(dataset.inverse_target(dataset.y_test), raw.y_test, rtol=1e-5)
    # saved and restored with the rest of the preprocessing
    again = Preprocessing.from_dict(dataset.preprocessing.to_dict())
    np.testing.assert_allclose(again.target_standardizer.mean, scaler.mean)


def test_builtin_regression_and_arrays_standardize_too():
    surface = make_builtin("regression_surface")
    assert surface.target_scaler is not None
    assert make_builtin("regression_surface", standardize_target=False).target_scaler is None
    y = np.arange(100, dtype=float) * 1000
    arrays = Dataset.from_arrays(np.random.default_rng(0).normal(size=(100, 2)), y, "regression")
    assert abs(float(arrays.y_train.mean())) < 1e-4 and y[1] == 1000  # the caller's y untouched


def test_summary_says_the_target_is_standardized(tmp_path):
    dataset = load_csv(penguins_csv(tmp_path), LoadOptions(target="body_mass_g"))
    assert "target standardized on the training split (mean" in dataset.summary()
