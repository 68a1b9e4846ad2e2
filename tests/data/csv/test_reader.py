"""The piece-by-piece reader: same result as one piece, file-wide positions in errors,
progress and cancel."""
import io

import numpy as np
import pandas as pd
import pytest

from nnstudio.data import Cancelled, DataError, LoadOptions, load_csv
from nnstudio.data.csv.pieces import iter_pieces
from nnstudio.data.csv.sniff import last_record_end, record_end, sniff

from .conftest import use_small_pieces


def lab_table(n_rows: int, seed: int = 0) -> str:
    """A CSV like a lab's: numbers with gaps, a categorical column, a text label."""
    rng = np.random.default_rng(seed)
    lines = ["height,weight,colour,comment,label"]
    colours = ["red", "green", "blue"]
    for i in range(n_rows):
        height = "" if i % 97 == 5 else f"{rng.normal(170, 10):.2f}"
        comment = f'"note {i}, with a comma"' if i % 3 else f'"line one\nline {i}"'
        lines.append(f"{height},{rng.normal(70, 5):.3f},{colours[i % 3]},{comment},"
                     f"{'abc'[int(rng.integers(0, 3))]}")
    return "\n".join(lines) + "\n"


def test_many_pieces_give_the_same_dataset_as_one(write_csv, monkeypatch):
    path = write_csv(lab_table(3000))
    options = LoadOptions(missing="mean", seed=3)
    whole = load_csv(path, options)
    use_small_pieces(monkeypatch, 2048)
    split = load_csv(path, options)
    assert split.feature_names == whole.feature_names
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "rows_test"):
        np.testing.assert_array_equal(getattr(split, name), getattr(whole, name))


def test_values_match_pandas_across_quoted_newlines(write_csv, small_pieces):
    text = lab_table(1500)
    ds = load_csv(write_csv(text), LoadOptions(standardize=False, missing="mean",
                                               val_fraction=0, test_fraction=0))
    expected = pd.read_csv(io.StringIO(text))
    assert ds.n_train == len(expected) == 1500
    np.testing.assert_allclose(ds.x_train[:, 1], expected["weight"].to_numpy(), rtol=1e-6)
    labels = np.array(ds.class_names)[ds.y_train]
    assert labels.tolist() == expected["label"].tolist()


def test_record_boundaries_respect_quotes():
    data = b'a,b\n1,"x\ny"\n2,"z"\n'
    assert record_end(data, 4) == len(b'a,b\n1,"x\ny"\n')
    assert last_record_end(data) == len(data)
    assert last_record_end(b'a,b\n1,"x\ny') == len(b"a,b\n")
    assert last_record_end(b'1,"open\n2,3\n') == 0


def _numbers_file(n_rows: int, bad_row: int, bad_text: str, column: int = 1) -> str:
    rows = ["a,b,label"]
    for i in range(1, n_rows + 1):
        cells = [f"{i * 0.5:.1f}", f"{i % 7}", "yes" if i % 2 else "no"]
        if i == bad_row:
            cells[column] = bad_text
        rows.append(",".join(cells))
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("bad_text, words", [
    ("inf", ["infinite", "value 'inf'"]),
    ("12x", ["text in a column of numbers", "value '12x'"]),
])
def test_problem_in_a_late_piece_names_file_wide_row_and_line(write_csv, small_pieces,
                                                              bad_text, words):
    path = write_csv(_numbers_file(2000, 1777, bad_text), "late.csv")
    with pytest.raises(DataError) as caught:
        load_csv(path)
    message = str(caught.value)
    assert "late.csv, row 1777 (line 1778), column 'b'" in message
    for word in words:
        assert word in message


def test_ragged_row_in_a_late_piece(write_csv, small_pieces):
    text = _numbers_file(2000, 1500, "1,2")
    with pytest.raises(DataError, match=r"row 1500 \(line 1501\): this row has 4 fields"):
        load_csv(write_csv(text))


def test_bad_byte_in_a_late_piece_names_line_and_column(write_csv, small_pieces):
    text = _numbers_file(2000, 0, "").encode().replace(b"\n800.0,", b"\n800.0,\xff", 1)
    with pytest.raises(DataError) as caught:
        load_csv(write_csv(text))
    assert caught.value.line == 1601
    assert "line 1601, column 'b'" in str(caught.value)
    assert "0xFF is not valid UTF-8" in str(caught.value)


def test_blank_lines_count_as_rows_and_are_skipped(write_csv):
    ds = load_csv(write_csv("a,b,label\n1,2,x\n\n3,4,y\n\n5,6,x\n7,8,y\n"),
                  LoadOptions(val_fraction=0, test_fraction=0, standardize=False))
    assert ds.n_train == 4
    assert ds.report.rows.blank == 2
    assert ds.rows_train.tolist() == [0, 2, 4, 5]
    with pytest.raises(DataError, match=r"row 4 \(line 5\), column 'b', value 'inf'"):
        load_csv(write_csv("a,b,label\n1,2,x\n\n3,4,y\n5,inf,x\n"))


def test_column_with_text_in_sample_stays_text_when_later_pieces_are_numbers(write_csv,
                                                                              small_pieces):
    rows = ["x,code,label"] + [f"{i},{'ab'[i % 2]},{'yn'[i % 3 == 0]}" for i in range(1500)]
    rows += [f"{i},{i % 3},{'yn'[i % 3 == 0]}" for i in range(1500, 1800)]
    ds = load_csv(write_csv("\n".join(rows) + "\n"))
    assert [n for n in ds.feature_names if n.startswith("code=")] == [
        "code=0", "code=1", "code=2", "code=a", "code=b"]


def test_progress_rises_to_one_and_cancel_stops(write_csv, small_pieces):
    path = write_csv(_numbers_file(3000, 0, ""))
    seen = []
    load_csv(path, progress=seen.append)
    assert len(seen) > 5
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0
    polls = []

    def cancel_on_third_poll():
        polls.append(1)
        return len(polls) >= 3

    with pytest.raises(Cancelled):
        load_csv(path, cancel=cancel_on_third_poll)
    assert not issubclass(Cancelled, DataError)


def test_pieces_come_back_in_file_order(write_csv, monkeypatch):
    path = write_csv(_numbers_file(3000, 0, ""))
    fmt = sniff(path, LoadOptions())
    fmt = type(fmt)(**{**fmt.__dict__, "sample_is_whole_file": False})
    import nnstudio.data.csv.pieces as pieces_module
    monkeypatch.setattr(pieces_module, "MIN_STREAM_BYTES", 1000)
    assert len(pieces_module.stream_bounds(fmt, 3)) == 4
    pieces = list(iter_pieces(fmt, frozenset({"label"}), "label", rows=100, workers=3))
    assert len(pieces) >= 30
    firsts = [p.first_row for p in pieces]
    assert firsts == sorted(firsts) and firsts[0] == 0
    assert sum(p.n_rows for p in pieces) == 3000
    a_values = np.concatenate([p.block[:, p.numeric.index("a")] for p in pieces])
    np.testing.assert_allclose(a_values, np.arange(1, 3001) * 0.5)


def test_wide_file_is_read_in_larger_pieces_with_the_right_values(write_csv, small_pieces):
    rng = np.random.default_rng(2)
    values = np.round(rng.normal(size=(60, 300)), 3)
    frame = pd.DataFrame(values, columns=[f"f{j}" for j in range(300)])
    frame["label"] = ["a", "b", "c"] * 20
    path = write_csv(frame.to_csv(index=False))
    import nnstudio.data.csv.pieces as pieces
    fmt = sniff(path, LoadOptions())
    n_chunks = (fmt.size - fmt.data_start) / pieces.chunk_bytes(fmt)
    assert 2 < n_chunks <= pieces.COLUMN_PIECES / 301 + 1  # fewer chunks than 4 KB ones
    ds = load_csv(path, LoadOptions(standardize=False))
    np.testing.assert_array_equal(ds.x_train, values[ds.rows_train].astype(np.float32))
    np.testing.assert_array_equal(ds.x_test, values[ds.rows_test].astype(np.float32))


def test_stream_cuts_follow_newlines(write_csv):
    text = "id,x,label\n" + "".join(f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(400))
    path = write_csv(text)
    fmt = sniff(path, LoadOptions())
    import nnstudio.data.csv.pieces as pieces_module
    data = text.encode()
    for count in range(2, 9):
        bounds = pieces_module.stream_bounds(fmt, count)
        assert bounds[0] == fmt.data_start and bounds[-1] == len(data)
        assert len(bounds) == count + 1 and bounds == sorted(bounds)
        assert all(data[cut - 1:cut] == b"\n" for cut in bounds[1:-1])


@pytest.mark.parametrize("size", [700, 1024, 1500])
def test_streams_cut_inside_quoted_values_load_like_one(write_csv, monkeypatch, size):
    # Half the newlines are inside quotes, so some cuts between streams fall
    # inside a quoted value; the reader must read on and give the same data.
    text = "id,note,label\n" + "".join(f'{i},"a\nb {i % 4}",{"ab"[i % 2]}\n' for i in range(600))
    path = write_csv(text)
    whole = load_csv(path, LoadOptions(standardize=False))
    import nnstudio.data.csv.pieces as pieces_module
    use_small_pieces(monkeypatch, size)
    restarts = []
    original = pieces_module._InOrder._read_on
    monkeypatch.setattr(pieces_module._InOrder, "_read_on",
                        lambda self, *args: restarts.append(1) or original(self, *args))
    split = load_csv(path, LoadOptions(standardize=False))
    assert restarts  # the recovery path was exercised
    np.testing.assert_array_equal(split.x_train, whole.x_train)
    np.testing.assert_array_equal(split.rows_val, whole.rows_val)
    assert split.feature_names == whole.feature_names


def test_unclosed_quote_in_a_middle_stream_is_still_reported(write_csv, small_pieces):
    rows = ["a,b,label"] + [f"{i},{i % 7},{'yn'[i % 2]}" for i in range(1500)]
    rows[700] = '699,"6,y'
    with pytest.raises(DataError, match=r"row 700 \(line 701\): a quoted value starts here"):
        load_csv(write_csv("\n".join(rows) + "\n"))
