"""Benchmark: nnstudio's whole CSV path against a bare ``pandas.read_csv`` of the same file.

Generates a CSV of 1,000,000 rows x (20 numeric columns + 1 text label) in a temporary
folder, then times each reader in a fresh subprocess (so peak memory is measured per run:
``ru_maxrss`` of that process) and prints the medians and the ratios.

"Our whole path" is ``load_csv(path)``: sniffing, parsing, schema inference, label
encoding, the stratified split, standardization and the float32 arrays. "One stream" is
the same path with the data region parsed by one thread instead of one per CPU (at most
4): the peer that says whether the parallel streams of ``nnstudio/data/csv/pieces.py``
still pay for their code on this machine.

Usage::

    python bench/csv_load.py [--rows 1000000] [--repeat 3] [--keep FOLDER]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_NUMERIC = 20
LABELS = np.array(["setosa", "versicolor", "virginica"])

# Runs in a fresh interpreter: imports first, then the timed call; prints JSON.
CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
import numpy, pandas
if mode.startswith("ours"):
    from nnstudio.data import LoadOptions, load_csv
if mode == "ours_1_stream":
    import nnstudio.data.csv.pieces  # parse in one stream; the writer keeps its threads
    nnstudio.data.csv.pieces.default_workers = lambda: 1

def rss_mb():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20

before = rss_mb()
start = time.perf_counter()
if mode == "pandas":
    result = pandas.read_csv(path)
elif mode == "pandas_1_thread":
    with pandas.option_context("mode.max_threads", 1):
        result = pandas.read_csv(path)
else:
    result = load_csv(path, LoadOptions(target="label"))
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"time": elapsed, "peak": peak, "growth": peak - before}))
"""

MODES = {
    "pandas": "bare pandas.read_csv",
    "ours": "nnstudio load_csv (whole path)",
    "ours_1_stream": "nnstudio load_csv, one stream",
    "pandas_1_thread": "bare pandas.read_csv, 1 thread",
}
RATIO_NAMES = {"pandas": "pandas.read_csv", "pandas_1_thread": "pandas.read_csv, 1 thread",
               "ours_1_stream": "one stream"}


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` rows of 20 normal numbers (5 decimals) and a label, in blocks."""
    rng = np.random.default_rng(seed)
    names = [f"f{j}" for j in range(N_NUMERIC)]
    block = 100_000
    with open(path, "w", newline="") as handle:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            frame = pd.DataFrame(rng.standard_normal((n, N_NUMERIC)).astype(np.float32),
                                 columns=names)
            frame["label"] = LABELS[rng.integers(0, len(LABELS), n)]
            frame.to_csv(handle, index=False, header=start == 0, float_format="%.5f")


def run_child(mode: str, path: Path) -> dict:
    """One timed run in a fresh interpreter."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def has_thread_option() -> bool:
    """pandas >= 3.1 reads large files with several threads; older ones have no option."""
    try:
        pd.get_option("mode.max_threads")
    except (KeyError, pd.errors.OptionError):
        return False
    return True


def measure(path: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Median time, peak RSS and RSS growth per mode; modes alternate to share machine load."""
    modes = [m for m in MODES if m != "pandas_1_thread" or has_thread_option()]
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            runs[mode].append(run_child(mode, path))
    summary = {}
    for mode, results in runs.items():
        summary[mode] = {key: statistics.median(r[key] for r in results) for key in results[0]}
        summary[mode]["best"] = min(r["time"] for r in results)
    return summary


def print_table(results: dict, path: Path, rows: int, repeat: int) -> None:
    size = path.stat().st_size / 2**20
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CSV: {rows:,} rows x {N_NUMERIC + 1} columns ({N_NUMERIC} numeric + 1 text label), "
          f"{size:.1f} MB; median and best of {repeat} runs, each in a fresh process")
    print(f"pandas {pd.__version__}, numpy {np.__version__}, {cpus} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'':40}{'time (s)':>10}{'best (s)':>10}{'peak RSS (MB)':>15}{'RSS growth (MB)':>17}")
    for mode, label in MODES.items():
        if mode in results:
            r = results[mode]
            print(f"{label:40}{r['time']:>10.3f}{r['best']:>10.3f}{r['peak']:>15.0f}"
                  f"{r['growth']:>17.0f}")
    for base in ("pandas", "pandas_1_thread", "ours_1_stream"):
        if base in results:
            ours, bare = results["ours"], results[base]
            label = f"ratio ours / {RATIO_NAMES[base]}"
            print(f"{label:40}{ours['time'] / bare['time']:>10.2f}"
                  f"{ours['best'] / bare['best']:>10.2f}{ours['peak'] / bare['peak']:>15.2f}"
                  f"{ours['growth'] / bare['growth']:>17.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder to write the CSV into and keep (reused if present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = (args.keep or Path(folder)) / f"bench_{args.rows}.csv"
        if not path.exists():
            start = time.perf_counter()
            path.parent.mkdir(parents=True, exist_ok=True)
            make_csv(path, args.rows)
            print(f"generated {path.name} in {time.perf_counter() - start:.1f} s")
        results = measure(path, args.repeat)
        print_table(results, path, args.rows, args.repeat)


if __name__ == "__main__":
    main()
