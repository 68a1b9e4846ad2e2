"""Batch-statistics evaluation does not depend on the order of the rows in a split."""
import numpy as np

from nnstudio.data import Dataset
from nnstudio.engine import Context, build_network
from nnstudio.training import TrainConfig, Trainer


def sorted_dataset():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 60)
    x = (rng.standard_normal((180, 4)) + y[:, None] * 2.0).astype(np.float32)
    return Dataset.from_arrays(x, y, "classification", seed=0)


def test_batch_mode_validation_is_close_to_whole_split_batch_statistics():
    dataset = sorted_dataset()
    network = build_network("dense:16,batchnorm,relu", 4, "classification", 3, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=30, batch_size=8, seed=0))
    for _ in trainer.run():
        pass
    reported = trainer.evaluate("val", "batch")["loss"]
    whole = network.evaluate(dataset.x_val, dataset.y_val, Context.inference(bn_stats="batch")).data
    # batches of 8 rows in file order would each hold one class and give a loss far above this
    assert reported < 3 * whole + 0.2, (reported, whole)


def test_evaluation_leaves_the_trainers_generator_alone():
    dataset = sorted_dataset()
    network = build_network("dense:8,batchnorm,relu", 4, "classification", 3, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(epochs=1, batch_size=8, seed=0))
    before = trainer.rng.bit_generator.state
    trainer.evaluate("val", "batch")
    assert trainer.rng.bit_generator.state == before
