"""The training loop: it learns, it is reproducible, it reports, it can be paused and resumed."""
import math

import numpy as np
import pytest

from nnstudio.data import Dataset, make_builtin
from nnstudio.engine import build_network
from nnstudio.training import (BatchSnapshot, DivergedSnapshot, EpochSnapshot, TrainConfig,
                               Trainer)


def xor_dataset(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    return Dataset.from_arrays(x, (x[:, 0] * x[:, 1] > 0).astype(np.int64), "classification", seed=seed)


def make_trainer(dataset, spec="dense:16,batchnorm,relu,dropout:0.2,dense:8,tanh", **settings):
    network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs, seed=1)
    return Trainer(network, dataset, TrainConfig(**{"epochs": 5, "batch_size": 16, **settings}))


def final_val_metric(trainer):
    snapshots = list(trainer.run())
    assert not any(isinstance(s, DivergedSnapshot) for s in snapshots)
    return trainer.history[-1]["val_metric"]


# -- acceptance ----------------------------------------------------------------------
def test_iris_with_one_hidden_layer_reaches_090_validation_accuracy_within_200_epochs():
    trainer = make_trainer(make_builtin("iris"), "dense:16,relu", epochs=200, batch_size=32)
    assert final_val_metric(trainer) >= 0.9


def test_two_spirals_with_a_deeper_network_reach_095_validation_accuracy():
    dataset = make_builtin("two_spirals", n_samples=500, noise=0.1)
    trainer = make_trainer(dataset, "dense:32,relu,dense:32,relu", epochs=250, batch_size=32)
    assert final_val_metric(trainer) >= 0.95


def test_regression_surface_reaches_r2_090():
    dataset = make_builtin("regression_surface", n_samples=800, noise=0.1)
    trainer = make_trainer(dataset, "dense:32,tanh,dense:32,tanh", epochs=100, batch_size=32)
    assert trainer.metric_name == "r2"
    assert final_val_metric(trainer) >= 0.9
    assert trainer.evaluate("test")["metric"] >= 0.9


# -- reproducibility -----------------------------------------------------------------
def test_same_seed_gives_identical_histories_and_weights():
    first, second = make_trainer(xor_dataset(), l2=1e-3), make_trainer(xor_dataset(), l2=1e-3)
    list(first.run()), list(second.run())
    assert first.history == second.history
    for name, value in first.network.state_dict().items():
        np.testing.assert_array_equal(value, second.network.state_dict()[name], err_msg=name)


def test_a_different_seed_shuffles_and_drops_out_differently():
    first, second = make_trainer(xor_dataset(), seed=0), make_trainer(xor_dataset(), seed=1)
    list(first.run(1)), list(second.run(1))
    assert first.history[0]["train_loss"] != second.history[0]["train_loss"]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("stop_after", [7, 8, 13])  # mid-epoch, at an epoch end, mid-epoch later
def test_resuming_from_state_dict_equals_never_stopping(optimizer, stop_after):
    settings = dict(optimizer=optimizer, l1=1e-4, l2=1e-3)
    uninterrupted = make_trainer(xor_dataset(), **settings)
    list(uninterrupted.run())
    interrupted = make_trainer(xor_dataset(), **settings)
    run = interrupted.run()
    for _ in range(stop_after):
        next(run)
    weights, state, history = interrupted.network.state_dict(), interrupted.state_dict(), interrupted.history
    run.close()
    resumed = make_trainer(xor_dataset(), **settings)
    resumed.network.load_state_dict(weights)
    resumed.load_state_dict(state)
    resumed.history = list(history)
    list(resumed.run())
    assert resumed.history == uninterrupted.history
    assert resumed.step == uninterrupted.step
    for name, value in uninterrupted.network.state_dict().items():
        np.testing.assert_array_equal(value, resumed.network.state_dict()[name], err_msg=name)


# -- what the generator yields -------------------------------------------------------
def test_run_yields_a_batch_snapshot_per_step_and_an_epoch_snapshot_per_epoch():
    trainer = make_trainer(xor_dataset(n=100), epochs=2)  # 70 training rows, batches of 16
    snapshots = list(trainer.run())
    batches = [s for s in snapshots if isinstance(s, BatchSnapshot)]
    epochs = [s for s in snapshots if isinstance(s, EpochSnapshot)]
    per_epoch = trainer.batches_per_epoch
    assert per_epoch == math.ceil(70 / 16) and len(batches) == 2 * per_epoch
    assert [e.epoch for e in epochs] == [1, 2] and isinstance(snapshots[per_epoch], EpochSnapshot)
    assert [b.step for b in batches] == list(range(1, 2 * per_epoch + 1))
    assert [b.batch for b in batches[:per_epoch]] == list(range(1, per_epoch + 1))
    first = batches[0]
    assert first.loss == pytest.approx(first.data_loss + first.penalty) and first.lr == 0.01
    assert 0 < batches[0].elapsed <= batches[-1].elapsed


def test_epoch_snapshot_reports_metrics_gradient_norms_and_batchnorm_statistics():
    trainer = make_trainer(xor_dataset(), l2=0.01, epochs=1)
    epoch = [s for s in trainer.run() if isinstance(s, EpochSnapshot)][0]
    assert epoch.metric_name == "accuracy" and 0 <= epoch.train_metric <= 1
    assert epoch.train_loss > epoch.train_data_loss  # the L2 penalty is part of the objective
    assert epoch.val_loss == pytest.approx(trainer.evaluate("val")["loss"])
    assert epoch.val_loss_other_bn == pytest.approx(trainer.evaluate("val", "batch")["loss"])
    assert epoch.val_loss_other_bn != epoch.val_loss
    assert set(epoch.grad_norms) == {"0:Dense(16)", "1:BatchNorm", "4:Dense(8)", "6:Dense(2)"}
    assert all(value > 0 for value in epoch.grad_norms.values())
    batch_mean, batch_var, running_mean, running_var = epoch.bn_batch_stats[1]
    layer = trainer.network.layers[1]
    assert batch_mean.shape == batch_var.shape == (16,)
    np.testing.assert_array_equal(running_mean, layer.buffers["running_mean"])
    assert running_var is not layer.buffers["running_var"]  # a copy, not the live buffer


def test_snapshots_hold_copies_that_later_training_does_not_change():
    trainer = make_trainer(xor_dataset(), epochs=2)
    run = trainer.run()
    first_epoch = next(s for s in run if isinstance(s, EpochSnapshot))
    saved = {index: [a.copy() for a in arrays] for index, arrays in first_epoch.bn_batch_stats.items()}
    list(run)
    for index, arrays in first_epoch.bn_batch_stats.items():
        for kept, now in zip(saved[index], arrays):
            np.testing.assert_array_equal(kept, now)


def test_history_is_json_safe_and_has_no_timing():
    import json
    trainer = make_trainer(xor_dataset(), epochs=2)
    list(trainer.run())
    assert json.loads(json.dumps(trainer.history, allow_nan=False)) == trainer.history
    assert "elapsed" not in trainer.history[0]


def test_without_batchnorm_the_other_statistics_mode_is_not_reported():
    trainer = make_trainer(xor_dataset(), "dense:8,relu", epochs=1)
    epoch = [s for s in trainer.run() if isinstance(s, EpochSnapshot)][0]
    assert epoch.val_loss_other_bn is None and epoch.bn_batch_stats == {}


def test_stepping_one_batch_at_a_time_and_pausing_between_pulls():
    trainer = make_trainer(xor_dataset(), epochs=3)
    run = trainer.run()
    assert isinstance(next(run), BatchSnapshot) and trainer.step == 1 and trainer.batch == 1
    assert trainer.step == 1  # nothing happens while the caller does not pull
    next(run)
    assert trainer.step == 2


def test_run_with_a_count_trains_that_many_more_epochs_and_finishes_a_partial_one_first():
    trainer = make_trainer(xor_dataset(), epochs=2)
    list(trainer.run())
    list(trainer.run())  # already at config.epochs: nothing to do
    assert trainer.epoch == 2
    run = trainer.run(2)
    next(run), run.close()
    list(trainer.run(2))
    assert trainer.epoch == 4 and [e["epoch"] for e in trainer.history] == [1, 2, 3, 4]


def test_a_new_run_supersedes_an_older_generator():
    trainer = make_trainer(xor_dataset(), epochs=3)
    old = trainer.run()
    next(old)
    new = trainer.run()
    next(new)
    assert list(old) == []  # the old generator ends at its next pull instead of interfering
    list(new)
    assert trainer.epoch == 3


def test_a_single_leftover_row_joins_the_previous_batch():
    dataset = Dataset.from_arrays(np.arange(34.0).reshape(17, 2), np.arange(17) % 2, "classification",
                                  val_fraction=0.0, test_fraction=0.0)
    trainer = make_trainer(dataset, "dense:4,batchnorm,relu", batch_size=8, epochs=1)
    batches = [s for s in trainer.run() if isinstance(s, BatchSnapshot)]
    assert len(batches) == trainer.batches_per_epoch == 2  # 8 + 9, never a batch of 1
    assert trainer.history[0]["val_metric"] is None  # no validation split


def test_batch_statistics_of_a_single_validation_row_are_reported_as_missing():
    dataset = Dataset.from_arrays(np.arange(40.0).reshape(20, 2), np.arange(20) % 2, "classification",
                                  val_fraction=0.05, test_fraction=0.0)
    trainer = make_trainer(dataset, "dense:4,batchnorm,relu", epochs=1)
    assert len(dataset.x_val) == 1 and trainer.evaluate("val", "batch")["loss"] is None
    epoch = [s for s in trainer.run() if isinstance(s, EpochSnapshot)][0]
    assert epoch.val_loss is not None and epoch.val_loss_other_bn is None


def test_update_config_changes_the_learning_rate_and_keeps_optimizer_state():
    trainer = make_trainer(xor_dataset(), epochs=2)
    run = trainer.run()
    next(run)
    steps = trainer.optimizer.steps
    trainer.update_config(lr=0.001)
    assert next(run).lr == 0.001 and trainer.optimizer.steps == steps + 1


# -- divergence ----------------------------------------------------------------------
def huge_target_regression():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    return Dataset.from_arrays(x, 100 * x @ [1.0, 2.0, -1.0], "regression")


def test_divergence_stops_with_a_message_naming_layer_and_batch_and_keeps_good_weights():
    trainer = make_trainer(huge_target_regression(), "dense:16,relu,dense:16,tanh",
                           optimizer="sgd", lr=10.0, epochs=20)
    snapshots = list(trainer.run())
    diverged = snapshots[-1]
    assert isinstance(diverged, DivergedSnapshot)
    assert not any(isinstance(s, DivergedSnapshot) for s in snapshots[:-1])
    assert diverged.layer_label in diverged.message and diverged.layer_label.startswith(str(diverged.layer_index))
    assert f"epoch {diverged.epoch}, batch {diverged.batch}" in diverged.message
    assert "last good weights" in diverged.message
    assert trainer.diverged is diverged
    assert all(np.all(np.isfinite(v)) for v in trainer.network.state_dict().values())
    assert math.isfinite(trainer.evaluate("train")["loss"])


def test_a_nan_weight_is_named_as_the_first_bad_layer():
    trainer = make_trainer(xor_dataset(), "dense:8,relu,dense:8,relu")
    trainer.network.layers[2].params["W"][0, 0] = np.nan
    diverged = next(trainer.run())
    assert isinstance(diverged, DivergedSnapshot) and diverged.kind == "activation"
    assert diverged.layer_index == 2 and "layer 2:Dense(8)" in diverged.message
    assert "epoch 1, batch 1" in diverged.message


def test_a_nan_gradient_is_caught_before_the_update():
    trainer = make_trainer(xor_dataset(), "dense:8,relu,dense:8,tanh")
    tanh = trainer.network.layers[3]
    tanh.backward = lambda dout: dout * np.nan  # a broken custom backward
    before = trainer.network.state_dict()
    diverged = next(trainer.run())
    assert diverged.kind == "gradient" and diverged.layer_index == 3
    assert "the gradient of layer 3:Tanh became NaN" in diverged.message
    for name, value in before.items():
        np.testing.assert_array_equal(value, trainer.network.state_dict()[name], err_msg=name)


def test_after_divergence_the_interrupted_epoch_starts_again_once_the_cause_is_fixed():
    trainer = make_trainer(xor_dataset(), "dense:8,relu,dense:8,relu", epochs=2)
    run = trainer.run()
    next(run), next(run)
    trainer.network.layers[2].params["W"][0, 0] = np.inf
    diverged = next(run)
    assert isinstance(diverged, DivergedSnapshot) and (diverged.epoch, diverged.batch) == (1, 3)
    assert list(run) == []  # the generator ends after reporting
    assert trainer.batch == 0 and trainer.step == 1  # kept: the weights from before batch 2
    trainer.network.layers[2].params["W"][0, 0] = 0.0
    snapshots = list(trainer.run())
    assert not any(isinstance(s, DivergedSnapshot) for s in snapshots) and snapshots[0].batch == 1
    assert [e["epoch"] for e in trainer.history] == [1, 2] and trainer.diverged is None


# -- bad input -----------------------------------------------------------------------
def test_a_network_that_does_not_fit_the_data_is_refused_with_the_reason():
    dataset = xor_dataset()
    wide = build_network("dense:4", 3, "classification", 2)
    with pytest.raises(ValueError, match="takes 3 inputs but the data has 2 features"):
        Trainer(wide, dataset)
    regression = build_network("dense:4", 2, "regression", 2)
    with pytest.raises(ValueError, match="classification needs the softmax_cross_entropy loss"):
        Trainer(regression, dataset)


def test_batchnorm_with_batch_size_one_is_refused_and_a_refused_update_changes_nothing():
    with pytest.raises(ValueError, match="batches of at least 2"):
        make_trainer(xor_dataset(), "dense:4,batchnorm", batch_size=1)
    trainer = make_trainer(xor_dataset(), "dense:4,batchnorm", batch_size=8)
    with pytest.raises(ValueError, match="batch_size is 1"):
        trainer.update_config(batch_size=1, lr=0.5)
    assert trainer.config.batch_size == 8 and trainer.optimizer.lr == 0.01


def test_state_dict_that_does_not_fit_is_refused_and_changes_nothing():
    trainer = make_trainer(xor_dataset())
    list(trainer.run(1))
    state = trainer.state_dict()
    other = make_trainer(xor_dataset(), optimizer="sgd")
    with pytest.raises(ValueError, match="'adam' optimizer state"):
        other.load_state_dict(state)
    broken = {**state, "arrays": {**state["arrays"], "optimizer/0.W/m": np.zeros(3, np.float32)}}
    with pytest.raises(ValueError, match="optimizer/0.W/m: expected float32 of shape"):
        make_trainer(xor_dataset()).load_state_dict(broken)
    with pytest.raises(ValueError, match="newer"):
        make_trainer(xor_dataset()).load_state_dict({**state, "version": 99})
