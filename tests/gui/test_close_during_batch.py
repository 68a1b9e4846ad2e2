"""Closing the window while one training batch takes seconds: the window closes at once,
the batch finishes in the background, and the process exits normally (Qt used to abort
it: "QThread: Destroyed while thread is still running", return code 134)."""
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("slow_close_app.py")


def test_closing_during_a_slow_batch_never_aborts(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(SCRIPT), "2.5", str(tmp_path / "settings.ini")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("closed=True")
    # the worker was still inside its batch when the window closed, and finished it
    assert "event loop ended" in lines and lines[-1].startswith("slow batch finished")
    assert "Destroyed while thread" not in done.stderr


def test_an_abandoned_job_lives_until_its_thread_ends_and_tells_nobody(qtbot):
    import gc
    import threading

    from nnstudio.gui.workers import FunctionWorker, running_jobs

    release, heard = threading.Event(), []

    def slow(progress, cancel):
        release.wait(10)  # a long item that does not poll cancel
        return "result"
    worker = FunctionWorker(slow)
    worker.returned.connect(heard.append)
    worker.finished.connect(lambda: heard.append("done"))
    worker.start()
    worker.abandon()
    assert worker.cancelled
    del worker
    gc.collect()  # the owner let go: the running thread must not be destroyed
    assert any(isinstance(job, FunctionWorker) for job in running_jobs())
    release.set()
    qtbot.waitUntil(lambda: not running_jobs(), timeout=10000)
    qtbot.wait(50)
    assert heard == []
