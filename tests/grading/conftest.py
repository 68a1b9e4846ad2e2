"""A small assignment (generated data, the shipped reference BatchNorm) and helpers that
write student submissions: the grading tests run real children, so they stay small."""
import shutil
import textwrap
from pathlib import Path

import pytest

from nnstudio.grading import Grader, Submission, load_assignment
from nnstudio.grading.sandbox import bwrap_works
from nnstudio.resources import resource_path

EXAMPLE = resource_path("examples", "grading")
REFERENCE = (EXAMPLE / "reference" / "batchnorm.py").read_text()
ISOLATIONS = ["process"] + (["bwrap"] if bwrap_works() else [])

ASSIGNMENT = """
[assignment]
name = "BatchNorm"
file = "batchnorm.py"
reference = "reference/batchnorm.py"

[functions]
params = { gamma = { shape = ["D"], init = "ones" }, beta = { shape = ["D"], init = "zeros" } }
layer_param = { eps = 1e-5, momentum = 0.9 }
state = { running_mean = "mean", running_var = "var" }

[data]
batch = 6
features = 4

[[checks]]
name = "grad train"
mode = "train"
points = 3
seed = 11

[[checks]]
name = "grad test"
mode = "test"
points = 1
seed = 12

[[checks]]
name = "reference train"
kind = "reference"
mode = "train"
points = 1
seed = 13

[limits]
wall_seconds = {wall}
cpu_seconds = 3
memory_mb = 1024
"""


def write_assignment(folder: Path, wall: float = 4, text: str | None = None) -> Path:
    (folder / "reference").mkdir(parents=True, exist_ok=True)
    (folder / "reference" / "batchnorm.py").write_text(REFERENCE)
    path = folder / "assignment.toml"
    path.write_text(text if text is not None else ASSIGNMENT.replace("{wall}", str(wall)))
    return path


def buggy(old: str, new: str) -> str:
    """The reference with one line changed (fails loudly if the line is not there)."""
    assert old in REFERENCE
    return REFERENCE.replace(old, new)


DGAMMA_BUG = buggy("dgamma = np.sum(dout * x_hat, axis=0)",
                   "dgamma = np.sum(dout * (x_hat / inv_std), axis=0)")


def student(submissions: Path, name: str, source: str | None = None, **files: str) -> Submission:
    folder = submissions / name
    folder.mkdir(parents=True)
    if source is not None:
        (folder / "batchnorm.py").write_text(textwrap.dedent(source))
    for filename, text in files.items():
        (folder / filename).write_text(textwrap.dedent(text))
    return Submission(name, folder)


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assignment")
    return Grader(load_assignment(write_assignment(folder)), "process")


@pytest.fixture(scope="module")
def graders(tmp_path_factory):
    """One grader per isolation available here (bubblewrap only where it works)."""
    folder = tmp_path_factory.mktemp("assignment")
    assignment = load_assignment(write_assignment(folder, wall=2))
    return {isolation: Grader(assignment, isolation) for isolation in ISOLATIONS}
