"""A whole hand-written network (cs231n FullyConnectedNet protocol) graded the same way."""
import pytest

from nnstudio.grading import Grader, load_assignment

from .conftest import EXAMPLE, student

SOURCE = (EXAMPLE / "model" / "fc_net.py").read_text()


@pytest.fixture(scope="module")
def model_grader():
    return Grader(load_assignment(EXAMPLE / "fc_net.toml"), "process")


def model(tmp_path, name, source):
    return student(tmp_path, name, None, **{"fc_net.py": source})


def test_a_correct_model_passes(model_grader, tmp_path):
    grade = model_grader.grade(model(tmp_path, "ok", SOURCE))
    assert grade.status == "passed" and grade.score == 5
    assert [t.name for t in grade.checks[0].tensors] == ["W1", "b1", "W2", "b2"]


def test_a_missing_l2_term_in_dw2_fails_naming_w2(model_grader, tmp_path):
    grade = model_grader.grade(model(tmp_path, "noreg", SOURCE.replace(" + self.reg * W2", "")))
    assert grade.status == "failed"
    assert [t.status for t in grade.checks[0].tensors] == ["ok", "ok", "mismatch", "ok"]
    assert "W2 is wrong" in grade.explanation and grade.checks[0].points == 3


def test_a_grads_dict_without_a_parameter_is_an_error_naming_it(model_grader, tmp_path):
    source = SOURCE.replace('grads["b1"] = dhidden.sum(axis=0)', "pass")
    grade = model_grader.grade(model(tmp_path, "nob1", source))
    assert grade.status == "error" and "grads has no entry 'b1'" in grade.explanation


def test_a_model_that_mutates_itself_cannot_drift_between_evaluations(model_grader, tmp_path):
    """Each evaluation starts from a fresh copy: a loss that moves its weights still checks."""
    source = SOURCE.replace("        return loss, grads",
                            "        self.params['W1'] += 1.0  # mutates itself\n"
                            "        return loss, grads")
    assert model_grader.grade(model(tmp_path, "mutates", source)).status == "passed"
