"""Damaged, truncated, foreign and malicious project files are refused with a message that
names the problem, and nothing in them is executed; saving never destroys the old file."""
import io
import zipfile

import numpy as np
import pytest

from nnstudio.data import make_builtin
from nnstudio.engine import build_network
from nnstudio.project import ProjectError, load_project, save_project
from nnstudio.project import archive as archive_module
from tests.project_files import edit_json, members_of, write_members


@pytest.fixture
def project_file(tmp_path):
    dataset = make_builtin("iris")
    network = build_network("dense:8,batchnorm,relu", dataset.n_features, dataset.task, dataset.n_outputs)
    return save_project(tmp_path / "good.nnproj", network, dataset)


def edit_weights(path, change):
    members = members_of(path)
    with np.load(io.BytesIO(members["weights.npz"])) as npz:
        weights = dict(npz)
    change(weights)
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    members["weights.npz"] = buffer.getvalue()
    return write_members(path, members)


def refused(path, message):
    with pytest.raises(ProjectError, match=message):
        load_project(path)


def test_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "notes.nnproj"
    path.write_text("just some text")
    refused(path, "notes.nnproj is not a valid zip archive")


def test_a_truncated_file(project_file):
    data = project_file.read_bytes()
    project_file.write_bytes(data[: len(data) // 2])
    refused(project_file, "not a valid zip archive .damaged or truncated")


def test_a_corrupted_member(project_file):
    members = members_of(project_file)
    with zipfile.ZipFile(project_file, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(project_file.read_bytes())
    position = data.index(b'"format"') + 3
    data[position] ^= 0xFF
    project_file.write_bytes(bytes(data))
    refused(project_file, "member 'project.json' is damaged or truncated")


def test_a_zip_that_is_not_a_project(tmp_path):
    refused(write_members(tmp_path / "other.nnproj", {"readme.txt": b"hi"}), "it has no project.json")


def test_a_missing_key(project_file):
    refused(edit_json(project_file, lambda d: d.pop("history")), "missing the key 'history'")


def test_a_newer_format_version(project_file):
    refused(edit_json(project_file, lambda d: d.update(format_version=7)),
            "written by a newer NN Studio .project format 7.")


def test_an_unknown_layer_type(project_file):
    def rename(document):
        document["network"]["layers"][1]["type"] = "frobnicate"
    refused(edit_json(project_file, rename), "unknown layer type 'frobnicate'.*custom layer must be loaded")


def test_an_unknown_fault(project_file):
    def fault(document):
        document["network"]["layers"][0]["fault"] = "no_such_fault"
    refused(edit_json(project_file, fault), "dense has no fault 'no_such_fault'")


@pytest.mark.parametrize("path, value, message", [
    (("network", "dtype"), {"a": 1}, "network.dtype must be a name"),
    (("network", "layers"), "dense", "'network.layers' must be a list"),
    (("data", "options", "colour"), "red", "data.options: .*unexpected keyword argument 'colour'"),
    (("data", "options", "val_fraction"), [0.1], "data.options"),
    (("data", "schema", "class_names"), None, "data.schema has a missing or bad class_names"),
    (("data", "kind"), "ftp", "data.kind 'ftp' is not csv, builtin or arrays"),
    (("history",), {"epoch": 1}, "'history' must be a list"),
    (("trainer",), [1], "'trainer' must be an object or null"),
])
def test_wrongly_typed_values_are_named(project_file, path, value, message):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    refused(edit_json(project_file, change), message)


def test_bad_training_settings(project_file):
    refused(edit_json(project_file, lambda d: d["training"].update(lr=-1)), "training: lr must be")


def test_a_weight_of_the_wrong_shape(project_file):
    refused(edit_weights(project_file, lambda w: w.update({"0.W": np.zeros((3, 8), np.float32)})),
            r"weights.npz does not fit the network: 0.W: expected shape \(4, 8\), got \(3, 8\)")


def test_a_weight_of_the_wrong_dtype(project_file):
    refused(edit_weights(project_file, lambda w: w.update({"0.b": w["0.b"].astype(np.float64)})),
            "0.b: expected dtype float32, got float64")


def test_a_missing_weight(project_file):
    refused(edit_weights(project_file, lambda w: w.pop("1.running_var")), r"missing \['1.running_var'\]")


class Exploit:
    def __reduce__(self):
        return (open, ("EXPLOITED", "w"))


def test_a_pickled_array_is_refused_without_running_it(project_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    members = members_of(project_file)
    buffer = io.BytesIO()
    np.savez(buffer, **{"0.W": np.array([Exploit()], dtype=object)})
    members["weights.npz"] = buffer.getvalue()
    refused(write_members(project_file, members), "'0.W' is a pickled object array")
    assert not (tmp_path / "EXPLOITED").exists()


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "data/../../x.csv", "C:\\x.csv"])
def test_member_paths_escaping_the_archive_are_refused(project_file, name):
    members = members_of(project_file)
    members[name] = b"x"
    refused(write_members(project_file, members), "refusing member")


def test_a_huge_member_is_refused_before_reading_it(project_file, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_MEMBER_BYTES", 1000)
    refused(project_file, "member 'project.json' is too large")


def test_a_zip_bomb_member_is_refused(tmp_path):
    members = {"project.json": b"{}", "weights.npz": b"\0" * (8 * 2**20)}
    with zipfile.ZipFile(tmp_path / "bomb.nnproj", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    refused(tmp_path / "bomb.nnproj", "member 'weights.npz' is too large")


def test_an_array_header_promising_more_data_than_present(project_file):
    members = members_of(project_file)
    inner = {}
    with zipfile.ZipFile(io.BytesIO(members["weights.npz"])) as npz:
        for name in npz.namelist():
            inner[name] = npz.read(name)
    inner["0.W.npy"] = inner["0.W.npy"][:-16]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as npz:
        for name, data in inner.items():
            npz.writestr(name, data)
    members["weights.npz"] = buffer.getvalue()
    refused(write_members(project_file, members), "'0.W': header promises 128 bytes of data, the member holds 112")


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_project(tmp_path / "nowhere.nnproj")


def test_an_interrupted_save_leaves_the_old_file_intact_and_no_temporary_file(project_file, monkeypatch):
    before = project_file.read_bytes()
    network = build_network("dense:3", 4, "classification", 3)

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(OSError, match="disk full"):
        save_project(project_file, network)
    assert project_file.read_bytes() == before
    assert sorted(p.name for p in project_file.parent.iterdir()) == ["good.nnproj"]


def test_saving_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_project(tmp_path / "no" / "p.nnproj", build_network("dense:3", 4, "classification", 3))
