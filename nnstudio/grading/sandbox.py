"""Run the grading child on one submission: its own process group, limits, and a sandbox.

Each run gets a fresh temporary directory holding a copy of the submission (the child's
working directory and, under bubblewrap, the only writable place), a scrubbed environment,
CPU-time, address-space and file-size limits (``resource``, set between fork and exec), and a
wall-clock deadline after which its whole process group is killed. With ``bwrap`` installed
(and working) the child also runs without network, with a read-only view of just the
interpreter, numpy and the child script, and in its own PID namespace, so a grandchild it
forks dies with it. Results come back on a dedicated pipe, never on stdout.
"""
from __future__ import annotations

import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

CHILD_SCRIPT = Path(__file__).resolve().with_name("child.py")
ISOLATIONS = ("auto", "bwrap", "process")
MAX_RESULT_BYTES = 64 * 2**20
MAX_LOG_BYTES = 16 * 2**20
LOG_SHOWN = 4000


@dataclass(frozen=True)
class Limits:
    """Per-submission limits: wall clock and CPU seconds, address space in MB."""
    wall_seconds: float = 20.0
    cpu_seconds: float = 15.0
    memory_mb: int = 1024


@dataclass
class CallResult:
    """One call's answer: arrays by name (plain float64, copied) or the error it raised."""
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    error: dict | None = None


@dataclass
class RunResult:
    """What a child run produced.

    ``outcome`` is ``"ok"`` (the child answered and ended), ``"import_error"``, ``"timeout"``
    (wall or CPU limit; ``reason`` says which), or ``"crashed"`` (it died or sent garbage).
    """
    outcome: str
    calls: dict[int, CallResult] = field(default_factory=dict)
    error: dict | None = None
    reason: str = ""
    output: str = ""
    elapsed: float = 0.0
    isolation: str = "process"


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when ``bwrap`` is installed and can create its namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "true"],
                               capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def resolve_isolation(choice: str = "auto") -> str:
    """``"bwrap"`` or ``"process"``; ``"bwrap"`` asked for but unusable is an error."""
    if choice not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {choice!r}")
    if choice == "process":
        return "process"
    if bwrap_works():
        return "bwrap"
    if choice == "bwrap":
        raise ValueError("--isolation bwrap: bubblewrap (bwrap) is not installed or cannot "
                         "create namespaces on this machine")
    return "process"


def describe_isolation(isolation: str) -> str:
    if isolation == "bwrap":
        return ("bubblewrap sandbox (no network, read-only file system except a fresh temporary "
                "directory, own PID namespace) + process limits")
    return ("separate process (fresh temporary directory, scrubbed environment, CPU/memory "
            "limits, process group killed on time-out); install bubblewrap for a real sandbox")


def run_child(submission_dir: Path, request: dict, limits: Limits,
              isolation: str = "process") -> RunResult:
    """Copy ``submission_dir``, run the child on it with ``request``, collect its frames.

    ``request`` is the child protocol's request without the nonce (added here).
    """
    scratch = Path(tempfile.mkdtemp(prefix="nnstudio-grade-"))
    try:
        work = scratch / "work"
        copy_tree(submission_dir, work)
        request = dict(request, nonce=secrets.token_hex(16))
        return _run(work, scratch / "output.log", request, limits, isolation)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def copy_tree(source: Path, target: Path, max_bytes: int = 64 * 2**20) -> None:
    """Copy regular files and folders only: a symlink could reach another student's files."""
    total = 0
    target.mkdir(parents=True)
    for root, dirs, files in os.walk(source, followlinks=False):
        here = Path(root)
        dest = target / here.relative_to(source)
        dirs[:] = [d for d in dirs if not (here / d).is_symlink() and d != "__pycache__"]
        for name in dirs:
            (dest / name).mkdir()
        for name in files:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > max_bytes:
                raise ValueError(f"{source}: the submission is larger than "
                                 f"{max_bytes // 2**20} MB")
            shutil.copyfile(path, dest / name)


def _run(work: Path, log_path: Path, request: dict, limits: Limits, isolation: str) -> RunResult:
    read_fd, write_fd = os.pipe()
    command = [sys.executable, "-I", "-B", str(CHILD_SCRIPT), str(write_fd)]
    if isolation == "bwrap":
        command = _bwrap_command(work, write_fd) + command
    started = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                command, cwd=work, env=_environment(work), stdin=subprocess.PIPE, stdout=log,
                stderr=subprocess.STDOUT, pass_fds=(write_fd,), start_new_session=True,
                preexec_fn=_limiter(limits), close_fds=True)
        finally:
            os.close(write_fd)
        try:
            data, timed_out = _exchange(process, read_fd, request, started + limits.wall_seconds)
        finally:
            _kill_group(process)
            os.close(read_fd)
    elapsed = time.monotonic() - started
    output = _read_log(log_path)
    result = _interpret(process.returncode, data, request["nonce"], timed_out, limits, isolation)
    result.output, result.elapsed, result.isolation = output, elapsed, isolation
    return result


def _environment(work: Path) -> dict[str, str]:
    """Only what Python and numpy need; one BLAS thread so --jobs means what it says."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work), "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def _limiter(limits: Limits):
    cpu = max(1, int(round(limits.cpu_seconds)))
    memory = int(limits.memory_mb) * 2**20

    def apply() -> None:  # between fork and exec: no imports, no locks, only system calls
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_LOG_BYTES, MAX_LOG_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _bwrap_command(work: Path, result_fd: int) -> list[str]:
    """Read-only: the system, the interpreter, its packages, the child; writable: ``work``."""
    readable = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, CHILD_SCRIPT.parent)}
    readable.add(Path(np.__file__).resolve().parents[1])  # numpy's site-packages
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--tmpfs", "/tmp",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in sorted(readable):
        if not str(path).startswith("/usr/"):
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(work), str(work), "--chdir", str(work), "--"]
    return args


def _exchange(process: subprocess.Popen, read_fd: int, request: dict,
              deadline: float) -> tuple[bytes, bool]:
    """Send the request, read the result pipe until the end frame, the child's exit or the
    deadline. Returns (bytes read, timed out)."""
    assert process.stdin is not None  # started with stdin=PIPE
    try:
        process.stdin.write(json.dumps(request).encode("utf-8"))
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass  # it died before reading: its exit status tells why
    chunks: list[bytes] = []
    size, tail = 0, b""
    end_marker = f'"nonce": "{request["nonce"]}", "end": true'.encode()
    with selectors.DefaultSelector() as selector:
        selector.register(read_fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"".join(chunks), True
            if selector.select(timeout=min(remaining, 0.2)):
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:  # every writer closed: the child (and its children) ended
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESULT_BYTES:
                    break
                tail = (tail + chunk)[-2 * len(end_marker):]
                if end_marker in tail:
                    break
            elif process.poll() is not None:
                break
    try:  # the child answered; give it a moment to exit on its own
        process.wait(timeout=max(0.0, min(2.0, deadline - time.monotonic())))
    except subprocess.TimeoutExpired:
        pass
    return b"".join(chunks), False


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (forked grandchildren included)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_log(path: Path) -> str:
    data = path.read_bytes()
    text = data[:LOG_SHOWN].decode("utf-8", "replace")
    if len(data) > LOG_SHOWN:
        text += f"\n... ({len(data) - LOG_SHOWN} more bytes of output not shown)"
    return text


def _interpret(returncode: int, data: bytes, nonce: str, timed_out: bool, limits: Limits,
               isolation: str) -> RunResult:
    calls, ended, bad = parse_frames(data, nonce)
    if timed_out:
        return RunResult("timeout", calls, reason=f"stopped after {limits.wall_seconds:g} s of "
                         "wall-clock time (the limit): an endless loop, a wait, or far too slow")
    signal_number = _signal_of(returncode, isolation)
    if signal_number == signal.SIGXCPU:
        return RunResult("timeout", calls, reason=f"stopped after {limits.cpu_seconds:g} s of "
                         "CPU time (the limit): an endless loop or far too slow")
    if -1 in calls:
        return RunResult("import_error", calls, error=calls[-1].error,
                         reason="the file could not be imported")
    if bad:
        return RunResult("crashed", calls, reason=f"its process sent malformed results ({bad})")
    if not ended:
        return RunResult("crashed", calls, reason=_death(returncode, signal_number, limits))
    return RunResult("ok", calls)


def _signal_of(returncode: int, isolation: str) -> int | None:
    if returncode is not None and returncode < 0:
        return -returncode
    if isolation == "bwrap" and returncode is not None and returncode > 128:
        return returncode - 128  # bwrap reports its child's signal as 128 + N
    return None


def _death(returncode: int, signal_number: int | None, limits: Limits) -> str:
    if signal_number == signal.SIGXFSZ:
        return f"it wrote more than {MAX_LOG_BYTES // 2**20} MB of output and was stopped"
    if signal_number is not None:
        try:
            name = signal.Signals(signal_number).name
        except ValueError:
            name = str(signal_number)
        return (f"its process was killed by signal {name} before it finished (out of memory "
                f"with a limit of {limits.memory_mb} MB, or a crash in native code)")
    return (f"its process ended with exit code {returncode} before returning all results "
            "(os._exit, or a crash)")


def parse_frames(data: bytes, nonce: str) -> tuple[dict[int, CallResult], bool, str]:
    """(answers by call id, whether the end frame came, a problem description or "")."""
    calls: dict[int, CallResult] = {}
    position = 0
    while position < len(data):
        newline = data.find(b"\n", position, position + 1_000_000)
        if newline < 0:
            return calls, False, "a truncated frame"
        try:
            header = json.loads(data[position:newline].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return calls, False, "a frame that is not JSON"
        position = newline + 1
        if not isinstance(header, dict) or header.get("nonce") != nonce:
            return calls, False, "a frame without the run's nonce"
        if header.get("end") is True:
            return calls, True, ""
        call_id = header.get("id")
        if not isinstance(call_id, int) or call_id in calls:
            return calls, False, "a frame with a bad or repeated id"
        if not header.get("ok"):
            error = header.get("error")
            calls[call_id] = CallResult(error=error if isinstance(error, dict) else
                                        {"type": "Error", "message": str(error)})
            continue
        arrays = {}
        for spec in header.get("arrays", []):
            shape = spec.get("shape") if isinstance(spec, dict) else None
            if (not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape)
                    or not isinstance(spec.get("name"), str)):
                return calls, False, "an array with a bad shape"
            nbytes = 8 * int(np.prod(shape, dtype=np.int64))
            if position + nbytes > len(data):
                return calls, False, "a truncated array"
            arrays[spec["name"]] = np.frombuffer(data, dtype="<f8", count=nbytes // 8,
                                                 offset=position).astype(np.float64).reshape(shape)
            position += nbytes
        calls[call_id] = CallResult(arrays=arrays)
    return calls, False, ""
