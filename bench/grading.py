"""Grading speed: a class of generated submissions, and what isolation costs per submission.

The shipped BatchNorm assignment (iris through dense:6, 4 checks),
with a 3 s wall limit. Rows:
  * a bare in-process check: the same calls made on the imported module in this process and
    scored the same way (what grading would cost without a child, a sandbox or a copy);
  * the same submissions graded one at a time in an isolated child (plain process, and
    bubblewrap when it works here): the difference is the isolation overhead;
  * a class of ``--count`` generated submissions (correct, two buggy kinds, crashing, looping)
    graded with ``--jobs``: total and per-submission time; loopers are bounded by their limit.

    python bench/grading.py [--count 100] [--jobs 2] [--serial 20]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from nnstudio.grading import Grader, Submission, find_submissions, grade_class, load_assignment
from nnstudio.grading import child
from nnstudio.grading.sandbox import CallResult, bwrap_works
from nnstudio.grading.scoring import score_check
from nnstudio.resources import resource_path

EXAMPLE = resource_path("examples", "grading")
REFERENCE = (EXAMPLE / "reference" / "batchnorm.py").read_text()
KINDS = {  # share of the class, source
    "correct": (0.6, REFERENCE),
    "buggy dgamma": (0.15, REFERENCE.replace("dgamma = np.sum(dout * x_hat, axis=0)",
                                             "dgamma = np.sum(dout * (x_hat / inv_std), axis=0)")),
    "buggy mean path": (0.1, REFERENCE.replace("n * dx_hat - dx_hat.sum(axis=0) - ", "n * dx_hat - ")),
    "crashing": (0.1, REFERENCE.replace("    n = dout.shape[0]\n",
                                        "    n = dout.shape[0]\n    raise IndexError(n)\n")),
    "looping": (0.05, "while True:\n    pass\n"),
}


def make_class(folder: Path, count: int) -> Counter:
    kinds = Counter()
    names = [kind for kind, (share, _) in KINDS.items() for _ in range(round(share * count))]
    for number, kind in enumerate(names[:count]):
        (folder / f"s{number:03d}").mkdir(parents=True)
        (folder / f"s{number:03d}" / "batchnorm.py").write_text(KINDS[kind][1])
        kinds[kind] += 1
    return kinds


def in_process(grader: Grader, folder: Path) -> float:
    """Import the file here and make the very same calls, then score them: no isolation."""
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("bench_submission", folder / "batchnorm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    request = grader.plan.request
    arrays = {name: child._array(a["data"], dtype=float).reshape(a["shape"])
              for name, a in request["arrays"].items()}
    runner = child._Runner(module, request, arrays)
    calls = {}
    for call in request["calls"]:
        results = runner.run(call)
        calls[call["id"]] = CallResult({n: child._plain(n, v) for n, v in results})
    for plan in grader.plan.checks:
        score_check(plan, calls, grader.reference.calls)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--serial", type=int, default=20, help="submissions timed one by one")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="nnstudio-bench-grading-"))
    try:
        toml = scratch / "batchnorm.toml"
        toml.write_text((EXAMPLE / "batchnorm.toml").read_text()
                        .replace("wall_seconds = 20", "wall_seconds = 3")
                        .replace('reference = "reference/batchnorm.py"',
                                 f'reference = "{EXAMPLE / "reference" / "batchnorm.py"}"'))
        assignment = load_assignment(toml)
        correct = scratch / "correct"
        (correct / "one").mkdir(parents=True)
        (correct / "one" / "batchnorm.py").write_text(REFERENCE)
        isolations = ["process"] + (["bwrap"] if bwrap_works() else [])
        graders = {iso: Grader(assignment, iso) for iso in isolations}
        calls = len(graders["process"].plan.request["calls"])
        bare = min(in_process(graders["process"], correct / "one") for _ in range(args.serial))
        rows = [("bare in-process check", bare, None)]
        for isolation, grader in graders.items():
            times = []
            for _ in range(args.serial):
                started = time.perf_counter()
                grade = grader.grade(Submission("one", correct / "one"))
                times.append(time.perf_counter() - started)
                assert grade.status == "passed", grade.explanation
            mean = sum(times) / len(times)
            rows.append((f"isolated ({isolation}), one at a time", mean, mean - bare))
        print(f"BatchNorm assignment, {calls} calls per submission; times per submission "
              f"(bare: best of {args.serial}; isolated: mean of {args.serial})")
        print(f"{'':42s}{'seconds':>10s}{'overhead':>12s}")
        for label, seconds, overhead in rows:
            extra = "" if overhead is None else f"{overhead:+10.3f} s"
            print(f"{label:42s}{seconds:10.3f}{extra:>12s}")
        for isolation, grader in graders.items():
            classroom = scratch / f"class-{isolation}"
            kinds = make_class(classroom, args.count)
            started = time.perf_counter()
            grades = grade_class(grader, find_submissions(classroom), scratch / f"out-{isolation}",
                                 jobs=args.jobs)
            total = time.perf_counter() - started
            statuses = Counter(g.status for g in grades)
            print(f"\nclass of {len(grades)} ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
                  f"--jobs {args.jobs}, isolation {isolation}:")
            print(f"  total {total:.1f} s, {total / len(grades):.3f} s per submission; "
                  f"statuses: {dict(sorted(statuses.items()))}")
            print(f"  longest submission {max(g.elapsed for g in grades):.2f} s "
                  f"(wall limit {assignment.limits.wall_seconds:g} s)")
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\n{os.cpu_count()} CPUs, load average {load} (compare runs on a quiet machine)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
