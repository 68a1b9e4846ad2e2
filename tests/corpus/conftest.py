"""Shared builders of the hardening corpus: small valid projects to damage, and a CLI runner."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnstudio.data import Dataset
from nnstudio.engine import build_network
from nnstudio.project import save_project
from nnstudio.training import TrainConfig, Trainer


def small_dataset(rows: int = 40) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return Dataset.from_arrays(x, y, "classification")


def trained_project(path, epochs: int = 2, optimizer: str = "adam"):
    """A small trained project with embedded arrays (opens anywhere, loads its data)."""
    dataset = small_dataset()
    network = build_network("dense:4,relu", dataset.n_features, dataset.task, dataset.n_outputs)
    trainer = Trainer(network, dataset, TrainConfig(epochs=epochs, batch_size=8, optimizer=optimizer))
    list(trainer.run(epochs))
    return save_project(path, network, dataset, trainer)


@pytest.fixture
def project_file(tmp_path):
    return trained_project(tmp_path / "good.nnproj")


def nnstudio(*args, cwd=None, timeout: float = 120):
    """Run the command line in a child process: (return code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "nnstudio.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr
