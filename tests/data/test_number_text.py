"""The one set of number patterns: what reads as a number for each question the reader asks."""
import pytest

from nnstudio.data.number_text import (is_grouped_number, is_number, looks_like_decimal,
                                       looks_like_number, parse_number)


@pytest.mark.parametrize("text, value", [
    ("1.5", 1.5), (" -2 ", -2.0), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("+4E-1", 0.4),
])
def test_plain_numbers_parse_with_a_decimal_point(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["1,5", "inf", "1.2.3", "", "e5", "1,037", "abc"])
def test_other_texts_are_not_plain_numbers_with_a_decimal_point(text):
    assert parse_number(text) is None


def test_a_decimal_comma_and_thousands_separators_follow_the_mark():
    assert parse_number("1,5", ",") == 1.5 and parse_number("1.5", ",") is None
    assert parse_number("1,037", grouped=True) == 1037.0
    assert parse_number("12.345,5", ",", grouped=True) == 12345.5
    assert is_grouped_number("1,037") and not is_grouped_number("1,37")
    assert is_grouped_number("1.037", ",") and not is_grouped_number("1,037", ",")


def test_a_header_cell_is_a_number_with_either_mark_or_an_infinity():
    for text in ("1.5", "1,5", "inf", "-Infinity", " 2e5 "):
        assert is_number(text), text
    for text in ("name", "1.2.3", "x1", ""):
        assert not is_number(text), text


def test_the_loose_test_accepts_typos_of_numbers_but_not_words():
    assert looks_like_number("1.2.3") and looks_like_number("1,037.5")
    assert not looks_like_number("abc") and not looks_like_number("inf")


def test_fractions_tell_which_decimal_mark_a_file_uses():
    assert looks_like_decimal("1,5", ",") and not looks_like_decimal("1.5", ",")
    assert looks_like_decimal(".5", ".") and not looks_like_decimal("15", ".")
