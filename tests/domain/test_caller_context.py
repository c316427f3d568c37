"""The library's arithmetic never depends on the caller's decimal context, and never changes it.

A caller may run with ``decimal.getcontext().prec = 10``, other rounding, tiny exponent limits or
every signal trapped; carteira's results must be the ones it gives under Python's default context,
and the caller's context must come back untouched (decision 0014).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    CreditLetter,
    EveryDayCalendar,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    SettlementPolicy,
    Tolerance,
    amount_due,
    anticipate,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.domain.shared_payment import settle_together
from carteira.errors import CarteiraError
from carteira.testing.strategies import installments, money, payments, policies, rates

SIGNALS = [
    decimal.Clamped,
    decimal.DivisionByZero,
    decimal.Inexact,
    decimal.Rounded,
    decimal.Subnormal,
    decimal.Underflow,
    decimal.Overflow,
    decimal.InvalidOperation,
    decimal.FloatOperation,
]
ROUNDINGS = [
    decimal.ROUND_CEILING,
    decimal.ROUND_DOWN,
    decimal.ROUND_FLOOR,
    decimal.ROUND_HALF_DOWN,
    decimal.ROUND_HALF_EVEN,
    decimal.ROUND_HALF_UP,
    decimal.ROUND_UP,
    decimal.ROUND_05UP,
]
CALENDAR = BrazilBankingCalendar()

hostile_contexts = st.builds(
    Context,
    prec=st.integers(1, 27),
    rounding=st.sampled_from(ROUNDINGS),
    Emin=st.integers(-30, 0),
    Emax=st.integers(0, 30),
    capitals=st.sampled_from([0, 1]),
    clamp=st.sampled_from([0, 1]),
    flags=st.just([]),
    traps=st.lists(st.sampled_from(SIGNALS), unique=True),
)


def _default() -> Context:
    """Python's default context, built here so that nothing another test did to DefaultContext matters."""
    return Context(
        prec=28,
        rounding=decimal.ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        capitals=1,
        clamp=0,
        flags=[],
        traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
    )


def _shown(call: Callable[[], object]) -> str:
    """What ``call`` gave, as text precise to the last digit and exponent, or the typed error it raised.

    An error is shown by its class and field: its message quotes the refused value as ``str`` would,
    and ``str`` of a ``Decimal`` in exponent form follows the caller's ``capitals``.
    """
    try:
        return repr(call())
    except CarteiraError as error:
        return f"{type(error).__name__}: {getattr(error, 'field', '')}"


@attrs.frozen
class Case:
    """Inputs for every public computation, built under the default context."""

    installment: Installment
    payment: Payment
    policy: SettlementPolicy
    amount: Money
    other: Money
    factor: Decimal
    cents: int
    exact: Decimal
    rate: Decimal
    text: str


@st.composite
def cases(draw: st.DrawFn) -> Case:
    installment = draw(installments(amount=money(min_value=Money("0.01"), max_value=Money("999999999.99"))))
    return Case(
        installment=installment,
        payment=draw(payments(installment=installment, max_days_late=2000)),
        policy=draw(policies()),
        amount=draw(money(min_value=-Money.MAX, max_value=Money.MAX)),
        other=draw(money(min_value=-Money.MAX, max_value=Money.MAX)),
        factor=draw(st.decimals(min_value=-1000, max_value=1000, allow_nan=False, places=draw(st.integers(0, 30)))),
        cents=draw(st.integers(-(10**17) + 1, 10**17 - 1)),
        exact=draw(st.decimals(min_value=-(10**14), max_value=10**14, allow_nan=False, places=9)),
        rate=draw(rates(max_value=Decimal("0.2"), places=6)),
        text=draw(st.sampled_from(["10.50", "123456789012345.67", "1e2", "0.001", "abc", " 7.00 ", "-0.00"])),
    )


def _results(case: Case) -> list[str]:
    """Every public computation of the domain on ``case``, shown to the last digit."""
    calendar, every_day = CALENDAR, EveryDayCalendar()
    item, paid, policy = case.installment, case.payment, case.policy
    outcome = settle(item, paid, policy, calendar=calendar)
    results = [
        repr(outcome),
        _shown(lambda: amount_due(item, on=paid.paid_on, calendar=calendar)),
        _shown(lambda: settle(item, paid, attrs.evolve(policy, settle_beyond_tolerance=True), calendar=every_day)),
        _shown(lambda: Money(case.text)),
        _shown(lambda: Money(case.exact)),
        _shown(lambda: Money.from_cents(case.cents)),
        _shown(lambda: Money.from_cents(case.cents).cents),
        _shown(lambda: Money.rounded(case.exact)),
        _shown(lambda: case.amount + case.other),
        _shown(lambda: case.amount - case.other),
        _shown(lambda: -case.amount),
        _shown(lambda: abs(case.amount)),
        _shown(lambda: case.amount * case.factor),
        _shown(lambda: case.amount * 3),
        _shown(lambda: (case.amount < case.other, case.amount == case.other, str(case.amount), case.amount.cents)),
        _shown(lambda: present_value(item.amount, item.due, item.due - timedelta(days=95), case.rate)),
        _shown(lambda: anticipate("a1", [item], item.due - timedelta(days=40), case.rate)),
        _shown(lambda: Tolerance(amount=Money("1.00"), rate=case.rate).limit(item.amount)),
        _shown(lambda: item.terms.fine_on(item.amount)),
        _shown(lambda: item.terms.interest_on(item.amount, 47)),
        _shown(lambda: settle_together([item, attrs.evolve(item, id="second")], paid, policy, calendar=calendar)),
    ]
    if outcome.settlement is not None:
        results.append(_shown(lambda: outcome.settlement.conserves()))  # type: ignore[union-attr]
        results.append(_shown(lambda: reverse(outcome.installment, outcome.settlement, policy,  # type: ignore[arg-type]
                                              on=paid.paid_on, credit_letter=outcome.credit_letter)))  # fmt: skip
    letter = CreditLetter("L1", item.customer_id, Money("1234.56"), "origin", item.due)
    results.append(_shown(lambda: use_credit_letter(item, letter, policy, on=paid.paid_on, calendar=calendar)))
    return results


def _state(context: Context) -> tuple[object, ...]:
    traps = tuple(sorted(signal.__name__ for signal, on in context.traps.items() if on))
    flags = tuple(sorted(signal.__name__ for signal, on in context.flags.items() if on))
    return (context.prec, context.rounding, context.Emin, context.Emax, context.capitals, context.clamp, traps, flags)


@given(cases(), hostile_contexts)
def test_results_under_a_hostile_context_are_those_under_the_default(case: Case, hostile: Context) -> None:
    with localcontext(_default()):
        expected = _results(case)
    with localcontext(hostile) as caller:
        before = _state(caller)
        got = _results(case)
        assert decimal.getcontext() is caller
        assert _state(caller) == before
    assert got == expected


def test_a_low_precision_gives_the_right_amount_due() -> None:
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    item = Installment("i1", "c1", date(2025, 1, 10), Money("123456789.99"), terms)
    with localcontext(_default()):
        expected = amount_due(item, on=date(2025, 3, 1), calendar=EveryDayCalendar())
    with localcontext() as caller:
        caller.prec = 10
        assert amount_due(item, on=date(2025, 3, 1), calendar=EveryDayCalendar()) == expected
        assert Money("123456789.99") + Money("1.00") == Money("123456790.99")
        assert repr(Money("99999999.99") + Money("0.01")) == "Money('100000000.00')"  # was 100000000.0
    assert expected.total == Money("127983538.96")  # 123456789.99 + fine 2469135.80 + 50 days 2057613.17


def test_a_trapped_inexact_does_not_escape() -> None:
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    item = Installment("i1", "c1", date(2025, 1, 10), Money("10.00"), terms)
    payment = Payment(Money("10.00"), date(2025, 3, 3))
    with localcontext() as caller:
        caller.clear_flags()  # localcontext copies the flags an earlier computation in this thread left set
        caller.traps[decimal.Inexact] = True
        caller.traps[decimal.Rounded] = True
        outcome = settle(item, payment, SettlementPolicy(settle_beyond_tolerance=True), calendar=EveryDayCalendar())
        assert outcome.kind is OutcomeKind.PARTIAL
        assert Money.rounded(Decimal("1.005")) == Money("1.01")
        assert Money("10.00") * Decimal("0.333") == Money("3.33")
        assert present_value(Money("100.00"), date(2025, 3, 1), date(2025, 1, 1), Decimal("0.01")) == Money("98.06")
        assert not caller.flags[decimal.Inexact]


class _MeddlingCalendar:
    """A calendar that lowers the precision of whatever context is current when it is asked."""

    def is_business_day(self, day: date, /) -> bool:
        decimal.getcontext().prec = 3
        return day.weekday() < 5


def test_a_calendar_runs_in_the_caller_s_context_not_the_library_s() -> None:
    terms = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
    item = Installment("i1", "c1", date(2025, 3, 8), Money("123456.78"), terms)  # due on a Saturday
    late = Payment(Money("1.00"), date(2025, 4, 20))
    with localcontext(_default()):
        expected = settle(item, late, SettlementPolicy(settle_beyond_tolerance=True), calendar=CALENDAR)
    with localcontext(_default()) as caller:
        meddled = settle(item, late, SettlementPolicy(settle_beyond_tolerance=True), calendar=_MeddlingCalendar())
        assert caller.prec == 3  # the calendar changed its own caller's context, as it asked to
    assert repr(meddled) == repr(expected)
    # ...and the library's context was not the one it changed: the next call is still exact.
    again = settle(item, late, SettlementPolicy(settle_beyond_tolerance=True), calendar=CALENDAR)
    assert repr(again) == repr(expected)


@pytest.mark.parametrize("prec", [1, 5, 18])
def test_money_arithmetic_is_exact_at_any_caller_precision(prec: int) -> None:
    big, small = Money("999999999999999.98"), Money("0.01")
    with localcontext(Context(prec=prec, traps=SIGNALS)):
        assert (big + small).cents == 10**17 - 1
        assert (big - big).cents == 0
        assert (-big).cents == -(10**17) + 2
        assert Money.from_cents(10**17 - 1) == Money.MAX
        assert Money("999999999999999.99") == Money.MAX
        assert (big * 1).cents == 10**17 - 2
