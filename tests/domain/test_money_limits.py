"""Money holds what the stores hold: NaN, infinities and amounts beyond ``Money.MAX`` are refused, never a crash.

The stores keep money as 64-bit integer cents (decision 0302); ``Money.MAX`` (R$ 999.999.999.999.999,99,
decision 0013) fits them with room for the sum of 92 amounts. Every way a ``Money`` comes to exist, a
constructor or an operation, refuses to make one beyond it with ``InvalidInput`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import Money
from carteira.errors import InvalidInput

MAX_CENTS = 10**17 - 1
BIGINT_MAX = 2**63 - 1


def test_the_limit_is_seventeen_digits_of_cents_and_fits_a_bigint_ninety_two_times() -> None:
    assert Money("999999999999999.99") == Money.MAX
    assert Money.MAX.cents == MAX_CENTS
    assert 92 * MAX_CENTS <= BIGINT_MAX < 93 * MAX_CENTS


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Money(10**26), "amount"),
        (lambda: Money("1e30"), "amount"),
        (lambda: Money("-1e30"), "amount"),
        (lambda: Money(Decimal("1E+17")), "amount"),
        (lambda: Money("1000000000000000.00"), "amount"),
        (lambda: Money("-1000000000000000.00"), "amount"),
        (lambda: Money(10**15), "amount"),
        (lambda: Money("1e999999999"), "amount"),
        (lambda: Money("9" * 5000), "amount"),
        (lambda: Money.from_cents(10**17), "cents"),
        (lambda: Money.from_cents(-(10**17)), "cents"),
        (lambda: Money.from_cents(2**63), "cents"),
        (lambda: Money.from_cents(10**30), "cents"),
        (lambda: Money.rounded(Decimal("1e30")), "exact"),
        (lambda: Money.rounded(Decimal("999999999999999.995")), "exact"),
        (lambda: Money.rounded(Decimal("-999999999999999.995")), "exact"),
        (lambda: Money("1.00") * Decimal("1e30"), "factor"),
        (lambda: Money("1.00") * 10**30, "factor"),
        (lambda: Money.MAX * 2, "factor"),
        (lambda: Money.MAX * Decimal("1.0000000000000001"), "factor"),
        (lambda: Money.MAX + Money("0.01"), "other"),
        (lambda: -Money.MAX - Money("0.01"), "other"),
        (lambda: Money.MAX - -Money.MAX, "other"),
    ],
)
def test_beyond_the_limit_is_invalid_input(make: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make()
    assert caught.value.field == field
    assert "999999999999999.99" in str(caught.value)


@pytest.mark.parametrize(
    "value",
    ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")],
)
def test_nan_and_infinities_are_not_amounts(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(value)  # type: ignore[arg-type]
    assert caught.value.field == "amount"


@pytest.mark.parametrize("factor", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_product_with_nan_or_infinity_is_refused(factor: Decimal) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money("10.00") * factor
    assert caught.value.field == "factor"
    with pytest.raises(InvalidInput):
        factor * Money("10.00")  # type: ignore[operator]


@pytest.mark.parametrize("exact", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity")])
def test_rounding_nan_or_infinity_is_refused(exact: Decimal) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money.rounded(exact)
    assert caught.value.field == "exact"


@pytest.mark.parametrize(
    "value", ["1e-999999999", "0.0000000000000000000000000000001", "10.000000000000000000000000000001"]
)
def test_a_fraction_of_a_cent_at_any_scale_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="whole number of cents"):
        Money(value)


def test_the_limit_itself_and_everything_inside_it_is_exact() -> None:
    assert Money("999999999999999.99") == Money.MAX
    assert Money.from_cents(-MAX_CENTS) == -Money.MAX
    assert Money.MAX - Money("0.01") + Money("0.01") == Money.MAX
    assert Money.rounded(Decimal("999999999999999.994")) == Money.MAX
    assert (Money.MAX - Money.MAX).is_zero()
    assert -Money.MAX + Money.MAX == Money.ZERO


@pytest.mark.parametrize(("text", "reason"), [("abc", "is not a number"), ("NaN", "is not a finite amount")])
def test_text_that_is_not_a_number_says_so(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        Money(text)


def test_zero_at_any_exponent_is_zero() -> None:
    assert Money("0E+20") == Money.ZERO
    assert Money(Decimal("-0E+30")) == Money.ZERO
    assert Money.rounded(Decimal("0E+40")) == Money.ZERO
    assert Money.ZERO * Decimal("1E+30") == Money.ZERO
    assert str(Money("0E+20")) == "0.00"


def test_negative_zero_is_zero() -> None:
    for zero in (Money("-0.00"), Money(Decimal("-0")), -Money.ZERO, Money.ZERO * -1, Money.rounded(Decimal("-0.001"))):
        assert str(zero) == "0.00"
        assert zero.cents == 0


@given(st.integers(-MAX_CENTS, MAX_CENTS), st.integers(-MAX_CENTS, MAX_CENTS))
def test_every_sum_inside_the_limit_is_exact_and_every_one_beyond_is_refused(a: int, b: int) -> None:
    x, y = Money.from_cents(a), Money.from_cents(b)
    for cents, operation in ((a + b, lambda: x + y), (a - b, lambda: x - y)):
        if -MAX_CENTS <= cents <= MAX_CENTS:
            assert operation().cents == cents
        else:
            with pytest.raises(InvalidInput):
                operation()
