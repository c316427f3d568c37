"""Brazilian taxpayer numbers as return files give them: CPF (11 digits) and CNPJ (14 digits), check digits.

The reader keeps a payer's number only when its two mod-11 check digits are right: a number that is
not a CPF or CNPJ (an anonymised ``11111111111111``, a slot the bank fills with something else) must
never link a payment to a customer. Both checks run once per distinct number in a file, so they are
written for speed: one table lookup per digit gives both weighted sums at once.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CNPJ_LENGTH", "CPF_LENGTH", "cnpj_is_valid", "cpf_is_valid"]

CPF_LENGTH: Final = 11
"""Digits in a CPF (an individual's number), check digits included."""
CNPJ_LENGTH: Final = 14
"""Digits in a CNPJ (a company's number), check digits included."""

# The first check digit weighs the digits before it, the second weighs those and the first check digit.
_CPF_WEIGHTS: Final = ((10, 9, 8, 7, 6, 5, 4, 3, 2, 0), (11, 10, 9, 8, 7, 6, 5, 4, 3, 2))
_CNPJ_WEIGHTS: Final = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2, 0), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))
_SPLIT: Final = 1000
"""Both weighted sums travel in one integer: first + second * 1000 (the first is at most 9 * 58 < 1000)."""


def _tables(weights: tuple[tuple[int, ...], tuple[int, ...]]) -> tuple[dict[str, int], ...]:
    first, second = weights
    return tuple(
        {str(digit): digit * one + digit * two * _SPLIT for digit in range(10)}
        for one, two in zip(first, second, strict=True)
    )


_CPF_TABLES: Final = _tables(_CPF_WEIGHTS)
_CNPJ_TABLES: Final = _tables(_CNPJ_WEIGHTS)
_CHECK_DIGIT: Final = tuple("0" if rest < 2 else str(11 - rest) for rest in range(11))
"""The check digit for a weighted sum's remainder mod 11, as the character the number ends with."""


def _valid(digits: str, tables: tuple[dict[str, int], ...]) -> bool:
    if len(digits) != len(tables) + 1 or digits == digits[0] * len(digits):
        # A number of one repeated digit passes the arithmetic for CPFs, and is a placeholder everywhere.
        return False
    try:
        both = sum(map(dict.__getitem__, tables, digits))
    except KeyError:  # a character that is not an ASCII digit
        return False
    # The first check digit was looked up above (weight 0 in the first sum), so it is a digit; a last
    # character that is not one cannot equal a computed check digit.
    return _CHECK_DIGIT[both % _SPLIT % 11] + _CHECK_DIGIT[both // _SPLIT % 11] == digits[-2:]


def cpf_is_valid(digits: str) -> bool:
    """Whether ``digits`` is 11 ASCII digits ending in their two check digits (one repeated digit is not)."""
    return _valid(digits, _CPF_TABLES)


def cnpj_is_valid(digits: str) -> bool:
    """Whether ``digits`` is 14 ASCII digits ending in their two check digits (one repeated digit is not)."""
    return _valid(digits, _CNPJ_TABLES)
