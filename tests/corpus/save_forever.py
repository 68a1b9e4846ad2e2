"""Child process of test_kill_during_save: saves one project over and over (each save
alternates between two networks) and prints a line after every completed save. With
"hang", the second save stops just before its data is flushed (and says so)."""
import os
import sys
import time

from nnstudio.data import Dataset
from nnstudio.engine import build_network
from nnstudio.project import save_project

import numpy as np

target = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((64, 16)).astype(np.float32)
dataset = Dataset.from_arrays(x, (x[:, 0] > 0).astype(np.int64), "classification")
networks = [build_network(f"dense:{units},relu", 16, "classification", 2, seed=units)
            for units in (300, 301)]  # ~100k parameters: a save takes a moment
count = 0
if sys.argv[2:] == ["hang"]:
    from nnstudio.project import archive

    def hang(fd):
        if count >= 1:
            print("writing", flush=True)
            time.sleep(60)
        os.fsync(fd)
    archive.os = type("os", (), {**vars(os), "fsync": staticmethod(hang)})
while True:
    save_project(target, networks[count % 2], dataset, description=f"save {count}")
    count += 1
    print(count, flush=True)
