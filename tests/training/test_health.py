"""Layer health: the planted problems are found, correct networks raise nothing, the numbers
are what they claim, and the statistics survive a resume and a project round trip."""
import json

import numpy as np
import pytest

from nnstudio.data import Dataset, make_builtin
from nnstudio.engine import build_network
from nnstudio.training import EpochSnapshot, TrainConfig, Trainer
from nnstudio.training.health import (BINS, HistogramTrack, align_frames, check_initial_loss,
                                      find_problems, overfit_tiny_batch)
from nnstudio.training.health.recorder import FULL_EVERY_STEPS, MEASURE_STEPS, SAMPLE_EVERY


def train(dataset, spec, epochs=30, prepare=None, **settings):
    network = build_network(spec, dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    if prepare is not None:
        prepare(network)
    trainer = Trainer(network, dataset, TrainConfig(epochs=epochs, **settings))
    list(trainer.run())
    return trainer, find_problems(trainer.history, dataset.task, dataset.n_outputs)


def kinds(findings):
    return {finding.kind for finding in findings}


def raw_inputs():
    """Features in the thousands, not standardized: a sigmoid stack saturates at once."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 4)) * 1000 + 500
    return Dataset.from_arrays(x, (x[:, 0] > 500).astype(np.int64), "classification", standardize=False)


# -- planted problems ----------------------------------------------------------------
def test_a_large_negative_bias_kills_the_relus_and_no_gradient_gets_through():
    def negative_bias(network):
        network.layers[0].params["b"][...] = -10.0
    _, findings = train(make_builtin("iris"), "dense:16,relu", prepare=negative_bias,
                        optimizer="sgd", lr=0.01)
    dead = next(f for f in findings if f.kind == "dead")
    assert dead.layer_index == 1 and dead.epoch == 1
    assert dead.message.startswith("layer 1 ReLU: 100 % of units dead since epoch 1")
    assert "vanishing" in kinds(findings)


def test_a_sigmoid_stack_on_unstandardized_inputs_saturates_and_its_gradients_vanish():
    _, findings = train(raw_inputs(), "dense:16,sigmoid,dense:16,sigmoid")
    saturated = next(f for f in findings if f.kind == "saturated")
    assert saturated.layer_label == "1:Sigmoid" and "saturated since epoch 1" in saturated.message
    vanishing = next(f for f in findings if f.kind == "vanishing")
    assert "gradients shrink 10" in vanishing.message and "sigmoid" in vanishing.message


def test_sgd_with_learning_rate_10_is_told_its_learning_rate_is_too_high():
    _, findings = train(make_builtin("iris"), "dense:16,tanh", optimizer="sgd", lr=10.0, momentum=0.0)
    update = next(f for f in findings if f.kind == "update_high")
    assert "the learning rate is too high" in update.message and update.layer_index is not None


@pytest.mark.parametrize("name, spec, settings", [
    ("iris", "dense:16,relu", {}),
    ("iris", "dense:16,batchnorm,relu,dense:16,relu", {"optimizer": "sgd", "lr": 0.05}),
    ("two_spirals", "dense:32,relu,dense:32,relu", {}),
    ("xor", "dense:16,batchnorm,relu,dropout:0.2,dense:8,tanh", {}),
    ("circles", "dense:16,tanh,dense:16,tanh", {"optimizer": "sgd", "lr": 0.05}),
    ("regression_surface", "dense:32,tanh,dense:32,tanh", {}),
])
def test_correct_networks_raise_no_finding(name, spec, settings):
    _, findings = train(make_builtin(name), spec, epochs=60, **settings)
    assert findings == []


# -- what the numbers mean -----------------------------------------------------------
def test_every_history_entry_has_one_layer_entry_per_layer_with_the_keys_of_its_type():
    trainer, _ = train(make_builtin("iris"), "dense:8,batchnorm,relu,dense:8,tanh", epochs=3)
    entry = trainer.history[0]
    assert [layer["label"] for layer in entry["layers"]] == [
        "0:Dense(8)", "1:BatchNorm", "2:ReLU", "3:Dense(8)", "4:Tanh", "5:Dense(3)"]
    common = {"layer_index", "label", "type", "grad_norm", "weight_norm", "update_ratio",
              "output_grad_norm", "activation_mean", "activation_std"}
    relu, tanh, batchnorm = entry["layers"][2], entry["layers"][4], entry["layers"][1]
    assert set(relu) == common | {"dead_fraction"} and set(tanh) == common | {"saturated_fraction"}
    assert set(batchnorm) == common | {"bn_mean_gap", "bn_var_ratio"}
    assert set(entry["layers"][0]) == common
    assert relu["grad_norm"] is None and entry["layers"][0]["grad_norm"] == entry["grad_norms"]["0:Dense(8)"]
    assert entry["health_rows"] == 32 and entry["initial_loss"] > 0
    assert "initial_loss" not in trainer.history[1]
    assert json.loads(json.dumps(trainer.history, allow_nan=False)) == trainer.history


def test_statistics_match_a_direct_computation_on_the_sampled_batch():
    dataset = make_builtin("iris")
    network = build_network("dense:8,relu", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=1, batch_size=200))  # one batch: step 0
    before = {name: value.copy() for name, value in network.state_dict().items()}
    x = trainer._arrays["train"][0]
    hidden = x @ before["0.W"] + before["0.b"]
    list(trainer.run())
    dense, relu = trainer.history[0]["layers"][:2]
    # the mean of a standardized input's image is near 0: judged against the spread
    exact = hidden.astype(np.float64)
    assert dense["activation_mean"] == pytest.approx(exact.mean(), abs=1e-6 * exact.std())
    assert dense["activation_std"] == pytest.approx(hidden.std(), rel=1e-4)
    assert relu["dead_fraction"] == pytest.approx(np.mean(~(hidden > 0).any(axis=0)))
    step = np.concatenate([(network.layers[0].params[k] - before[f"0.{k}"]).ravel() for k in ("W", "b")])
    scale = np.concatenate([before["0.W"].ravel(), before["0.b"].ravel()])
    assert dense["update_ratio"] == pytest.approx(np.linalg.norm(step) / np.linalg.norm(scale), rel=1e-4)


def test_measured_epochs_and_health_can_be_switched_off():
    dataset = make_builtin("iris")
    trainer, _ = train(dataset, "dense:8,relu", epochs=SAMPLE_EVERY // 4 + 2)
    epochs = range(1, len(trainer.history) + 1)
    # Iris has 4 batches an epoch: every MEASURE_STEPS // 4 epochs is measured (gradient and
    # weight norms, update ratio, dead units on every row) ...
    every = MEASURE_STEPS // 4
    measured = [entry["epoch"] for entry in trainer.history if entry["layers"][1]["dead_fraction"] is not None]
    assert measured == [epoch for epoch in epochs if (epoch - 1) % every == 0]
    assert all((entry["layers"][0]["update_ratio"] is not None) == (entry["epoch"] in measured)
               and (entry["layers"][0]["weight_norm"] is not None) == (entry["epoch"] in measured)
               and entry["layers"][0]["grad_norm"] for entry in trainer.history)
    # ... and every FULL_EVERY_STEPS // 4 epochs (and step SAMPLE_EVERY) it looks inside
    full = FULL_EVERY_STEPS // 4
    sampled = [entry["epoch"] for entry in trainer.history if entry["health_rows"]]
    assert sampled == [epoch for epoch in epochs if (epoch - 1) % full == 0 or epoch == SAMPLE_EVERY // 4 + 1]
    assert all((entry["layers"][0]["activation_mean"] is None) == (entry["health_rows"] == 0)
               for entry in trainer.history)
    network = build_network("dense:8,relu", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    plain = Trainer(network, dataset, TrainConfig(epochs=2), health=False)
    list(plain.run())
    assert "layers" not in plain.history[0] and plain.health is None


def test_a_unit_is_dead_only_if_no_row_of_the_epoch_activates_it():
    """Each unit fires on about one row of the epoch, rarely one of the sampled batch's."""
    dataset = make_builtin("iris")
    network = build_network("dense:8,relu", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=1, batch_size=16, optimizer="sgd",
                                                    lr=1e-12, momentum=0.0))
    dense = network.layers[0].params
    x = trainer._arrays["train"][0].astype(np.float64)
    dense["b"][...] = -np.quantile(x @ dense["W"], 0.99, axis=0)
    hidden = x @ dense["W"] + dense["b"]
    list(trainer.run())
    relu = trainer.history[0]["layers"][1]
    assert relu["dead_fraction"] == pytest.approx(np.mean(~(hidden > 0).any(axis=0)))
    assert relu["dead_fraction"] < 0.5
    assert trainer.history[0]["health_rows"] == 16


def test_a_live_view_takes_every_epoch_once_in_order_as_soon_as_it_ends():
    dataset = make_builtin("iris")
    network = build_network("dense:8,tanh", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=40))
    taken = []
    for snapshot in trainer.run():
        if isinstance(snapshot, EpochSnapshot):
            fresh = trainer.health.take()
            assert fresh and fresh[-1].epoch == snapshot.epoch
            assert trainer.history[-1]["layers"] == fresh[-1].layers
            taken += [health.epoch for health in fresh]
    assert taken == list(range(1, 41))
    assert trainer.health.take() == []


def test_resuming_mid_epoch_gives_the_same_statistics_and_histograms():
    dataset = make_builtin("two_spirals", n_samples=400)
    def fresh():
        net = build_network("dense:16,relu,dense:16,tanh", dataset.n_features, dataset.task,
                            dataset.n_outputs, seed=0)
        return Trainer(net, dataset, TrainConfig(epochs=6, batch_size=8))
    whole = fresh()
    list(whole.run())
    first = fresh()
    run = first.run()
    for _ in range(70):  # past the second sample of epoch 2
        next(run)
    weights, state, history = first.network.state_dict(), first.state_dict(), first.history
    run.close()
    resumed = fresh()
    resumed.network.load_state_dict(weights)
    resumed.load_state_dict(state)
    resumed.history = list(history)
    list(resumed.run())
    assert resumed.history == whole.history
    assert_same_frames(resumed, whole)


def assert_same_frames(trainer, other):
    """Both trainers kept the same histogram frames, on the same edges, for every layer."""
    for index in range(len(other.network.layers)):
        for kind, (low, high, epochs, counts) in other.health.frames(index).items():
            again = trainer.health.frames(index)[kind]
            assert (low, high, epochs) == again[:3]
            np.testing.assert_array_equal(counts, again[3])


def test_a_large_network_computed_at_once_gives_the_same_numbers(monkeypatch):
    """Past COMPACT_PARAMS the recorder keeps no parameter copies: same statistics."""
    import nnstudio.training.health.reduce as reduce
    dataset = make_builtin("two_spirals", n_samples=400)

    def run(compact_from):
        monkeypatch.setattr(reduce, "COMPACT_PARAMS", compact_from)
        trainer, _ = train(dataset, "dense:64,relu,dense:32,tanh", epochs=3, batch_size=8)
        assert trainer.health._reducer.compact == (compact_from == 0)
        return trainer

    kept, compact = run(10**9), run(0)
    for ours, theirs in zip(compact.history, kept.history):
        for layer, other in zip(ours["layers"], theirs["layers"]):
            assert layer.keys() == other.keys()
            for key, value in layer.items():
                assert value == (other[key] if value is None or isinstance(value, str)
                                 else pytest.approx(other[key], rel=1e-6)), key
    for index in range(5):
        for kind, (low, high, epochs, counts) in kept.health.frames(index).items():
            np.testing.assert_array_equal(compact.health.frames(index)[kind][3], counts)


# -- histograms ----------------------------------------------------------------------
def test_histogram_edges_double_and_older_frames_merge_exactly():
    track = HistogramTrack("signed")
    track.add(np.array([-0.3, 0.1, 0.2, 0.45]))
    assert (track.low, track.high) == (-0.5, 0.5)
    first = track.close_epoch(1)
    track.add(np.array([1.5, -0.05]))
    assert (track.low, track.high) == (-2.0, 2.0)
    assert track.frames[0].sum() == 4 and len(track.frames[0]) == BINS
    edges = track.edges()
    merged = np.histogram([-0.3, 0.1, 0.2, 0.45], bins=edges)[0]
    np.testing.assert_array_equal(track.frames[0], merged)
    np.testing.assert_array_equal(track.counts, np.histogram([1.5, -0.05], bins=edges)[0])
    low, high, epochs, aligned = align_frames([(1, -0.5, 0.5, first), (2, -2.0, 2.0, track.counts)])
    assert (low, high, epochs) == (-2.0, 2.0, [1, 2])
    np.testing.assert_array_equal(aligned[0], merged)


def test_a_live_view_gets_points_inside_a_long_epoch_and_the_history_does_not():
    dataset = make_builtin("two_spirals", n_samples=3000)
    network = build_network("dense:16,relu", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=2, batch_size=4))
    batches = trainer.batches_per_epoch
    assert batches > 2 * SAMPLE_EVERY
    run = trainer.run()
    next(run)
    assert trainer.health.take() == []  # a live view asks: it wants points inside epochs
    while trainer.step < SAMPLE_EVERY + 1:
        next(run)
    inside = trainer.health.take()
    assert [health.partial for health in inside] == [True]
    assert inside[0].epoch == pytest.approx((SAMPLE_EVERY + 1) / batches)
    dense, relu = inside[0].layers[:2]
    assert dense["activation_mean"] is not None and dense["update_ratio"] > 0
    assert relu["dead_fraction"] is None and inside[0].histograms == {}
    list(run)
    later = trainer.health.take()
    assert [h.epoch for h in later if not h.partial] == [1, 2]
    fractions = [h.epoch for h in later if h.partial]
    assert fractions == sorted(fractions) and all(f % 1 for f in fractions)
    assert [entry["epoch"] for entry in trainer.history] == [1, 2]


def test_sampled_epochs_bring_their_histogram_frames():
    dataset = make_builtin("iris")
    network = build_network("dense:8,sigmoid", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=3))
    assert trainer.health.take() == []  # a live view asks first: from then on it is kept
    list(trainer.run())
    epochs = trainer.health.take()
    assert [health.epoch for health in epochs] == [1, 2, 3]
    low, high, counts = epochs[0].histograms[1]["activations"]
    assert (low, high) == (0.0, 1.0) and counts.sum() == 32 * 8
    assert set(epochs[0].histograms[0]) == {"weights", "gradients", "activations"}
    assert epochs[1].histograms == {}  # not sampled (4 batches an epoch)


# -- sanity checks -------------------------------------------------------------------
def test_initial_loss_check_compares_with_ln_c_and_catches_huge_initial_weights():
    dataset = make_builtin("iris")
    network = build_network("dense:16,batchnorm,relu", dataset.n_features, dataset.task,
                            dataset.n_outputs, seed=0)
    good = check_initial_loss(network, dataset)
    assert good.passed and "ln 3 = 1.10" in good.message
    network.layers[-1].params["W"] *= 30
    before = network.state_dict()
    bad = check_initial_loss(network, dataset)
    assert not bad.passed and "check the initialisation" in bad.message
    for name, value in network.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_a_correct_network_overfits_20_rows_and_a_broken_backward_does_not():
    dataset = make_builtin("iris")
    network = build_network("dense:16,relu", dataset.n_features, dataset.task, dataset.n_outputs, seed=0)
    before = network.state_dict()
    result = overfit_tiny_batch(network, dataset, TrainConfig(l2=0.1))
    assert result.passed and result.values["rows"] == 20 and "the network can learn" in result.message
    for name, value in network.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    network.layers[1].set_fault("inverted_mask")
    broken = overfit_tiny_batch(network, dataset, TrainConfig(), steps=200)
    assert not broken.passed and "cannot even fit 20 rows" in broken.message


def test_many_pieces_count_like_a_histogram_per_tensor_on_the_grown_edges():
    from nnstudio.training.health.histograms import count_pieces, strided
    rng = np.random.default_rng(0)
    tensors = {(slot, track): scale * rng.standard_normal(size)
               for slot, scale in ((0, 1.0), (1, 3.0))
               for track, size in ((0, 50), (1, 9000), (2, 5))}
    tensors[(1, 2)][0] = np.nan  # left out
    tracks = [HistogramTrack() for _ in range(3)]
    counts = count_pieces(tracks, [(slot, track, strided(values)) for (slot, track), values
                                   in tensors.items()], 2)
    for (slot, track), values in tensors.items():
        kept = strided(values)
        expected = np.histogram(kept[np.isfinite(kept)], bins=tracks[track].edges())[0]
        np.testing.assert_array_equal(counts[slot, track], expected)
    largest = max(np.nanmax(np.abs(tensors[(slot, 1)])) for slot in (0, 1))
    assert tracks[1].high / 2 < largest <= tracks[1].high
