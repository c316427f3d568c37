"""Brazilian taxpayer numbers: CPF (individuals, 11 digits) and CNPJ (companies, 14 digits) check digits."""

from __future__ import annotations

from collections.abc import Sequence


def _mod11_digit(digits: Sequence[int], weights: Sequence[int]) -> int:
    rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if rest < 2 else 11 - rest


def cpf_is_valid(cpf: str) -> bool:
    """Whether the 11 digits of `cpf` end in their two mod-11 check digits (repeated digits are refused)."""
    if len(cpf) != 11 or not cpf.isdigit() or len(set(cpf)) == 1:
        return False
    digits = [int(c) for c in cpf]
    first = _mod11_digit(digits[:9], range(10, 1, -1))
    second = _mod11_digit([*digits[:9], first], range(11, 1, -1))
    return digits[9:] == [first, second]


_CNPJ_FIRST = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_SECOND = (6, *_CNPJ_FIRST)


def cnpj_is_valid(cnpj: str) -> bool:
    """Whether the 14 digits of `cnpj` end in their two mod-11 check digits (repeated digits are refused)."""
    if len(cnpj) != 14 or not cnpj.isdigit() or len(set(cnpj)) == 1:
        return False
    digits = [int(c) for c in cnpj]
    first = _mod11_digit(digits[:12], _CNPJ_FIRST)
    second = _mod11_digit([*digits[:12], first], _CNPJ_SECOND)
    return digits[12:] == [first, second]
