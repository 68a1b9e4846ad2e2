"""Gradescope: grade ``/autograder/submission`` into ``results/results.json``, and write the
autograder zip (``setup.sh``, ``run_autograder``, NN Studio's source, the assignment).

The results follow Gradescope's documented format: ``score``, ``execution_time``, ``output``,
``tests`` (each with ``name``, ``score``, ``max_score``, ``output``, ``visibility``).
The root folder is ``/autograder`` unless ``NNSTUDIO_AUTOGRADER_ROOT`` (or the command's
``--autograder-root``) names another — for testing a bundle on a local folder.
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

from .assignment import Assignment, AssignmentError
from .grader import Grade, Grader
from .report import write_atomic, write_reports
from .submissions import Submission

ROOT_VARIABLE = "NNSTUDIO_AUTOGRADER_ROOT"
PACKAGE_DIR = Path(__file__).resolve().parents[1]          # .../nnstudio
DATASETS_DIR = PACKAGE_DIR.parent / "resources" / "datasets"


def autograder_root(option: str | None = None) -> Path:
    return Path(option or os.environ.get(ROOT_VARIABLE) or "/autograder")


def gradescope_results(grade: Grade) -> dict:
    """Gradescope's results.json for one graded submission."""
    tests = []
    for number, check in enumerate(grade.checks, start=1):
        output = check.message if check.error is None else f"error: {check.message}"
        tests.append({"name": check.name, "number": str(number), "score": round(check.points, 4),
                      "max_score": check.max_points, "output": output, "visibility": "visible"})
    output = f"{grade.status}: {grade.explanation}"
    if grade.output:
        output += f"\n\nWhat your code printed:\n{grade.output}"
    return {"score": round(grade.score, 4), "execution_time": round(grade.elapsed, 2),
            "output": output, "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def run_gradescope(grader: Grader, root: Path) -> Grade:
    """Grade ``root/submission``; write ``root/results/results.json`` and the HTML report."""
    submission_dir = root / "submission"
    if not submission_dir.is_dir():
        raise ValueError(f"{submission_dir}: no submission folder (is this an autograder root?)")
    grade = grader.grade(Submission("submission", submission_dir))
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(results_dir / "results.json",
                 json.dumps(gradescope_results(grade), indent=1, allow_nan=False))
    write_reports(grade, results_dir, grader.assignment.name)
    return grade


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -q || true
apt-get install -y -q bubblewrap || echo "no bubblewrap: submissions run as plain child processes"
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -q python3.11 python3.11-venv
    PYTHON=python3.11
fi
"$PYTHON" -m venv /autograder/nnstudio-venv
/autograder/nnstudio-venv/bin/pip install -q "numpy>=1.26" "pandas>=3.0,<4"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. NN Studio grades it in a child process and
# writes results/results.json; the score never comes from the student's own process.
set -u
ROOT="${{NNSTUDIO_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{NNSTUDIO_PYTHON:-/autograder/nnstudio-venv/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
export PYTHONPATH="$ROOT/source/nnstudio_src"
mkdir -p "$ROOT/results"
exec "$PYTHON" -m nnstudio grade "$ROOT/source/assignment/{toml}" --gradescope --autograder-root "$ROOT"
"""


def write_bundle(assignment: Assignment, target: Path) -> list[str]:
    """The autograder zip for ``assignment``; returns the names it holds."""
    folder = assignment.path.resolve().parent
    extra = [assignment.reference]
    if assignment.data.source not in ("generated",) and not assignment.data.source.startswith("builtin:"):
        extra.append(Path(assignment.data.source))
    for path in extra:
        if not path.resolve().is_relative_to(folder):
            raise AssignmentError(f"{assignment.path}: {path} lies outside the assignment's folder; "
                                  "a bundle takes only files beside or below the assignment file")
    members: dict[str, bytes | Path] = {
        "setup.sh": SETUP_SH.encode(),
        "run_autograder": RUN_AUTOGRADER.format(toml=assignment.path.name).encode(),
        f"assignment/{assignment.path.name}": assignment.path,
    }
    for path in extra:
        members[f"assignment/{path.resolve().relative_to(folder).as_posix()}"] = path
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
            members[f"nnstudio_src/nnstudio/{path.relative_to(PACKAGE_DIR).as_posix()}"] = path
    for path in sorted(DATASETS_DIR.glob("*.csv")):
        members[f"nnstudio_src/resources/datasets/{path.name}"] = path
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = content if isinstance(content, bytes) else content.read_bytes()
            archive.writestr(info, data)
    os.replace(temporary, target)
    return list(members)
