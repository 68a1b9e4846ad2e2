"""Grade one submission: run it in a child on the parent's inputs, score what comes back.

    grader = Grader(load_assignment("batchnorm.toml"))     # runs and checks the reference once
    grade = grader.grade(Submission("alice", Path("submissions/alice")))
    grade.status, grade.score, grade.checks
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import Assignment, AssignmentError
from .inputs import Batches, upstream_gradient
from .plan import Plan, forward_only_request, layer_plan, model_plan, params_request
from .sandbox import RunResult, describe_isolation, resolve_isolation, run_child
from .scoring import CheckResult, explain_error, score_check
from .submissions import Submission, listing, locate, scratch_dir, unpack

STATUSES = ("passed", "failed", "error", "timeout", "missing")


@dataclass
class Grade:
    """One student's result. ``explanation`` is the plain-words summary a student reads."""
    student: str
    status: str
    score: float
    max_score: float
    explanation: str
    checks: list[CheckResult] = field(default_factory=list)
    error: dict | None = None
    output: str = ""
    elapsed: float = 0.0
    isolation: str = "process"

    def to_dict(self) -> dict:
        return {"format": "nnstudio.grade/1", "student": self.student, "status": self.status,
                "score": round(self.score, 6), "max_score": self.max_score,
                "explanation": self.explanation, "error": self.error,
                "checks": [c.to_dict() for c in self.checks], "output": self.output,
                "elapsed_seconds": round(self.elapsed, 4), "isolation": self.isolation}


class Grader:
    """Everything that is the same for every student: inputs, the reference's answers, the plan.

    Raises :class:`AssignmentError` when the reference solution itself does not run or does
    not pass its own gradient checks (a broken assignment must not grade anyone).
    """

    def __init__(self, assignment: Assignment, isolation: str = "auto") -> None:
        self.assignment = assignment
        self.isolation = resolve_isolation(isolation)
        self.isolation_text = describe_isolation(self.isolation)
        self.batches = Batches(assignment)
        self.plan = self._make_plan()
        self.reference = self._run_reference(self.plan.request, "its checks")
        for check_plan in self.plan.checks:
            if check_plan.check.kind == "gradient":
                result = score_check(check_plan, self.reference.calls, None)
                if not result.passed:
                    raise AssignmentError(
                        f"{assignment.path}: the reference solution {assignment.reference} fails "
                        f"check {result.name!r}: {result.message}")

    def _make_plan(self) -> Plan:
        assignment = self.assignment
        if assignment.convention == "model":
            answer = self._run_reference(params_request(assignment, self.batches),
                                         "building its model").calls[0]
            initial = {name.removeprefix("param."): value for name, value in answer.arrays.items()}
            if not initial:
                raise AssignmentError(f"{assignment.reference}: the reference model has no params")
            return model_plan(assignment, self.batches, initial)
        outputs = {}
        if assignment.dout == "network":
            run = self._run_reference(forward_only_request(assignment, self.batches), "forward")
            outputs = {check.name: run.calls[k].arrays["out"]
                       for k, check in enumerate(assignment.checks)}
        douts = {check.name: upstream_gradient(assignment, self.batches, check,
                                               outputs.get(check.name))
                 for check in assignment.checks}
        return layer_plan(assignment, self.batches, douts)

    def _run_reference(self, request: dict, doing: str) -> RunResult:
        folder = Path(tempfile.mkdtemp(prefix="nnstudio-reference-"))
        try:
            target = folder / self.assignment.file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.assignment.reference, target)
            run = run_child(folder, request, self.assignment.limits, self.isolation)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        failure = run.error or next((c.error for c in run.calls.values() if c.error), None)
        if run.outcome != "ok" or failure:
            why = explain_error(failure) if failure else run.reason
            raise AssignmentError(f"{self.assignment.path}: the reference solution "
                                  f"{self.assignment.reference} fails while {doing}: {why}"
                                  + (f"\n{run.output}" if run.output else ""))
        return run

    def grade(self, submission: Submission) -> Grade:
        started = time.monotonic()
        scratch = scratch_dir()
        try:
            grade = self._grade(submission, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        grade.elapsed = time.monotonic() - started
        grade.isolation = self.isolation
        return grade

    def _grade(self, submission: Submission, scratch: Path) -> Grade:
        assignment = self.assignment
        student, total = submission.student, assignment.max_score
        try:
            folder = unpack(submission, scratch)
        except ValueError as exc:
            return Grade(student, "error", 0.0, total, f"The submission could not be opened: {exc}")
        root = locate(folder, assignment.file)
        if root is None:
            return Grade(student, "missing", 0.0, total,
                         f"No {assignment.file} was found in the submission; {listing(folder)}.")
        try:
            run = run_child(root, self.plan.request, assignment.limits, self.isolation)
        except ValueError as exc:
            return Grade(student, "error", 0.0, total, f"The submission could not be run: {exc}")
        checks = [score_check(p, run.calls, self.reference.calls) for p in self.plan.checks]
        score = sum(c.points for c in checks)
        grade = Grade(student, "passed", score, total, "", checks, output=run.output)
        if run.outcome == "timeout":
            grade.status = "timeout"
            grade.explanation = f"Your code was {run.reason}. Checks that finished before count."
        elif run.outcome == "import_error":
            grade.status, grade.error = "error", run.error
            assert run.error is not None  # the child reports why the import failed
            grade.explanation = f"Your file could not be imported: {explain_error(run.error)}."
        elif run.outcome == "crashed":
            grade.status = "error"
            grade.explanation = f"Your code stopped early: {run.reason}."
        elif any(c.error for c in checks):
            first = next(c for c in checks if c.error)
            grade.status, grade.error = "error", first.error
            grade.explanation = (f"Your code raised an error in check {first.name!r}: "
                                 f"{first.message}.")
        elif all(c.passed for c in checks):
            grade.explanation = f"All {len(checks)} checks passed."
        else:
            failed = [c for c in checks if not c.passed]
            grade.status = "failed"
            grade.explanation = (f"{len(failed)} of {len(checks)} checks failed. "
                                 f"In {failed[0].name!r}: {failed[0].message}.")
        return grade
