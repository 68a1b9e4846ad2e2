"""SIGKILL in the middle of saving: the project on disk is always a complete old or new
version, and the temporary files a killed save leaves are removed by the next save."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nnstudio.project import load_project, save_project

SCRIPT = Path(__file__).with_name("save_forever.py")


def test_kill_during_save_never_damages_the_project(tmp_path):
    target = tmp_path / "p.nnproj"
    rng = np.random.default_rng(1)
    leftovers = 0
    for attempt in range(4):
        child = subprocess.Popen([sys.executable, str(SCRIPT), str(target)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "1"  # one complete save first
            time.sleep(float(rng.uniform(0.0, 0.05)))  # then kill it somewhere in a save
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        project = load_project(target)  # complete: either the old or the new version
        assert project.description.startswith("save ")
        assert project.network.layers[0].units in (300, 301)
        leftovers += len(list(tmp_path.glob(".p.nnproj.*.tmp")))
        save_project(target, project.network, project)  # the next save cleans up
        assert list(tmp_path.glob(".p.nnproj.*.tmp")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.nnproj"]


def test_a_save_killed_while_writing_leaves_the_old_file_and_its_temp_is_removed(tmp_path):
    target = tmp_path / "p.nnproj"
    child = subprocess.Popen([sys.executable, str(SCRIPT), str(target), "hang"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "1"
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    temporaries = list(tmp_path.glob(".p.nnproj.*.tmp"))
    assert len(temporaries) == 1 and temporaries[0].stat().st_size > 0
    project = load_project(target)
    assert project.description == "save 0"
    save_project(target, project.network, project)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.nnproj"]
