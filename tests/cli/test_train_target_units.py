"""``nnstudio train`` on a regression target in the thousands: standardized by default, so it
learns; RMSE in the target's units; ``--no-standardize-target`` keeps the raw units."""
import json
import subprocess
import sys

from tests.data.test_target_scaling_and_default import penguins_csv


def train(path, *extra):
    result = subprocess.run([sys.executable, "-m", "nnstudio", "train", str(path), "--target",
                             "body_mass_g", "--epochs", "50", "--json", *extra],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_a_target_in_grams_is_learnt_and_reported_in_grams(tmp_path):
    report = train(penguins_csv(tmp_path, rows=240))
    val = report["final"]["val"]
    assert val["metric"] > 0.5                     # R² (unit-free); raw targets gave -8.7
    assert 50 < val["rmse"] < 400                  # grams: the noise is 150 g
    assert report["history"][0]["train_loss"] < 10  # standardized units, not 2e7


def test_no_standardize_target_trains_on_raw_units(tmp_path):
    report = train(penguins_csv(tmp_path, rows=240), "--no-standardize-target")
    assert report["history"][0]["train_loss"] > 1e5
