"""The guided example: "can I gradient-check a network with BatchNorm and Dropout?"

``resources/examples/gradcheck_batchnorm_dropout.nnproj`` holds a small trained network
(Dense, BatchNorm, ReLU, Dropout, Dense, Tanh) on the built-in "circles" data, and
``gradcheck_batchnorm_dropout.md`` is the guide shown in the view's Guide tab. The guide's
links (``nnstudio:scenario/<name>``) set the check up for one scenario and run it.

``build_example_project`` regenerates the project file (engine + project code only); a
test checks that the shipped file still behaves as the guide says.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nnstudio.engine.context import BATCH, RUNNING
from nnstudio.resources import RESOURCES_DIR

EXAMPLE_DIR = RESOURCES_DIR / "examples"
EXAMPLE_PROJECT = EXAMPLE_DIR / "gradcheck_batchnorm_dropout.nnproj"
EXAMPLE_GUIDE = EXAMPLE_DIR / "gradcheck_batchnorm_dropout.md"
EXAMPLE_LAYERS = "dense:16,batchnorm,relu,dropout:0.3,dense:8,tanh"
SCENARIO_SCHEME = "nnstudio"


@dataclass(frozen=True)
class Scenario:
    """One setting of the guide: BatchNorm statistics and dropout mode, and the outcome."""

    bn_stats: str
    dropout: str
    expect_pass: bool


SCENARIOS = {
    "fixed": Scenario(BATCH, "fixed", True),
    "redraw": Scenario(BATCH, "redraw", False),
    "running": Scenario(RUNNING, "fixed", True),
    "off": Scenario(BATCH, "off", True),
}


def load_guide() -> str:
    if EXAMPLE_GUIDE.exists():
        return EXAMPLE_GUIDE.read_text(encoding="utf-8")
    return "The guided example is not installed (resources/examples)."


def build_example_project(path: str | Path = EXAMPLE_PROJECT, epochs: int = 20) -> Path:
    """Train the example network briefly (so BatchNorm's running statistics mean something)
    and save it with its data source and a description."""
    from nnstudio.data.builtin import make_builtin
    from nnstudio.engine import build_network
    from nnstudio.project import save_project
    from nnstudio.training import TrainConfig, Trainer

    dataset = make_builtin("circles", n_samples=400, noise=0.1, seed=0)
    network = build_network(EXAMPLE_LAYERS, dataset.n_features, dataset.task,
                            dataset.n_outputs, seed=0)
    trainer = Trainer(network, dataset, TrainConfig(lr=0.02, epochs=epochs, batch_size=32))
    for _ in trainer.run():
        pass
    description = ("Guided example: can I gradient-check a network with BatchNorm and Dropout? "
                   "Open it in NN Studio (Check > Guided Example) and follow the Guide tab of the "
                   "Gradient check view.")
    return save_project(path, network, dataset, trainer, description=description)


def open_guided_example(window) -> bool:
    """Open the example project in ``window`` and show the guide."""
    if not window.files.open_project(str(EXAMPLE_PROJECT)):
        return False
    parts = window.gradcheck
    window.views.setCurrentIndex(parts.tab_index)
    parts.view.tabs.setCurrentWidget(parts.view.guide)
    return True
