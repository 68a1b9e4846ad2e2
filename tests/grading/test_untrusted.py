"""Submissions that try to cheat still get the score their gradients deserve."""
import hashlib

import pytest

from nnstudio.grading import find_submissions, grade_class

from .conftest import DGAMMA_BUG, ISOLATIONS, REFERENCE, student

PATCHER = '''
import numpy as np
np.allclose = lambda *a, **k: True                     # "every comparison passes"
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.testing.assert_allclose = lambda *a, **k: None
np.abs = lambda x: np.zeros(np.shape(x))               # "every error is 0"
np.array = lambda x, *a, **k: np.zeros(np.shape(x))    # "every array is 0"
try:
    import nnstudio.engine.gradcheck.verdict as verdict
    verdict.classify = lambda *a, **k: np.zeros(len(a[0]), np.int8)
    import nnstudio.grading.scoring as scoring
    scoring.score_check = lambda *a, **k: None
except ImportError:
    pass
'''

FAKE_RESULTS = '''
import json, os
for folder in (".", "..", "../..", os.environ.get("HOME", "."), {results!r}):
    for name, text in (("results.json", json.dumps({{"score": 100, "tests": []}})),
                       ("grades.csv", "student,score,max_score,status\\nmallory,100,5,passed\\n")):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
        except OSError:
            pass
print('{{"nonce": "guess", "id": 0, "ok": true, "arrays": []}}')
'''

SUBCLASS = '''
class Always(np.ndarray):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __sub__(self, other):
        return np.zeros(self.shape).view(Always)
    __rsub__ = __sub__
    def __array_finalize__(self, obj):
        pass

_backward = backward
def backward(dout, cache):
    return tuple(np.asarray(g).view(Always) for g in _backward(dout, cache))
'''


def test_patching_numpy_and_nnstudio_at_import_changes_nothing(grader, tmp_path):
    honest = grader.grade(student(tmp_path, "honest", DGAMMA_BUG))
    cheat = grader.grade(student(tmp_path, "cheat", DGAMMA_BUG.replace(
        "import numpy as np\n", "import numpy as np\n" + PATCHER, 1)))
    assert honest.status == cheat.status == "failed"
    assert cheat.score == honest.score < cheat.max_score
    assert [c.points for c in cheat.checks] == [c.points for c in honest.checks]


def test_a_correct_submission_that_patches_numpy_still_passes(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "patcher", REFERENCE + PATCHER))
    assert grade.status == "passed"


def test_ndarray_subclasses_with_a_custom_eq_are_graded_as_plain_arrays(grader, tmp_path):
    grade = grader.grade(student(tmp_path, "sneaky", DGAMMA_BUG + SUBCLASS))
    assert grade.status == "failed"
    assert [t.status for t in grade.checks[0].tensors] == ["ok", "mismatch", "ok"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_submission_writing_its_own_results_changes_no_score_and_no_file(graders, tmp_path,
                                                                          isolation):
    grader = graders[isolation]
    submissions, results = tmp_path / "submissions", tmp_path / "results"
    student(submissions, "mallory", DGAMMA_BUG + FAKE_RESULTS.format(results=str(results)))
    student(submissions, "alice", REFERENCE)
    before = _digest(submissions)
    grades = grade_class(grader, find_submissions(submissions), results, jobs=2)
    by_name = {g.student: g for g in grades}
    assert by_name["mallory"].status == "failed" and by_name["mallory"].score < 5
    assert by_name["alice"].status == "passed"
    assert _digest(submissions) == before                       # nothing written into it
    rows = (results / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,score,max_score,status,grad train")
    assert [r.split(",")[:4] for r in rows[1:]] == [["alice", "5", "5", "passed"],
                                                     ["mallory", f"{by_name['mallory'].score:g}", "5", "failed"]]
    if isolation == "bwrap":  # a plain process can write by absolute path; it changes nothing
        assert not (results / "results.json").exists()


def _digest(folder):
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.mark.parametrize("value, words", [("None", "dx has shape (), x has (6, 4)"), ("'abc'", "not numeric"),
                                           ("np.full_like(dx, np.nan)", "NaN")])
def test_returned_values_that_are_not_finite_numbers_are_reported(grader, tmp_path, value, words):
    source = REFERENCE.replace("    return dx, dgamma, dbeta\n", f"    return {value}, dgamma, dbeta\n")
    grade = grader.grade(student(tmp_path, "nan", source))
    assert grade.status in ("error", "failed") and grade.score < grade.max_score
    assert words in grade.explanation
