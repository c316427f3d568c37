"""Money: exact BRL amounts in whole cents (SPEC D1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import ClassVar

import attrs

from carteira.errors import InvalidInput, InvalidType

__all__ = ["Money"]

_CENT = Decimal("0.01")


def _exact(value: object) -> Decimal:
    """Turn a str, int or Decimal into whole cents, refusing anything that would lose or invent a cent."""
    if isinstance(value, float):
        raise InvalidType(
            f"Money refuses float {value!r}: pass a str ('10.50'), a Decimal, or use Money.from_cents()",
            field="amount",
        )
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidType(f"Money takes str, int or Decimal, not {type(value).__name__}", field="amount")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise InvalidInput("is not a number", field="amount", raw=str(value)) from None
    if not amount.is_finite():
        raise InvalidInput("is not a finite amount", field="amount", raw=str(value))
    quantized = amount.quantize(_CENT, ROUND_HALF_UP)
    if quantized != amount:
        raise InvalidInput(
            "is not a whole number of cents",
            field="amount",
            raw=str(value),
            hint="round derived amounts explicitly with Money.rounded()",
        )
    return quantized


def _refuse_mixed(operation: str, other: object) -> InvalidType:
    return InvalidType(
        f"Money {operation} {type(other).__name__} ({other!r}): both operands must be Money; "
        f"wrap the number as Money('...') first",
        field="other",
    )


@attrs.frozen(eq=False, repr=False)
class Money:
    """An exact amount of Brazilian reais, always a whole number of cents.

    Build it from a ``str``, ``int`` or ``Decimal`` (``Money("10.50")``) or from integer cents
    (``Money.from_cents(1050)``). A float or bool raises :class:`~carteira.errors.InvalidType`
    (a ``TypeError``); more than two decimal places raises ``InvalidInput``, so a derived amount
    goes through :meth:`rounded`, which rounds half up as SPEC D1 says.
    """

    amount: Decimal = attrs.field(converter=_exact)

    ZERO: ClassVar[Money]

    @classmethod
    def from_cents(cls, cents: int) -> Money:
        """The amount of ``cents`` centavos; ``cents`` must be an ``int`` (not a bool or float)."""
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise InvalidType(f"Money.from_cents takes an int, not {type(cents).__name__}", field="cents")
        return _money(Decimal(cents).scaleb(-2))

    @classmethod
    def rounded(cls, exact: Decimal) -> Money:
        """``exact`` rounded to the cent, ROUND_HALF_UP (never the context's HALF_EVEN)."""
        if not isinstance(exact, Decimal):
            raise InvalidType(f"Money.rounded takes a Decimal, not {type(exact).__name__}", field="exact")
        if not exact.is_finite():
            raise InvalidInput("is not a finite amount", field="exact", raw=str(exact))
        return _money(exact.quantize(_CENT, ROUND_HALF_UP))

    @property
    def cents(self) -> int:
        """The amount as integer centavos (``Money("10.50").cents == 1050``)."""
        return int(self.amount * 100)  # exact: the amount is whole cents

    def is_zero(self) -> bool:
        """Whether this is R$ 0,00."""
        return not self.amount

    def __add__(self, other: Money) -> Money:
        if type(other) is not Money:
            raise _refuse_mixed("+", other)
        return _money(self.amount + other.amount)

    def __sub__(self, other: Money) -> Money:
        if type(other) is not Money:
            raise _refuse_mixed("-", other)
        return _money(self.amount - other.amount)

    def __radd__(self, other: object) -> Money:
        # Reached for `Decimal + Money` and for `sum(amounts)` without a Money start: both hide a bare number.
        raise _refuse_mixed("+", other)

    def __rsub__(self, other: object) -> Money:
        raise _refuse_mixed("-", other)

    def __neg__(self) -> Money:
        return _money(-self.amount)

    def __abs__(self) -> Money:
        return _money(abs(self.amount))

    def __mul__(self, factor: Decimal | int) -> Money:
        """Money times a rate or count, the product computed whole and rounded half up to the cent."""
        if isinstance(factor, (float, bool)) or not isinstance(factor, (Decimal, int)):
            raise InvalidType(
                f"Money * {type(factor).__name__} ({factor!r}): multiply by a Decimal or an int",
                field="factor",
            )
        if isinstance(factor, Decimal) and not factor.is_finite():
            raise InvalidInput("is not a finite factor", field="factor", raw=str(factor))
        return _money((self.amount * factor).quantize(_CENT, ROUND_HALF_UP))

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


_new_instance = object.__new__
_set_attribute = object.__setattr__


def _money(amount: Decimal) -> Money:
    """The one trusted constructor: a ``Money`` of ``amount``, which the caller guarantees is whole cents.

    For results of exact arithmetic on two-place values (sums, differences, amounts already
    quantized), where running the converter again would cost more than the arithmetic. The domain
    modules use it; nothing outside ``carteira.domain`` may (adapters call ``Money.from_cents``).
    """
    instance: Money = _new_instance(Money)
    # Frozen attrs classes refuse ordinary assignment; object.__setattr__ is how attrs itself sets them.
    _set_attribute(instance, "amount", amount)
    return instance


Money.ZERO = _money(Decimal("0.00"))
