"""Every status a submission can get, with the reason a student reads."""
import os
import secrets
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from nnstudio.grading import Submission

from .conftest import DGAMMA_BUG, ISOLATIONS, REFERENCE, buggy, student


def test_a_correct_submission_passes_with_full_marks(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "alice", REFERENCE))
    assert grade.status == "passed" and grade.score == grade.max_score == 5
    assert [c.points for c in grade.checks] == [3, 1, 1]
    assert grade.explanation == "All 3 checks passed."


def test_a_wrong_dgamma_fails_naming_the_tensor_with_partial_credit(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "bob", DGAMMA_BUG))
    assert grade.status == "failed"
    train = grade.checks[0]
    assert [t.status for t in train.tensors] == ["ok", "mismatch", "ok"]
    assert train.points == pytest.approx(2.0)            # 2 of 3 tensors, of 3 points
    assert "dgamma is wrong" in train.message and "central differences" in train.message
    assert train.tensors[1].rel_error.shape == (4,)
    assert "dgamma is wrong" in grade.explanation


def test_a_missing_mean_path_fails_dx_only_in_train_mode(grader, tmp_path):
    source = buggy("n * dx_hat - dx_hat.sum(axis=0) - ", "n * dx_hat - ")
    grade = grader.grade(student(tmp_path, "carl", source))
    train, test, _ = grade.checks
    assert [t.status for t in train.tensors] == ["mismatch", "ok", "ok"]
    assert test.passed                                   # test mode has no mean path


def test_a_wrong_shape_is_named_with_both_shapes(grader, tmp_path):
    source = buggy("dbeta = np.sum(dout, axis=0)", "dbeta = np.sum(dout, axis=0, keepdims=True)")
    grade = grader.grade(student(tmp_path, "dan", source))
    assert grade.status == "failed"
    dbeta = grade.checks[0].tensors[2]
    assert dbeta.status == "wrong shape" and "dbeta has shape (1, 4), beta has (4,)" in dbeta.message


@pytest.mark.parametrize("source, words", [
    ("def forward(x, gamma, beta, bn_param:\n    pass\n", "SyntaxError at batchnorm.py:1"),
    ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
    ("import numpy\nraise RuntimeError('boom')\n", "RuntimeError at batchnorm.py:2: boom"),
])
def test_a_file_that_cannot_be_imported_is_an_error_with_its_line(grader, tmp_path, source, words):
    grade = grader.grade(student(tmp_path, "eve", source))
    assert grade.status == "error" and grade.score == 0
    assert "could not be imported" in grade.explanation and words in grade.explanation


def test_an_exception_in_backward_is_an_error_and_keeps_the_checks_that_ran(grader, tmp_path):
    source = buggy("    n = dout.shape[0]\n", "    n = dout.shape[0]\n    raise IndexError('oops')\n")
    grade = grader.grade(student(tmp_path, "fay", source))
    assert grade.status == "error"
    assert grade.checks[0].points == 0 and grade.checks[1].points == 1   # test mode returns earlier
    assert grade.error["file"] == "batchnorm.py" and grade.error["type"] == "IndexError"
    assert "IndexError at batchnorm.py:" in grade.explanation and "oops" in grade.explanation


def test_backward_returning_two_arrays_breaks_the_convention_in_words(grader, tmp_path):
    source = buggy("    return dx, dgamma, dbeta\n", "    return dx, dgamma\n")
    grade = grader.grade(student(tmp_path, "gus", source))
    assert grade.status == "error"
    assert "backward() returned 2 arrays; expected dx, dgamma, dbeta" in grade.explanation


def test_a_memory_hog_is_an_error_that_says_memory(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "hal", "import numpy as np\nx = np.ones(2**31)\n"))
    assert grade.status == "error" and "memory" in grade.explanation.lower()


def test_printing_goes_to_the_report_not_the_terminal(grader, tmp_path, capfd):
    grade = grader.grade(student(tmp_path, "ivy", "print('hello from ivy')\n" + REFERENCE))
    assert grade.status == "passed" and "hello from ivy" in grade.output
    assert "hello from ivy" not in capfd.readouterr().out


def test_a_folder_without_the_file_is_missing(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "jo", None, **{"notes.txt": "sorry"}))
    assert grade.status == "missing" and "No batchnorm.py" in grade.explanation
    assert "notes.txt" in grade.explanation


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_an_endless_loop_is_a_timeout_bounded_by_the_wall_limit(graders, tmp_path, isolation):
    started = time.monotonic()
    grade = graders[isolation].grade(student(tmp_path, "kim", "while True:\n    pass\n"))
    assert grade.status == "timeout" and grade.score == 0
    assert "CPU time" in grade.explanation or "wall-clock" in grade.explanation
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_timeout_kills_the_whole_process_group(graders, tmp_path, isolation):
    """A submission forks a grandchild that sleeps (under a unique name), then blocks itself:
    the grandchild is seen alive during the run and is gone once the grade is in."""
    token = f"{600 + secrets.randbelow(10**6) / 10**7:.7f}"
    source = f"""
        import os, time
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{token}"])
        time.sleep(600)
        """
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(graders[isolation].grade, student(tmp_path, "lee", source))
        seen = []
        while not seen and not running.done():
            seen = [p for p in _processes() if _cmdline(p) == f"sleep\0{token}\0" and _alive(p)]
            time.sleep(0.05)
        grade = running.result()
    assert seen, "the grandchild never started"
    assert grade.status == "timeout" and "wall-clock" in grade.explanation
    assert all(_gone_soon(pid) for pid in seen)


def _gone_soon(pid, seconds=3.0):
    """SIGKILL is delivered asynchronously: allow the kernel a moment to finish the job."""
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _processes():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except OSError:
        return ""


def _alive(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            state = next(line for line in status if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def test_a_zip_with_the_file_in_a_folder_is_graded(grader, tmp_path):
    path = tmp_path / "mia.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mia/batchnorm.py", REFERENCE)
        archive.writestr("__MACOSX/mia/._batchnorm.py", "junk")
    grade = grader.grade(Submission("mia", path))
    assert grade.status == "passed"


@pytest.mark.parametrize("member, words", [("../evil.py", "outside its folder"),
                                            ("/abs/batchnorm.py", "outside its folder")])
def test_an_unsafe_zip_is_an_error_and_writes_nothing_outside(grader, tmp_path, member, words):
    path = tmp_path / "ned.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("batchnorm.py", REFERENCE)
        archive.writestr(member, "print('escaped')")
    grade = grader.grade(Submission("ned", path))
    assert grade.status == "error" and words in grade.explanation
    assert not (tmp_path.parent / "evil.py").exists()


def test_a_broken_zip_is_an_error_and_a_zip_without_the_file_is_missing(grader, tmp_path):
    (tmp_path / "oli.zip").write_bytes(b"PK\x03\x04 not really a zip")
    assert grader.grade(Submission("oli", tmp_path / "oli.zip")).status == "error"
    with zipfile.ZipFile(tmp_path / "pat.zip", "w") as archive:
        archive.writestr("layers.py", REFERENCE)
    assert grader.grade(Submission("pat", tmp_path / "pat.zip")).status == "missing"


@pytest.mark.parametrize("source, words", [
    ("import os\nos._exit(0)\n", "ended with exit code 0 before returning all results"),
    ("while True:\n    print('x' * 100000)\n", "wrote more than 16 MB"),
    ("import sys, os\nos.write(int(sys.argv[1]), b'{\"nonce\": \"guess\", \"end\": true}\\n')\n",
     "malformed results"),
])
def test_a_child_that_dies_floods_or_forges_frames_is_an_error(grader, tmp_path, source, words):
    grade = grader.grade(student(tmp_path, "quinn", source + REFERENCE))
    assert grade.status == "error" and grade.score == 0 and words in grade.explanation


def test_a_cpu_hog_is_stopped_by_its_cpu_time_limit(tmp_path):
    from nnstudio.grading import Grader, load_assignment

    from .conftest import ASSIGNMENT, write_assignment
    text = ASSIGNMENT.replace("{wall}", "20").replace("cpu_seconds = 3", "cpu_seconds = 1")
    grader = Grader(load_assignment(write_assignment(tmp_path / "a", text=text)), "process")
    grade = grader.grade(student(tmp_path, "rex", "while True:\n    pass\n"))
    assert grade.status == "timeout" and "1 s of CPU time" in grade.explanation


def test_a_traceback_shows_the_students_own_paths(grader, tmp_path):
    source = REFERENCE.replace("    n = dout.shape[0]\n", "    n = dout.shape[0]\n    1 / 0\n")
    grade = grader.grade(student(tmp_path, "sam", source))
    assert 'File "batchnorm.py", line' in grade.error["traceback"]
    assert "nnstudio-grade-" not in grade.error["traceback"]
