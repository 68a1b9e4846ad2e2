"""How a file is written: delimiter and header detection, the options that override them,
and :func:`read_table`'s view of a file."""
import pytest

from nnstudio.data import DataError, LoadOptions, load_csv, read_table
from nnstudio.data.csv.sniff import detect_delimiter, detect_header


def test_read_table_shows_what_the_reader_sees(write_csv):
    frame = read_table(write_csv("a;b;c\n1;NA;x\n2;?;y\n3;5;null\n"), nrows=2)
    assert list(frame.columns) == ["a", "b", "c"]
    assert len(frame) == 2
    assert frame["b"].isna().all()


@pytest.mark.parametrize("text, delimiter", [
    ("a,b,c\n1,2,3\n", ","), ("a;b;c\n1,5;2,5;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"),
    ("a|b\n1|2\n", "|"), ('a,b;c\n"x;y",2;3\n', ","), ("single\n1\n2\n", ","),
])
def test_delimiter_detection(text, delimiter):
    assert detect_delimiter(text) == delimiter


@pytest.mark.parametrize("records, header", [
    ([["a", "b"], ["1", "2"]], True),
    ([["1", "2"], ["3", "4"]], False),
    ([["name", "colour"], ["ann", "red"], ["bob", "blue"]], True),
    ([["ann", "red"], ["bob", "red"], ["cid", "blue"]], False),
    ([["x", "2020"], ["1", "3"]], False),
    ([["a", "b"]], True),
])
def test_header_detection(records, header):
    assert detect_header(records) is header


def test_header_option_overrides_detection(write_csv):
    path = write_csv("1,2,a\n3,4,b\n5,6,a\n7,8,b\n")
    forced = load_csv(path, LoadOptions(header=True))
    assert forced.feature_names == ["1", "2"]
    assert load_csv(path).feature_names == ["column_1", "column_2"]


def test_read_table_reports_problems_with_their_line(write_csv):
    with pytest.raises(DataError, match=r"row 2 \(line 3\): this row has 3 fields"):
        read_table(write_csv("a,b\n1,2\n3,4,5\n"))


def test_delimiter_option_overrides_detection(write_csv):
    path = write_csv("a;b,c\n1;2,x\n3;4,y\n5;6,x\n")
    assert load_csv(path).feature_names[0] == "a;b=1;2"  # detected: comma
    forced = load_csv(path, LoadOptions(delimiter=";", target="b,c"))
    assert forced.feature_names == ["a"]
