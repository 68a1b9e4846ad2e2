"""Training on hostile scales: the divergence message names the real cause."""
import numpy as np

from nnstudio.data import Dataset
from nnstudio.engine import build_network
from nnstudio.training import DivergedSnapshot, TrainConfig, Trainer


def diverge(scale: float) -> DivergedSnapshot | None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype(np.float32)
    # raw units: a standardized target (the default) would not diverge at all
    dataset = Dataset.from_arrays(x, (x[:, 0] * scale).astype(np.float32), "regression",
                                  standardize_target=False)
    trainer = Trainer(build_network("dense:8,relu", 3, "regression", 1), dataset, TrainConfig(epochs=2))
    return next((s for s in trainer.run(2) if isinstance(s, DivergedSnapshot)), None)


def test_a_target_around_1e30_blames_the_target_scale_not_the_learning_rate():
    diverged = diverge(1e30)
    assert diverged is not None and diverged.kind == "loss"
    assert "the regression target reaches" in diverged.message
    assert "Standardize the target" in diverged.message
    assert "Lower the learning rate" not in diverged.message


def test_an_ordinary_target_does_not_diverge():
    assert diverge(1.0) is None


def test_the_same_target_standardized_by_default_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype(np.float32)
    dataset = Dataset.from_arrays(x, (x[:, 0] * 1e30).astype(np.float32), "regression")
    trainer = Trainer(build_network("dense:8,relu", 3, "regression", 1), dataset, TrainConfig(epochs=2))
    assert not any(isinstance(s, DivergedSnapshot) for s in trainer.run(2))
