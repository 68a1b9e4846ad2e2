"""Every malformed file yields a DataError that says precisely where and what is wrong;
odd but valid files load."""
import pytest

from nnstudio.data import DataError, LoadOptions, load_csv

from .conftest import CORPUS

# file, options, substrings of the message, attributes of the error
ERRORS = [
    ("empty.csv", {}, ["empty.csv", "empty"], {}),
    ("blank_lines.csv", {}, ["blank_lines.csv", "no data"], {}),
    ("header_only.csv", {}, ["header_only.csv", "no data rows", "3 columns"], {}),
    ("ragged_row.csv", {}, ["ragged_row.csv", "row 2", "line 3", "4 fields", "3 columns"],
     {"row": 2, "line": 3}),
    ("ragged_first_row.csv", {}, ["row 1", "line 2", "3 fields", "2 columns"],
     {"row": 1, "line": 2}),
    ("latin1.csv", {}, ["latin1.csv", "line 3", "column 'name'", "0xE9", "UTF-8", "latin-1"],
     {"line": 3, "column": "name"}),
    ("binary.csv", {}, ["binary.csv", "binary", "NUL"], {}),
    ("utf16.csv", {}, ["utf16.csv", "UTF-16", "UTF-8"], {}),
    ("all_missing_target.csv", {}, ["all_missing_target.csv", "column 'label'", "no values"],
     {"column": "label"}),
    ("one_class.csv", {}, ["one_class.csv", "column 'label'", "only one class", "'yes'"],
     {"column": "label"}),
    ("inf_value.csv", {}, ["inf_value.csv", "row 3", "line 4", "column 'x2'", "value 'inf'",
                           "infinite"], {"row": 3, "line": 4, "column": "x2", "value": "inf"}),
    ("minus_infinity.csv", {}, ["row 2", "column 'x2'", "'-Infinity'", "infinite"],
     {"row": 2, "column": "x2", "value": "-Infinity"}),
    ("float32_overflow.csv", {}, ["row 2", "column 'x2'", "'1e39'", "float32"],
     {"row": 2, "column": "x2"}),
    ("duplicate_columns.csv", {}, ["duplicate_columns.csv", "columns 1 and 3", "'a'",
                                   "Rename"], {"column": "a", "line": 1}),
    ("one_class.csv", {"target": "species"},
     ["one_class.csv", "no target column named 'species'", "'x1', 'x2', 'label'"], {}),
    ("unclosed_quote.csv", {}, ["unclosed_quote.csv", "row 2", "line 3", "closing quote"],
     {"row": 2, "line": 3}),
    ("unclosed_quote_header.csv", {}, ["line 1", "never closed"], {"line": 1}),
    ("stray_text.csv", {}, ["stray_text.csv", "row 3", "line 4", "column 'age'", "value '2O'",
                            "text in a column of numbers"],
     {"row": 3, "line": 4, "column": "age", "value": "2O"}),
    ("single_column.csv", {}, ["single_column.csv", "only one column", "delimiter"], {}),
    ("cr_line_endings.csv", {}, ["cr_line_endings.csv", "carriage return only", "line endings"],
     {}),
    ("one_class.csv", {"task": "regression", "target": "label"},
     ["holds text", "'yes'", "regression"], {"column": "label"}),
]


@pytest.mark.parametrize("name, options, parts, attributes", ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_malformed_file_gets_precise_error(name, options, parts, attributes):
    with pytest.raises(DataError) as caught:
        load_csv(CORPUS / name, LoadOptions(**options))
    message = str(caught.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    for attribute, expected in attributes.items():
        assert getattr(caught.value, attribute) == expected


def test_nonexistent_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nowhere.csv: file not found"):
        load_csv(tmp_path / "nowhere.csv")


def test_bom_is_not_part_of_first_column_name():
    ds = load_csv(CORPUS / "bom.csv")
    assert ds.feature_names == ["x1", "x2"]
    assert ds.n_train + ds.n_val + ds.n_test == 4


@pytest.mark.parametrize("name, values", [
    ("semicolon.csv", [[1.5, 2], [3, 4], [5, 6], [7, 8]]),
    ("tab.csv", [[1.5, 2], [3, 4], [5, 6], [7, 8]]),
    ("crlf.csv", [[1, 2], [3, 4], [5, 6]]),
])
def test_other_delimiters_and_line_endings_load(name, values):
    ds = load_csv(CORPUS / name, LoadOptions(standardize=False, val_fraction=0, test_fraction=0))
    assert ds.feature_names == ["x1", "x2"]
    assert ds.class_names == ["a", "b"]
    assert ds.x_train.tolist() == values


def test_semicolon_file_with_decimal_commas_reads_numbers():
    ds = load_csv(CORPUS / "semicolon_decimal_comma.csv",
                  LoadOptions(standardize=False, val_fraction=0, test_fraction=0))
    assert ds.x_train[:, 0].tolist() == [1.5, 3.0, 5.5, 7.25]
    assert ds.x_train[:, 1].tolist() == [2.25, 4.75, 6.0, 8.5]


def test_non_utf8_file_loads_with_named_encoding():
    ds = load_csv(CORPUS / "latin1.csv", LoadOptions(target="grade", encoding="latin-1"))
    assert "name=José" in ds.feature_names


def test_all_missing_feature_column_is_left_out_with_reason():
    ds = load_csv(CORPUS / "all_missing_column.csv")
    assert ds.feature_names == ["x1", "x2"]
    info = next(c for c in ds.report.columns if c.name == "empty")
    assert info.kind == "empty" and not info.used
    assert "empty  empty: all 4 values are missing" in ds.summary()


def test_nan_strings_are_missing_values_and_rows_are_dropped():
    ds = load_csv(CORPUS / "nan_strings.csv", LoadOptions(val_fraction=0, test_fraction=0))
    # column "nan" is all missing (nan, NaN, NAN, empty) and row 2 has nan in x2
    assert ds.feature_names == ["x1", "x2"]
    assert ds.n_train == 3
    assert ds.report.rows.dropped == 1
    assert "x2: 1 (rows dropped)" in ds.summary()


def test_quoted_fields_keep_delimiters_newlines_and_quotes():
    ds = load_csv(CORPUS / "quoted_fields.csv")
    assert {"comment=hello, world", "comment=two\nlines", 'comment=say "hi"'} <= set(
        ds.feature_names)
    row_number = next(c for c in ds.report.columns if c.name == "id")
    assert row_number.kind == "row_number" and not row_number.used


def test_file_without_header_gets_generated_names():
    ds = load_csv(CORPUS / "no_header.csv")
    assert ds.feature_names == ["column_1", "column_2"]
    assert ds.target == "column_3"
    assert ds.n_train + ds.n_val + ds.n_test == 4
