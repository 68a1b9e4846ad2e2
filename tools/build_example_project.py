"""Regenerate the guided example's project file (engine, data, training and project code).

    python tools/build_example_project.py [PATH] [--epochs N]

writes ``resources/examples/gradcheck_batchnorm_dropout.nnproj`` unless given ``PATH``: a
small network (Dense, BatchNorm, ReLU, Dropout, Dense, Tanh) on the built-in "circles"
data, trained briefly so that BatchNorm's running statistics mean something. The guide
beside it (``gradcheck_batchnorm_dropout.md``) and a test of the shipped file
(``tests/gui/gradcheck/test_teaching.py``) expect what this builds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nnstudio.data import make_builtin
from nnstudio.engine import build_network
from nnstudio.gui.gradcheck.example import EXAMPLE_PROJECT
from nnstudio.project import save_project
from nnstudio.training import TrainConfig, Trainer

EXAMPLE_LAYERS = "dense:16,batchnorm,relu,dropout:0.3,dense:8,tanh"
DESCRIPTION = ("Guided example: can I gradient-check a network with BatchNorm and Dropout? "
               "Open it in NN Studio (Check > Guided Example) and follow the Guide tab of the "
               "Gradient check view.")


def build_example_project(path: str | Path = EXAMPLE_PROJECT, epochs: int = 20) -> Path:
    """Train the example network for ``epochs`` and save it with its data source and a
    description; returns the path written."""
    dataset = make_builtin("circles", n_samples=400, noise=0.1, seed=0)
    network = build_network(EXAMPLE_LAYERS, dataset.n_features, dataset.task,
                            dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(lr=0.02, epochs=epochs, batch_size=32))
    for _ in trainer.run():
        pass
    return save_project(path, network, dataset, trainer, description=DESCRIPTION)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(EXAMPLE_PROJECT))
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    print(build_example_project(args.path, args.epochs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
