"""``nnstudio grade``: grade a class's submissions, each in its own isolated child process.

    nnstudio grade ASSIGNMENT.toml SUBMISSIONS/ --out RESULTS/ [--jobs N] [--only STUDENT]
    nnstudio grade ASSIGNMENT.toml --gradescope [--autograder-root DIR]
    nnstudio grade --bundle ASSIGNMENT.toml autograder.zip

Exit codes: 0 every submission was graded (whatever the scores), 2 a bad assignment file or
folder (a message naming the key or path). The assignment format is documented in the README
("Grading a class") and in ``resources/examples/grading/batchnorm.toml``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from nnstudio.grading.assignment import load_assignment
from nnstudio.grading.gradebook import grade_class, summary_text
from nnstudio.grading.gradescope import autograder_root, run_gradescope, write_bundle
from nnstudio.grading.grader import Grade, Grader
from nnstudio.grading.sandbox import ISOLATIONS
from nnstudio.grading.submissions import find_submissions


def add_arguments(parser) -> None:
    parser.add_argument("assignment", help="the assignment file (TOML)")
    parser.add_argument("submissions", nargs="?",
                        help="a folder with one folder or zip per student (the name is the "
                             "student id); with --bundle, the zip to write")
    parser.add_argument("--out", metavar="RESULTS", help="where grades.csv and the reports go")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="submissions graded at the same time (default: the CPU count)")
    parser.add_argument("--only", action="append", default=[], metavar="STUDENT",
                        help="grade just this student (repeatable); other rows of an existing "
                             "grades.csv are kept")
    parser.add_argument("--isolation", choices=ISOLATIONS, default="auto",
                        help="bwrap (bubblewrap sandbox), process (child process with limits), "
                             "or auto: bwrap when it works here (default)")
    parser.add_argument("--gradescope", action="store_true",
                        help="run as a Gradescope autograder: ROOT/submission in, "
                             "ROOT/results/results.json out")
    parser.add_argument("--autograder-root", metavar="DIR",
                        help="the autograder folder (default $NNSTUDIO_AUTOGRADER_ROOT, "
                             "else /autograder)")
    parser.add_argument("--bundle", action="store_true",
                        help="write the Gradescope autograder zip (setup.sh, run_autograder) "
                             "to the second argument and exit")


def run(args) -> int:
    assignment = load_assignment(args.assignment)
    if args.bundle:
        if not args.submissions:
            raise ValueError("--bundle needs the zip to write: nnstudio grade --bundle "
                             "ASSIGNMENT.toml autograder.zip")
        names = write_bundle(assignment, Path(args.submissions))
        print(f"wrote {args.submissions} ({len(names)} files): upload it as the autograder "
              "of a Gradescope programming assignment")
        return 0
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if args.gradescope:
        grader = Grader(assignment, args.isolation)
        grade = run_gradescope(grader, autograder_root(args.autograder_root))
        print(f"{grade.status}: {grade.score:g} / {grade.max_score:g} — {grade.explanation}")
        return 0
    if not args.submissions or not args.out:
        raise ValueError("name the submissions folder and --out RESULTS (or use --gradescope "
                         "or --bundle)")
    submissions_dir, out_dir = Path(args.submissions).resolve(), Path(args.out).resolve()
    if out_dir.is_relative_to(submissions_dir) or submissions_dir.is_relative_to(out_dir):
        raise ValueError(f"--out {args.out} must lie outside the submissions folder "
                         f"{args.submissions} (nothing is ever written into it)")
    submissions = find_submissions(submissions_dir)
    if args.only:
        known = {s.student for s in submissions}
        unknown = [name for name in args.only if name not in known]
        if unknown:
            raise ValueError(f"--only {unknown[0]}: no such student in {args.submissions}")
        submissions = [s for s in submissions if s.student in args.only]
    if not submissions:
        raise ValueError(f"{args.submissions}: no student folders or zips found")
    grader = Grader(assignment, args.isolation)
    print(f"grading {len(submissions)} submissions of {assignment.name!r} with {args.jobs} "
          f"job{'s' if args.jobs != 1 else ''}; isolation: {grader.isolation}", file=sys.stderr)
    grades = grade_class(grader, submissions, out_dir, args.jobs, _Progress())
    print(summary_text(grades, grader.isolation_text, out_dir))
    return 0


class _Progress:
    """A bar that redraws in place on a terminal, one line per student otherwise."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int, grade: Grade) -> None:
        filled = round(self.width * done / total)
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"[{bar}] {done}/{total} {grade.student}: {grade.status} "
                f"{grade.score:g}/{grade.max_score:g}")
        if self.tty:
            sys.stderr.write("\r" + line[:120].ljust(120) + ("\n" if done == total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
