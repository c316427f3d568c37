"""Money: exact BRL amounts in whole cents (SPEC D1), within what the stores hold, in the library's decimal context."""

from __future__ import annotations

from collections.abc import Callable
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    setcontext,
)
from functools import wraps
from typing import ClassVar, ParamSpec, TypeVar

import attrs

from carteira.errors import InvalidInput, InvalidType

__all__ = ["Money"]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")

_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The library's own decimal context (decision 0014): Python's default settings, never the caller's.

The domain's arithmetic runs in it, never in ``decimal.getcontext()``: a public function that computes
on Decimals switches to it for its duration (:func:`in_context`, or inline on the hot path) and puts the
caller's back, and ``Money``'s operators pass it explicitly. Private because it is shared by every
thread: nothing may change it, and no code of the caller's runs while it is current.
"""

# Reading text and multiplying by a factor are exact, whatever their digits: nothing is rounded
# before the one rounding to the cent. No trap: NaN or an infinity comes out as a value and is refused.
_EXACT = Context(prec=MAX_PREC, Emin=MIN_EMIN, Emax=MAX_EMAX, traps=[])
_read = _EXACT.create_decimal
_times = _EXACT.multiply
_plus = _CONTEXT.add
_minus = _CONTEXT.subtract

MAX_CENTS = 10**17 - 1
"""The largest amount in cents, either sign: 17 digits (decision 0013)."""
_LIMIT_TEXT = "999999999999999.99"
# Constants from text: arithmetic at import time would run in whatever context the importer has.
_LIMIT = Decimal(_LIMIT_TEXT)
_NEGATIVE_LIMIT = Decimal("-" + _LIMIT_TEXT)
_DIGITS_BEFORE_THE_POINT = 15
"""A finite Decimal but zero is below 10**15 either sign exactly when ``adjusted() < 15``, and within the limit
when it is also whole cents: one method call, where two comparisons read the thread's context and cost more."""
_LIMIT_HINT = "the stores keep 64-bit integer cents; carteira caps every amount at 17 digits to keep sums exact"

P = ParamSpec("P")
R = TypeVar("R")


def in_context(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run in the library's :data:`_CONTEXT`, the caller's context restored after, even on error.

    For public functions that compute on Decimals and call no code of the caller's (a calendar, an
    iterable): that code would run in the library's context, and could change it for every thread.
    """

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        caller = getcontext()
        setcontext(_CONTEXT)
        try:
            return function(*args, **kwargs)
        finally:
            setcontext(caller)

    return run


def beyond_limit(field: str, shown: object) -> InvalidInput:
    """The error for an amount beyond :attr:`Money.MAX` (either sign), naming ``field`` and what it was."""
    return InvalidInput(
        f"is beyond the largest amount, {_LIMIT_TEXT} either sign", field=field, raw=str(shown), hint=_LIMIT_HINT
    )


def _exact(value: object) -> Decimal:
    """Turn a str, int or Decimal into whole cents, refusing anything that would lose or invent a cent."""
    if isinstance(value, float):
        raise InvalidType(
            f"Money refuses float {value!r}: pass a str ('10.50'), a Decimal, or use Money.from_cents()",
            field="amount",
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidType(f"Money takes str, int or Decimal, not {type(value).__name__}", field="amount")
    # Text is read exactly and without the caller's context (whose traps and flags are not ours to touch);
    # what is not a number reads as NaN.
    amount = _read(value.strip()) if isinstance(value, str) else Decimal(value)
    if not amount.is_finite():
        unreadable = isinstance(value, str) and amount.is_nan() and "nan" not in value.lower()
        raise InvalidInput(
            "is not a number" if unreadable else "is not a finite amount", field="amount", raw=printed(value)
        )
    if amount and amount.adjusted() >= _DIGITS_BEFORE_THE_POINT:  # a zero's adjusted() is its exponent
        raise beyond_limit("amount", printed(value))
    try:
        quantized = amount.quantize(_CENT, ROUND_HALF_UP, _CONTEXT)
    except DecimalException:  # an exponent far beyond the context's: certainly not whole cents
        quantized = None
    if quantized != amount:
        raise InvalidInput(
            "is not a whole number of cents",
            field="amount",
            raw=printed(value),
            hint="round derived amounts explicitly with Money.rounded()",
        )
    return quantized if quantized else _ZERO  # -0.00 is 0.00


def printed(value: object, limit: int = 60) -> str:
    """``str(value)`` cut to ``limit`` characters, for an error message; never raises.

    A refused value can be anything: an int of 5,000 digits (whose ``str`` raises ``ValueError``, where a
    Decimal's does not), an object whose ``__str__`` fails. The error must still be the typed one.
    """
    try:
        text = str(Decimal(value)) if isinstance(value, int) else str(value)
    except Exception:  # whatever its str raises, the refusal must not
        text = f"<{type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def quoted(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for an error message; never raises (see :func:`printed`)."""
    try:
        text = repr(Decimal(value)) if isinstance(value, int) and not isinstance(value, bool) else repr(value)
    except Exception:  # whatever its repr raises, the refusal must not
        text = f"<{type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refuse_mixed(operation: str, other: object) -> InvalidType:
    return InvalidType(
        f"Money {operation} {type(other).__name__} ({quoted(other)}): both operands must be Money; "
        f"wrap the number as Money('...') first",
        field="other",
    )


@attrs.frozen(eq=False, repr=False)
class Money:
    """An exact amount of Brazilian reais, always a whole number of cents, at most :attr:`MAX` either sign.

    Build it from a ``str``, ``int`` or ``Decimal`` (``Money("10.50")``) or from integer cents
    (``Money.from_cents(1050)``). A float or bool raises :class:`~carteira.errors.InvalidType`
    (a ``TypeError``); more than two decimal places raises ``InvalidInput``, so a derived amount
    goes through :meth:`rounded`, which rounds half up as SPEC D1 says. NaN, infinities and amounts
    beyond :attr:`MAX` are ``InvalidInput`` too, from a constructor or from an operation: every
    ``Money`` fits the stores' integer cents, and every sum of two is exact. The arithmetic never
    uses, nor changes, the caller's decimal context.
    """

    amount: Decimal = attrs.field(converter=_exact)

    ZERO: ClassVar[Money]
    MAX: ClassVar[Money]
    """R$ 999.999.999.999.999,99, the largest amount either sign: 17 digits of cents (decision 0013)."""

    @classmethod
    def from_cents(cls, cents: int) -> Money:
        """The amount of ``cents`` centavos; ``cents`` must be an ``int`` (not a bool or float) of at most 17 digits."""
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise InvalidType(f"Money.from_cents takes an int, not {type(cents).__name__}", field="cents")
        if not -MAX_CENTS <= cents <= MAX_CENTS:
            raise beyond_limit("cents", printed(cents))
        return _money(Decimal(cents).scaleb(-2, _CONTEXT))

    @classmethod
    def rounded(cls, exact: Decimal) -> Money:
        """``exact`` rounded to the cent, ROUND_HALF_UP (never the context's HALF_EVEN)."""
        if not isinstance(exact, Decimal):
            raise InvalidType(f"Money.rounded takes a Decimal, not {type(exact).__name__}", field="exact")
        if not exact.is_finite():
            raise InvalidInput("is not a finite amount", field="exact", raw=str(exact))
        return _money_rounded(exact, "exact")

    @property
    def cents(self) -> int:
        """The amount as integer centavos (``Money("10.50").cents == 1050``)."""
        return int(self.amount.scaleb(2, _CONTEXT))  # exact: the amount is whole cents of at most 17 digits

    def is_zero(self) -> bool:
        """Whether this is R$ 0,00."""
        return not self.amount

    def __add__(self, other: Money) -> Money:
        if type(other) is not Money:
            raise _refuse_mixed("+", other)
        total = _plus(self.amount, other.amount)
        if total.adjusted() < _DIGITS_BEFORE_THE_POINT:
            return _money(total)
        raise beyond_limit("other", f"{self} + {other}")

    def __sub__(self, other: Money) -> Money:
        if type(other) is not Money:
            raise _refuse_mixed("-", other)
        difference = _minus(self.amount, other.amount)
        if difference.adjusted() < _DIGITS_BEFORE_THE_POINT:
            return _money(difference)
        raise beyond_limit("other", f"{self} - {other}")

    def __radd__(self, other: object) -> Money:
        # Reached for `Decimal + Money` and for `sum(amounts)` without a Money start: both hide a bare number.
        raise _refuse_mixed("+", other)

    def __rsub__(self, other: object) -> Money:
        raise _refuse_mixed("-", other)

    def __neg__(self) -> Money:
        # copy_negate reads no context; zero stays 0.00, never -0.00.
        return _money(self.amount.copy_negate()) if self.amount else self

    def __abs__(self) -> Money:
        return _money(self.amount.copy_abs())

    def __mul__(self, factor: Decimal | int) -> Money:
        """Money times a rate or count, the product computed whole (exactly) and rounded half up to the cent."""
        if isinstance(factor, (float, bool)) or not isinstance(factor, (Decimal, int)):
            raise InvalidType(
                f"Money * {type(factor).__name__} ({quoted(factor)}): multiply by a Decimal or an int",
                field="factor",
            )
        if isinstance(factor, Decimal) and not factor.is_finite():
            raise InvalidInput("is not a finite factor", field="factor", raw=str(factor))
        return _money_rounded(_times(self.amount, factor), "factor")

    __rmul__ = __mul__

    def _check(self, other: object, operation: str) -> Money:
        if type(other) is not Money:
            raise _refuse_mixed(operation, other)
        return other

    def __eq__(self, other: object) -> bool:
        if type(other) is Money:
            return self.amount == other.amount
        if isinstance(other, (int, float, Decimal)):
            # `paid == 0` silently being False is how money bugs start: refuse it outright.
            raise _refuse_mixed("==", other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.amount)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other, "<").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other, "<=").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other, ">").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other, ">=").amount

    def __bool__(self) -> bool:
        raise InvalidType(
            "the truth value of Money is ambiguous: compare with Money.ZERO or call .is_zero()",
            field="self",
        )

    def __repr__(self) -> str:
        return f"Money('{self.amount}')"

    def __str__(self) -> str:
        return str(self.amount)


def _money_rounded(exact: Decimal, field: str) -> Money:
    """``exact`` (finite) rounded half up to the cent, refused as ``field`` when that is beyond the limit."""
    if exact and exact.adjusted() >= _DIGITS_BEFORE_THE_POINT:  # a zero's adjusted() is its exponent
        raise beyond_limit(field, printed(exact))
    cents = exact.quantize(_CENT, ROUND_HALF_UP, _CONTEXT)
    if cents.adjusted() >= _DIGITS_BEFORE_THE_POINT:  # 999999999999999.995 rounds up to 10**15
        raise beyond_limit(field, printed(exact))
    return _money(cents) if cents else Money.ZERO


_new_instance = object.__new__
_set_attribute = object.__setattr__


def _money(amount: Decimal) -> Money:
    """The one trusted constructor: a ``Money`` of ``amount``, which the caller guarantees is whole cents.

    ...and within :attr:`Money.MAX` either sign. For results of exact arithmetic on two-place values
    (sums, differences, amounts already quantized, each bounded), where running the converter again
    would cost more than the arithmetic. The domain modules use it; nothing outside ``carteira.domain``
    may (adapters call ``Money.from_cents``).
    """
    instance: Money = _new_instance(Money)
    # Frozen attrs classes refuse ordinary assignment; object.__setattr__ is how attrs itself sets them.
    _set_attribute(instance, "amount", amount)
    return instance


Money.ZERO = _money(_ZERO)
Money.MAX = _money(_LIMIT)
