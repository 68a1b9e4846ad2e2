"""``nnstudio grade`` through the real entry point: the shipped example, --only, exit codes,
Gradescope's results and the autograder bundle run on a local /autograder-shaped folder."""
import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from .conftest import DGAMMA_BUG, EXAMPLE, REFERENCE, student, write_assignment


def nnstudio(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "nnstudio", "grade", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def test_the_shipped_example_grades_every_status_and_writes_the_gradebook(tmp_path):
    result = nnstudio(str(EXAMPLE / "batchnorm.toml"), str(EXAMPLE / "submissions"),
                      "--out", str(tmp_path / "results"), "--jobs", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 passed, 2 failed, 1 error, 0 timeout, 1 missing" in result.stdout
    assert "isolation:" in result.stdout and "5/5" in result.stderr
    with open(tmp_path / "results" / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["student", "score", "max_score", "status"]
    status = {row["student"]: row["status"] for row in rows}
    assert status == {"alice_correct": "passed", "bob_dgamma_uses_x": "failed",
                      "carol_test_uses_batch_stats": "failed", "dave_crashes": "error",
                      "erin_no_file": "missing"}
    bob = json.loads((tmp_path / "results" / "bob_dgamma_uses_x" / "report.json").read_text())
    assert bob["format"] == "nnstudio.grade/1" and "dgamma is wrong" in bob["explanation"]
    page = (tmp_path / "results" / "bob_dgamma_uses_x" / "report.html").read_text()
    assert "dgamma is wrong" in page and "data:image/png;base64,iVBORw0KGgo" in page
    dave = (tmp_path / "results" / "dave_crashes" / "report.html").read_text()
    assert "ValueError at batchnorm.py:" in dave and "Traceback" not in result.stderr


def test_only_regrades_one_student_and_keeps_the_other_rows(tmp_path):
    assignment = write_assignment(tmp_path / "a")
    submissions, out = tmp_path / "subs", tmp_path / "out"
    student(submissions, "alice", REFERENCE)
    student(submissions, "bob", DGAMMA_BUG)
    assert nnstudio(str(assignment), str(submissions), "--out", str(out), cwd=tmp_path).returncode == 0
    (submissions / "bob" / "batchnorm.py").write_text(REFERENCE)      # bob fixes his code
    result = nnstudio(str(assignment), str(submissions), "--out", str(out), "--only", "bob",
                      cwd=tmp_path)
    assert result.returncode == 0 and "graded 1 submission:" in result.stdout
    rows = {r["student"]: r["status"] for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows == {"alice": "passed", "bob": "passed"}
    assert nnstudio(str(assignment), str(submissions), "--out", str(out), "--only", "zed",
                    cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("change, words", [
    (("seed = 11", "seed = \"eleven\""), "[checks.1.seed] must be int"),
    (("mode = \"train\"", "mode = \"training\""), "[checks.1.mode] must be one of train, test"),
    (("batch = 6", "batch = 6\nrows = 3"), "[data.rows] is not a known key"),
    (("reference = \"reference/batchnorm.py\"", "reference = \"nope.py\""), "[assignment.reference]"),
])
def test_a_bad_assignment_exits_2_naming_the_key(tmp_path, change, words):
    path = write_assignment(tmp_path)
    path.write_text(path.read_text().replace(*change, 1))
    (tmp_path / "subs").mkdir()
    result = nnstudio(str(path), str(tmp_path / "subs"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_a_bad_folder_or_a_broken_reference_exits_2(tmp_path):
    path = write_assignment(tmp_path)
    result = nnstudio(str(path), str(tmp_path / "absent"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 2 and "no such submissions folder" in result.stderr
    student(tmp_path / "subs", "alice", REFERENCE)
    inside = nnstudio(str(path), str(tmp_path / "subs"), "--out", str(tmp_path / "subs" / "r"),
                      cwd=tmp_path)
    assert inside.returncode == 2 and "outside the submissions folder" in inside.stderr
    (tmp_path / "reference" / "batchnorm.py").write_text(DGAMMA_BUG)
    broken = nnstudio(str(path), str(tmp_path / "subs"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert broken.returncode == 2 and "the reference solution" in broken.stderr
    assert "fails check 'grad train'" in broken.stderr


def _check_gradescope_schema(results, max_score):
    assert set(results) >= {"score", "tests", "output"}
    assert isinstance(results["score"], (int, float))
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert sum(t["max_score"] for t in results["tests"]) == max_score


def test_gradescope_mode_writes_results_json_in_the_documented_format(tmp_path):
    assignment = write_assignment(tmp_path / "a")
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "submission" / "batchnorm.py").write_text(DGAMMA_BUG)
    result = nnstudio(str(assignment), "--gradescope", "--autograder-root", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    _check_gradescope_schema(results, 5)
    assert results["score"] < 5 and "dgamma is wrong" in results["tests"][0]["output"]


def test_the_bundle_runs_its_run_autograder_on_a_local_autograder_folder(tmp_path):
    bundle = tmp_path / "autograder.zip"
    result = nnstudio("--bundle", str(EXAMPLE / "batchnorm.toml"), str(bundle), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "assignment/batchnorm.toml",
                "assignment/reference/batchnorm.py", "nnstudio_src/nnstudio/cli.py",
                "nnstudio_src/nnstudio/grading/child.py",
                "nnstudio_src/resources/datasets/iris.csv"} <= set(names)
        assert not any(n.startswith("assignment/submissions") for n in names)  # no student work
        archive.extractall(root / "source")
    assert "pip install" in (root / "source" / "setup.sh").read_text()
    shutil.copytree(EXAMPLE / "submissions" / "carol_test_uses_batch_stats", root / "submission")
    env = {"PATH": os.environ["PATH"], "NNSTUDIO_AUTOGRADER_ROOT": str(root),
           "NNSTUDIO_PYTHON": sys.executable, "HOME": str(tmp_path)}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root,
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    _check_gradescope_schema(results, 10)
    assert results["score"] == pytest.approx(8.5)
    assert "matches reference (test)" in [t["name"] for t in results["tests"]]
