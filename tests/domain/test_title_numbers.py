"""normalize_title_number: the one form of a bank title number (decision 0201), as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain.title_numbers import normalize_title_number
from carteira.errors import InvalidType

blanks = st.text(alphabet=" \t\r\n", max_size=4)
padding = st.tuples(st.text(alphabet="0 ", max_size=8), blanks)
# Title numbers as banks and ERPs write them: digits, a check digit that may be a letter, a dash, blanks.
numbers = st.text(alphabet="0123456789X- ", max_size=20) | st.text(max_size=20)


@given(st.none() | numbers)
def test_normalizing_twice_is_normalizing_once(text: str | None) -> None:
    once = normalize_title_number(text)
    assert normalize_title_number(once) == once


@given(numbers, padding)
def test_padding_with_zeros_and_blanks_does_not_change_the_result(text: str, pad: tuple[str, str]) -> None:
    left, right = pad
    assert normalize_title_number(left + text + right) == normalize_title_number(text)


@given(numbers)
def test_the_result_has_no_padding_left_and_is_none_rather_than_empty(text: str) -> None:
    result = normalize_title_number(text)
    if result is None:
        assert set(text) <= set("0 \t\r\n\x0b\x0c")
    else:
        assert result[0] not in "0 \t\r\n\x0b\x0c"
        assert result[-1] not in " \t\r\n\x0b\x0c"
        assert result in text  # a slice of the text: nothing inside it changes


@given(st.integers(1, 10**17), st.integers(0, 20))
def test_a_number_padded_to_any_width_gives_the_number(number: int, width: int) -> None:
    assert normalize_title_number(str(number).zfill(width)) == str(number)
    assert normalize_title_number(str(number).rjust(width)) == str(number)
    assert normalize_title_number(str(number).ljust(width)) == str(number)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("000012345 ", "12345"),
        ("12345", "12345"),
        ("  0001234567-X   ", "1234567-X"),
        ("0 012", "12"),  # zeros and blanks mixed in the padding
        ("10 20", "10 20"),  # inner blanks stay
        ("0000", None),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_examples(text: str | None, expected: str | None) -> None:
    assert normalize_title_number(text) == expected


@pytest.mark.parametrize("wrong", [12345, 12.5, b"123"])
def test_anything_but_a_string_or_none_is_refused(wrong: object) -> None:
    with pytest.raises(InvalidType) as raised:
        normalize_title_number(wrong)  # type: ignore[arg-type]
    assert raised.value.field == "bank_title_number"
