"""Grade a whole class in parallel; write ``grades.csv`` and every student's reports.

    results = grade_class(grader, submissions, out_dir, jobs=2, progress=print_progress)

``grades.csv`` has ``student,score,max_score,status`` then one column per check (its points).
With a subset of students (``--only``), their rows replace theirs in an existing gradebook
and the other rows are kept.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from .grader import STATUSES, Grade, Grader
from .report import write_atomic, write_reports
from .submissions import Submission

FIXED_COLUMNS = ["student", "score", "max_score", "status"]


def grade_class(grader: Grader, submissions: list[Submission], out_dir: Path, jobs: int = 1,
                progress: Callable[[int, int, Grade], None] | None = None) -> list[Grade]:
    """Grade every submission (``jobs`` children at a time), write the reports as each one
    finishes and ``grades.csv`` at the end. Returns the grades sorted by student."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = grader.assignment.name
    grades: list[Grade] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grader.grade, submission) for submission in submissions]
        for done, future in enumerate(as_completed(futures), start=1):
            grade = future.result()
            write_reports(grade, out_dir / grade.student, name)
            grades.append(grade)
            if progress is not None:
                progress(done, len(submissions), grade)
    grades.sort(key=lambda g: g.student)
    write_gradebook(out_dir / "grades.csv", grades, [c.name for c in grader.assignment.checks])
    return grades


def write_gradebook(path: Path, grades: list[Grade], check_names: list[str]) -> None:
    """Write (or update, keeping other students' rows) the gradebook atomically."""
    header = FIXED_COLUMNS + check_names
    rows: dict[str, dict] = {}
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames == header:  # a gradebook of another assignment is replaced
                rows = {row["student"]: row for row in reader}
    for grade in grades:
        points = {c.name: f"{c.points:g}" for c in grade.checks}
        rows[grade.student] = {"student": grade.student, "score": f"{grade.score:g}",
                               "max_score": f"{grade.max_score:g}", "status": grade.status,
                               **{name: points.get(name, "0") for name in check_names}}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for student in sorted(rows):
        writer.writerow(rows[student])
    write_atomic(path, buffer.getvalue())


def status_counts(grades: list[Grade]) -> dict[str, int]:
    counts = Counter(g.status for g in grades)
    return {status: counts.get(status, 0) for status in STATUSES}


def summary_text(grades: list[Grade], isolation_text: str, out_dir: Path) -> str:
    counts = status_counts(grades)
    per_status = ", ".join(f"{n} {status}" for status, n in counts.items())
    lines = [f"graded {len(grades)} submission{'s' if len(grades) != 1 else ''}: {per_status}",
             f"isolation: {isolation_text}",
             f"gradebook: {out_dir / 'grades.csv'}; reports: {out_dir}/STUDENT/report.html"]
    if grades:
        mean = sum(g.score for g in grades) / len(grades)
        lines.insert(1, f"mean score {mean:.2f} / {grades[0].max_score:g}")
    return "\n".join(lines)
