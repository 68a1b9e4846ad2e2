"""Exit codes mean what they say: 0 ok, 1 a finding, 2 bad input (one line naming the file
and the problem), 3 our own bug (with the path of a full trace), documented in --help."""
from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from nnstudio import cli

from .conftest import nnstudio


def test_help_documents_every_exit_code():
    for args in ([], ["train"]):
        code, out, _ = nnstudio(*args, "--help")
        assert code == 0
        for line in ("0    success", "1    a finding", "2    bad input", "3    internal error"):
            assert line in out


def run(monkeypatch, capsys, error: BaseException):
    def boom(args):
        raise error
    module = __import__("nnstudio.commands.info", fromlist=["run"])
    monkeypatch.setattr(module, "run", boom)
    code = cli.main(["info", "some.nnproj"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("error, words", [
    (OSError(errno.ELOOP, "Too many levels of symbolic links", "a.nnproj"),
     "a.nnproj: the path is a loop of symbolic links"),
    (OSError(errno.ENOSPC, "No space left on device", "b.nnproj"), "b.nnproj: the disk is full"),
    (OSError(errno.EXDEV, "Invalid cross-device link", "c.tmp", None, "c.nnproj"), "c.tmp -> c.nnproj"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "d/e.nnproj"), "d/e.nnproj"),
    (MemoryError(), "not enough memory"),
    (ValueError("line one\nline two"), "line one line two"),
])
def test_anticipated_failures_exit_2_with_one_line(monkeypatch, capsys, error, words):
    code, err = run(monkeypatch, capsys, error)
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unforeseen_exception_exits_3_with_a_trace_file(monkeypatch, capsys):
    code, err = run(monkeypatch, capsys, KeyError("surprise"))
    assert code == 3 and err.count("\n") == 1
    assert "internal error: KeyError: 'surprise'" in err
    trace = Path(re.search(r"full trace in (\S+)\)", err).group(1))
    text = trace.read_text()
    assert "Traceback" in text and "boom" in text and "nnstudio info some.nnproj" in text
    trace.unlink()


def test_bad_options_exit_2(tmp_path):  # divergence (1): tests/cli/test_train_cli.py
    code, _, err = nnstudio("train", "builtin:xor", "--target", "y")
    assert code == 2 and "do not apply" in err
