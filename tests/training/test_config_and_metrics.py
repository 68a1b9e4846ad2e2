"""Training settings validate and round-trip; metrics follow their textbook definitions."""
import dataclasses

import numpy as np
import pytest

from nnstudio.training import TrainConfig, batch_bounds, r2_from_sums
from nnstudio.training.metrics import squared_residuals, sum_squares_about_mean


def test_config_round_trips_through_a_dict():
    config = TrainConfig(optimizer="sgd", lr=0.1, momentum=0.5, nesterov=True, l1=0.1, l2=0.2,
                         batch_size=8, epochs=3, seed=4, bn_stats="running")
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert dataclasses.asdict(config) == config.to_dict()


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": "rmsprop"}, "optimizer must be one of"),
    ({"lr": 0}, "lr must be a finite number > 0"),
    ({"lr": float("nan")}, "lr must be"),
    ({"momentum": 1.0}, "momentum must be a finite number"),
    ({"l2": -1}, "l2 must be"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer"),
    ({"epochs": -1}, "epochs must be an integer >= 0"),
    ({"bn_stats": "frozen"}, "bn_stats must be one of"),
    ({"optimizer": "sgd", "momentum": 0.0, "nesterov": True}, "Nesterov momentum needs momentum > 0"),
])
def test_config_refuses_bad_values_naming_the_setting(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_config_from_dict_refuses_unknown_settings():
    with pytest.raises(ValueError, match=r"unknown training setting\(s\) \['learning_rate'\]"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_config_normalises_numpy_numbers_and_is_frozen():
    config = TrainConfig(batch_size=np.int64(16), lr=np.float32(0.5))
    assert type(config.batch_size) is int and type(config.lr) is float
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0


def test_adam_ignores_momentum_and_nesterov():
    assert TrainConfig(optimizer="adam", momentum=0.0, nesterov=True).make_optimizer().type_name == "adam"


@pytest.mark.parametrize("n, size, expected", [
    (10, 4, [(0, 4), (4, 8), (8, 10)]),
    (9, 4, [(0, 4), (4, 9)]),          # a lone last row joins the batch before it
    (8, 4, [(0, 4), (4, 8)]),
    (1, 4, [(0, 1)]),
])
def test_batch_bounds_cover_every_row_once_without_single_row_batches(n, size, expected):
    assert batch_bounds(n, size) == expected


def test_r2_matches_its_definition_and_averages_outputs():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((50, 2))
    prediction = y + 0.3 * rng.standard_normal((50, 2))
    expected = np.mean([1 - np.sum((prediction[:, k] - y[:, k]) ** 2) / np.sum((y[:, k] - y[:, k].mean()) ** 2)
                        for k in range(2)])
    score = r2_from_sums(squared_residuals(prediction, y), sum_squares_about_mean(y))
    assert score == pytest.approx(expected)


def test_r2_of_constant_targets_is_1_when_exact_and_0_otherwise():
    assert r2_from_sums(np.array([0.0]), np.array([0.0])) == 1.0
    assert r2_from_sums(np.array([0.5]), np.array([0.0])) == 0.0
