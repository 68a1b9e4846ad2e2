"""Awkward and hostile CSV files: refused up front naming the file and the problem, read
correctly, or every column left out reported with its reason. Nothing goes silently missing."""
from __future__ import annotations

import os
import re
import threading

import numpy as np
import pytest

from nnstudio.data import DataError, LoadOptions, load_csv, read_table

from .conftest import nnstudio

ONE_SPLIT = dict(standardize=False, val_fraction=0, test_fraction=0)


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind, words", [
    ("fifo", "named pipe (FIFO)"), ("symlink_loop", "loop of symbolic links"),
    ("through_a_file", "is a file, not a folder"), ("long_name", "too long"),
    ("device", "character device"), ("proc_mem", "cannot read the file")])
def test_non_regular_and_unreadable_paths_are_refused_up_front(tmp_path, kind, words):
    path = tmp_path / "data.csv"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it would block forever
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "through_a_file":
        write(tmp_path / "file", "x")
        path = tmp_path / "file" / "data.csv"
    elif kind == "long_name":
        path = tmp_path / ("d" * 300 + ".csv")
    elif kind == "device":
        path = "/dev/zero"
    else:
        path = "/proc/self/mem"
    with pytest.raises(DataError, match=re.escape(words)) as caught:
        load_csv(path)
    assert os.path.basename(str(path))[:40] in str(caught.value)
    code, _, err = nnstudio("train", path, "--epochs", "1", timeout=60)
    assert code == 2 and words in err and err.count("\n") == 1, err


def test_a_fifo_with_a_writer_is_refused_by_name_too(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    writer = threading.Thread(target=lambda: open(path, "w").write("a,b\n1,2\n"), daemon=True)
    writer.start()
    with pytest.raises(DataError, match="pipe.csv: this is a named pipe"):
        load_csv(path)
    with open(path) as drain:  # let the writer finish
        drain.read()
    writer.join(5)


def test_nul_bytes_after_the_head_are_found(tmp_path):
    path = tmp_path / "sparse.csv"
    rows = "".join(f"{i * 0.5},{i % 7},{i % 3}\n" for i in range(40000))  # beyond 256 KB
    write(path, "a,b,c\n" + rows)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size + 64 * 2**20)  # a sparse run of NUL bytes
    with open(path, "ab") as handle:
        handle.write(b"\n1,2,1\n")
    with pytest.raises(DataError, match=r"sparse.csv, line 40002: byte \d+ is a NUL") as caught:
        load_csv(path)
    assert caught.value.line == 40002
    with pytest.raises(DataError, match="is a NUL"):
        read_table(path)


def test_thousands_separators_are_read_as_numbers_and_said_so(tmp_path):
    path = write(tmp_path / "prices.csv",
                 'price,x,label\n"1,037",1,0\n"2,500.5",2,1\n12,3,0\n"13,000",4,1\n')
    dataset = load_csv(path, LoadOptions(**ONE_SPLIT))
    assert dataset.feature_names == ["price", "x"]
    np.testing.assert_allclose(sorted(dataset.x_train[:, 0]), [12, 1037, 2500.5, 13000])
    note = dataset.report.columns[0].note
    assert "thousands separators" in note and "'1,037'" in note


def test_thousands_separators_with_a_decimal_comma(tmp_path):
    path = write(tmp_path / "eu.csv", "price;x;label\n1.037,5;1,5;0\n2.000;2,5;1\n12,25;3;0\n")
    dataset = load_csv(path, LoadOptions(**ONE_SPLIT))
    np.testing.assert_allclose(sorted(dataset.x_train[:, 0]), [12.25, 1037.5, 2000])


def test_a_field_longer_than_the_csv_module_limit_is_read(tmp_path):
    long = "w" * 200_000
    path = write(tmp_path / "long.csv", f"note,x,label\n{long},1,0\nshort,2,1\n{long},3,0\nshort,4,1\n")
    dataset = load_csv(path, LoadOptions(**ONE_SPLIT))
    assert len(dataset.x_train) == 4 and "x" in dataset.feature_names
    header = write(tmp_path / "long_header.csv", f"{long},x,label\n1,2,0\n3,4,1\n5,6,0\n")
    assert len(load_csv(header, LoadOptions(**ONE_SPLIT)).feature_names) == 2


def test_many_distinct_numbers_with_one_late_text_is_an_error_not_a_dropped_column(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"{'oops' if i == 59000 else f'{rng.standard_normal():.6f}'},{i % 5},{i % 2}"
             for i in range(60000)]
    path = write(tmp_path / "many.csv", "x,y,label\n" + "\n".join(lines) + "\n")
    with pytest.raises(DataError, match="text in a column of numbers") as caught:
        load_csv(path)
    assert (caught.value.row, caught.value.column, caught.value.value) == (59001, "x", "oops")


def test_every_left_out_column_is_reported_on_the_command_line(tmp_path):
    path = write(tmp_path / "mixed.csv", "id,const,when,x,label\n" + "".join(
        f"{i},7,2024-01-{i % 28 + 1:02d},{i * 0.1:.1f},{i % 2}\n" for i in range(40)))
    code, _, err = nnstudio("train", path, "--epochs", "1")
    assert code == 0
    for name, reason in (("id", "counts rows"), ("const", "in every row"), ("when", "dates")):
        assert f"column {name!r} left out: " in err and reason in err, err


def test_a_file_that_fails_to_parse_is_not_echoed_beyond_a_short_excerpt(tmp_path):
    secret = "s3cr3t-" * 40
    path = write(tmp_path / "notes.csv", f"{secret}\n{secret}\n")
    with pytest.raises(DataError) as caught:
        load_csv(path)
    assert secret not in str(caught.value) and len(str(caught.value)) < 400
