"""Tampered, damaged and hostile project files: each is refused with a ProjectError naming
the file and the problem (the CLI: exit 2, one line), at bounded cost, or loads correctly."""
from __future__ import annotations

import errno
import json
import math
import os
import struct
import tracemalloc
import zipfile

import pytest

from nnstudio.cli import main
from nnstudio.commands.info import format_summary, project_summary
from nnstudio.project import ProjectError, load_project, save_project
from nnstudio.project.network_io import MAX_PARAMETERS

from tests.project_files import edit_json, members_of, write_members

from .conftest import nnstudio


def refused(path, *parts):
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    for part in parts:
        assert part in str(caught.value), f"{part!r} not in {caught.value}"
    return caught.value


# -- damaged archives ---------------------------------------------------------------------
def test_a_flipped_byte_in_a_deflate_stream(project_file):
    members = members_of(project_file)
    data = bytearray(project_file.read_bytes())
    with zipfile.ZipFile(project_file) as archive:
        info = archive.getinfo("project.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    # (the stream's last bytes hold end-of-block padding: flipping them changes nothing)
    for offset in range(start, start + info.compress_size - 4, max(1, info.compress_size // 16)):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        project_file.write_bytes(bytes(damaged))
        with pytest.raises(ProjectError, match="good.nnproj"):
            load_project(project_file)
    assert members  # the archive was a real one before damage


def test_an_odd_zip_version_field(project_file):
    data = bytearray(project_file.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    while central >= 0:  # every central directory entry needs version 9.9 to extract
        struct.pack_into("<H", data, central + 6, 99)
        central = data.rfind(b"PK\x01\x02", 0, central)
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        struct.pack_into("<H", data, local + 4, 99)
        local = data.find(b"PK\x03\x04", local + 4)
    project_file.write_bytes(bytes(data))
    refused(project_file, "good.nnproj")


@pytest.mark.parametrize("kind", ["fifo", "symlink_loop", "through_a_file", "long_name",
                                  "folder", "missing", "proc_mem"])
def test_operating_system_refusals_are_project_errors(tmp_path, kind):
    path = tmp_path / "p.nnproj"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it would block forever
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "through_a_file":
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "p.nnproj"
    elif kind == "long_name":
        path = tmp_path / ("x" * 300 + ".nnproj")
    elif kind == "folder":
        path.mkdir()
    elif kind == "proc_mem":
        path = "/proc/self/mem"
    error = refused(path)
    assert str(path) in str(error) or os.path.basename(str(path)) in str(error)
    code, out, err = nnstudio("info", path, timeout=30)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err


# -- hostile sizes ------------------------------------------------------------------------
@pytest.mark.parametrize("units", [20000, 60000, 10**15])
def test_an_architecture_bomb_is_refused_before_allocating(project_file, units):
    def bomb(document):
        document["network"]["input_dim"] = units
        document["network"]["layers"][0]["config"]["units"] = units

    edit_json(project_file, bomb)
    tracemalloc.start()
    try:
        refused(project_file, "weights.npz does not fit the network", "0.W")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20


def test_a_network_beyond_the_parameter_cap_is_refused_even_with_matching_weights():
    from nnstudio.project.network_io import check_sizes

    side = math.isqrt(MAX_PARAMETERS) + 1
    # zero-stride views: arrays of the right shapes that occupy no memory
    shapes = {"0.W": (side, side), "0.b": (side,)}  # as the arrays' headers say
    layers = [{"type": "dense", "config": {"units": side}}]
    with pytest.raises(ProjectError, match="more than 50,000,000 parameters"):
        check_sizes(layers, side, shapes)
    check_sizes([{"type": "dense", "config": {"units": 8}}], 4, {"0.W": (4, 8), "0.b": (8,)})


def test_weights_are_judged_by_their_headers_before_they_are_decoded(project_file, monkeypatch):
    from nnstudio.project import archive

    def bomb(document):
        document["network"]["input_dim"] = 20000
        document["network"]["layers"][0]["config"]["units"] = 20000
    edit_json(project_file, bomb)
    decoded = []
    real = archive.decode_npy
    monkeypatch.setattr(archive, "decode_npy", lambda data, where: decoded.append(where) or real(data, where))
    refused(project_file, "weights.npz does not fit the network")
    assert not [where for where in decoded if where.startswith("weights.npz")]


def test_a_huge_project_json_is_refused_by_its_size(project_file):
    members = members_of(project_file)
    document = json.loads(members["project.json"])
    document["description"] = " " * (40 * 2**20)
    members["project.json"] = json.dumps(document).encode()
    write_members(project_file, members)
    refused(project_file, "project.json is", "MB")


# -- values of the wrong type, NaN, missing parts ----------------------------------------
@pytest.mark.parametrize("key, value", [("train_loss", "high"), ("val_metric", [1]),
                                        ("metric_name", 3), ("grad_norms", {"0": "x"}),
                                        ("step", -1), ("epoch", True)])
def test_a_history_value_of_the_wrong_type_is_named(project_file, key, value):
    edit_json(project_file, lambda d: d["history"][0].__setitem__(key, value))
    refused(project_file, "history[0]")
    code, _, err = nnstudio("info", project_file)
    assert code == 2 and "history[0]" in err and "Traceback" not in err


def test_a_nan_literal_in_the_history_loads_as_no_value_and_saves_as_null(project_file):
    members = members_of(project_file)
    text = members["project.json"].decode()
    members["project.json"] = text.replace('"train_loss": ', '"train_loss": NaN, "x_": ', 1).encode()
    text = members["project.json"].decode()
    document = json.loads(text.replace("NaN", "null"))
    document["history"][0].pop("x_")
    members["project.json"] = json.dumps(document).replace('"train_loss": null', '"train_loss": NaN').encode()
    write_members(project_file, members)
    project = load_project(project_file)
    assert project.history[0]["train_loss"] is None
    trainer = project.make_trainer()
    trainer.history[0]["val_loss"] = float("nan")  # as a front end might leave it
    save_project(project_file, project.network, project, trainer)
    saved = json.loads(members_of(project_file)["project.json"])
    assert saved["history"][0]["val_loss"] is None
    assert "NaN" not in members_of(project_file)["project.json"].decode()


def test_info_survives_every_value_it_prints(project_file):
    summary = project_summary(load_project(project_file))
    assert "Trained 2 epochs" in format_summary(summary)


def test_a_missing_trainer_npz_warns_and_strict_refuses(project_file, tmp_path):
    members = members_of(project_file)
    del members["trainer.npz"]
    write_members(project_file, members)
    project = load_project(project_file)
    project.make_trainer()
    assert project.resume_notes and "reset" in project.resume_notes[0]
    with pytest.raises(ProjectError, match="cannot continue exactly"):
        project.make_trainer(strict=True)
    code, _, err = nnstudio("train", project_file, "--epochs", "1", "--strict")
    assert code == 2 and "cannot continue exactly" in err
    code, _, err = nnstudio("train", project_file, "--epochs", "1")
    assert code == 0 and "warning" in err and "moments" in err


# -- saving ---------------------------------------------------------------------------------
@pytest.mark.parametrize("where, number", [("fsync", errno.EIO), ("replace", errno.EXDEV),
                                           ("write", errno.ENOSPC)])
def test_io_errors_while_saving_keep_the_old_file_and_name_the_target(project_file, monkeypatch,
                                                                       where, number):
    before = project_file.read_bytes()
    project = load_project(project_file)

    def fail(*args, **kwargs):
        raise OSError(number, os.strerror(number))
    if where == "write":
        from nnstudio.project import archive

        real_fdopen = os.fdopen

        class FullDisk:
            def __init__(self, handle):
                self.handle = handle

            def __getattr__(self, name):
                return getattr(self.handle, name)

            def write(self, data):
                fail()

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()
        monkeypatch.setattr(archive.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(os, where, fail)
    with pytest.raises(ProjectError) as caught:
        save_project(project_file, project.network, project)
    assert f"cannot save {project_file}" in str(caught.value)
    assert project_file.read_bytes() == before
    assert sorted(p.name for p in project_file.parent.iterdir()) == ["good.nnproj"]


def test_stale_temporary_files_of_the_same_target_are_removed(project_file):
    import fcntl

    folder = project_file.parent
    stale = folder / ".good.nnproj.0123abcd.tmp"
    stale.write_bytes(b"x" * 1000)
    busy = folder / ".good.nnproj.89abcdef.tmp"  # a save in progress holds its lock
    other = folder / ".other.nnproj.0123abcd.tmp"
    other.write_bytes(b"y")
    with open(busy, "wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        project = load_project(project_file)
        save_project(project_file, project.network, project)
        assert not stale.exists() and busy.exists() and other.exists()


def test_training_refuses_an_unwritable_target_before_it_starts(tmp_path, monkeypatch, capsys):
    from nnstudio.project import archive
    from nnstudio.training import Trainer

    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)
    monkeypatch.setattr(archive.os, "open", read_only)
    monkeypatch.setattr(Trainer, "run", lambda *a, **k: pytest.fail("trained before refusing"))
    code = main(["train", "builtin:xor", "--epochs", "1", "--save", str(tmp_path / "out.nnproj")])
    err = capsys.readouterr().err
    assert code == 2 and "out.nnproj" in err and "permission denied" in err
    assert ".tmp" not in err.split("(")[0]


def test_a_mid_epoch_project_without_trainer_npz_restarts_the_epoch_with_a_warning(tmp_path):
    from .conftest import small_dataset
    from nnstudio.engine import build_network
    from nnstudio.training import BatchSnapshot, TrainConfig, Trainer

    dataset = small_dataset()
    network = build_network("dense:4,relu", dataset.n_features, dataset.task, dataset.n_outputs)
    trainer = Trainer(network, dataset, TrainConfig(epochs=3, batch_size=4))
    for snapshot in trainer.run(3):
        if isinstance(snapshot, BatchSnapshot) and snapshot.epoch == 2 and snapshot.batch == 2:
            break
    path = save_project(tmp_path / "mid.nnproj", network, dataset, trainer)
    members = members_of(path)
    del members["trainer.npz"]
    write_members(path, members)
    project = load_project(path)
    resumed = project.make_trainer()
    assert any("epoch in progress (epoch 2) restarts" in note for note in project.resume_notes)
    assert resumed.epoch == 1
    with pytest.raises(ProjectError, match="restarts"):
        project.make_trainer(strict=True)
