"""Bank title numbers (nosso número) in the one form a return file and an installment are compared in (decision 0201).

Banks pad the number with zeros and blanks to their field's width, and ERPs store it with or without
that padding; the return-file reader gives each record's ``bank_title_number`` in this form, and a
linker brings the installment's side to it the same way before comparing.
"""

from __future__ import annotations

from typing import Final

from carteira.errors import InvalidType

__all__ = ["normalize_title_number"]

_BLANKS: Final = " \t\r\n\x0b\x0c"  # what pads a field in a file or a column: spaces, tabs, line ends
_LEADING: Final = "0" + _BLANKS


def normalize_title_number(text: str | None) -> str | None:
    """``text`` without leading zeros and blanks and without trailing blanks; ``None`` when nothing is left.

    ``"000012345 "`` and ``"12345"`` both give ``"12345"``; ``"0000"``, ``"   "`` and ``None`` give
    ``None``. Nothing else changes: letters, check digits and inner blanks stay as they are, so a
    number stored without its check digit must be completed first (decision 0201).

    Raises:
        InvalidType: ``text`` is neither a ``str`` nor ``None`` (an ``int`` would lose the zeros
            some banks' check digits keep).
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidType(f"a bank title number is a str, not {type(text).__name__}", field="bank_title_number")
    return text.lstrip(_LEADING).rstrip(_BLANKS) or None
