"""The guided example: "can I gradient-check a network with BatchNorm and Dropout?"

``resources/examples/gradcheck_batchnorm_dropout.nnproj`` holds a small trained network
(Dense, BatchNorm, ReLU, Dropout, Dense, Tanh) on the built-in "circles" data, and
``gradcheck_batchnorm_dropout.md`` is the guide shown in the view's Guide tab. The guide's
links (``nnstudio:scenario/<name>``) set the check up for one scenario and run it.

``tools/build_example_project.py`` regenerates the project file (it is not part of the
product); a test checks that the shipped file still behaves as the guide says.
"""
from __future__ import annotations

from dataclasses import dataclass

from nnstudio.resources import RESOURCES_DIR

EXAMPLE_DIR = RESOURCES_DIR / "examples"
EXAMPLE_PROJECT = EXAMPLE_DIR / "gradcheck_batchnorm_dropout.nnproj"
EXAMPLE_GUIDE = EXAMPLE_DIR / "gradcheck_batchnorm_dropout.md"
SCENARIO_SCHEME = "nnstudio"


@dataclass(frozen=True)
class Scenario:
    """One setting of the guide: BatchNorm statistics and dropout mode, and the outcome."""

    bn_stats: str
    dropout: str
    expect_pass: bool


SCENARIOS = {
    "fixed": Scenario("batch", "fixed", True),
    "redraw": Scenario("batch", "redraw", False),
    "running": Scenario("running", "fixed", True),
    "off": Scenario("batch", "off", True),
}


def load_guide() -> str:
    if EXAMPLE_GUIDE.exists():
        return EXAMPLE_GUIDE.read_text(encoding="utf-8")
    return "The guided example is not installed (resources/examples)."


def open_guided_example(window) -> bool:
    """Open the example project in ``window`` and show the guide."""
    if not window.files.open_project(str(EXAMPLE_PROJECT)):
        return False
    parts = window.gradcheck
    window.views.setCurrentIndex(parts.tab_index)
    parts.view.tabs.setCurrentWidget(parts.view.guide)
    return True
