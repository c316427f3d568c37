"""settle() builds its results without the validators (domain/construction.py): they must be what the validators accept.

``evolved()`` runs only the validators of the fields that change: it must make what ``attrs.evolve`` makes, or
refuse with the same error.

Each value settle() returns is rebuilt through its class's own ``__init__`` (``attrs.evolve``
runs every validator and default) and must come back equal, with exactly the class's fields:
a field forgotten in a hot-path dictionary, or a value no constructor would accept, fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from carteira.domain import (
    EveryDayCalendar,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    SettlementPolicy,
    amount_due,
    settle,
    use_credit_letter,
)
from carteira.domain.construction import evolved
from carteira.domain.return_batch import BatchRecord
from carteira.testing.strategies import installments, money, payments, policies


@st.composite
def settled(draw: st.DrawFn) -> tuple[Installment, Payment, SettlementPolicy]:
    installment = draw(installments())
    # A first partial payment leaves fine and interest open, so the second settle() starts from them.
    if draw(st.booleans()):
        first = settle(
            installment, draw(payments(installment=installment)), draw(policies()), calendar=EveryDayCalendar()
        )
        installment = first.installment
    return installment, draw(payments(installment=installment)), draw(policies())


def _values(outcome: object) -> list[object]:
    """Every attrs value reachable from ``outcome`` (the outcome, its records, their states)."""
    found: list[object] = []
    pending = [outcome]
    while pending:
        value = pending.pop()
        if attrs.has(type(value)) and value not in found:
            found.append(value)
            pending.extend(getattr(value, field.name) for field in attrs.fields(type(value)))
    return found


# The classes settle() and amount_due() build directly; the others (Money, ChargeTerms) are passed through.
BUILT = {"SettlementOutcome", "Settlement", "InstallmentState", "Installment", "AmountDue", "CreditLetter"}


def _assert_as_constructed(value: object) -> None:
    names = {field.name for field in attrs.fields(type(value))}
    assert set(vars(value)) == names, type(value).__name__
    assert attrs.evolve(value) == value, type(value).__name__  # type: ignore[misc]


@given(settled())
def test_settle_returns_values_its_constructors_accept(case: tuple[Installment, Payment, SettlementPolicy]) -> None:
    installment, payment, policy = case
    outcome = settle(installment, payment, policy, calendar=EveryDayCalendar())
    values = _values(outcome)
    kinds = {type(value).__name__ for value in values}
    assert {"SettlementOutcome", "Installment", "AmountDue", "Money"} <= kinds
    if outcome.kind is not OutcomeKind.REFUSED:
        assert {"Settlement", "InstallmentState"} <= kinds
    for value in values:
        if type(value).__name__ in BUILT:
            _assert_as_constructed(value)


@given(installments(), st.integers(-30, 400))
def test_amount_due_returns_a_value_its_constructor_accepts(installment: Installment, days: int) -> None:
    _assert_as_constructed(
        amount_due(installment, on=installment.due + timedelta(days=days), calendar=EveryDayCalendar())
    )


@given(settled(), money(min_value=Money("0.01"), max_value=Money("1000.00")))
def test_a_created_credit_letter_is_one_its_constructor_accepts(
    case: tuple[Installment, Payment, SettlementPolicy], extra: Money
) -> None:
    installment, payment, _policy = case
    assume(installment.is_open)
    # Paying more than is due, with no tolerance, always creates a letter of exactly the excess.
    policy = SettlementPolicy(settle_beyond_tolerance=True)
    due = amount_due(installment, on=payment.paid_on, calendar=EveryDayCalendar())
    outcome = settle(installment, Payment(due.total + extra, payment.paid_on), policy, calendar=EveryDayCalendar())
    assert outcome.kind is OutcomeKind.CREDIT_LETTER
    assert outcome.credit_letter is not None
    assert outcome.credit_letter.amount == extra
    _assert_as_constructed(outcome.credit_letter)
    later = attrs.evolve(installment, id=f"{installment.id}-next", due=payment.paid_on)
    used = use_credit_letter(later, outcome.credit_letter, policy, on=payment.paid_on, calendar=EveryDayCalendar())
    assert used.credit_letter is not None
    assert used.credit_letter.balance == outcome.credit_letter.balance - used.settlement.paid  # type: ignore[union-attr]
    for value in _values(used):
        if type(value).__name__ in BUILT:
            _assert_as_constructed(value)


# -- evolved(): attrs.evolve that checks only what changes -----------------------------------------------------

_RECORD = BatchRecord(
    "b1", 7, "06", "liquidation", True, False, "123", None, date(2025, 3, 10), Money("10.00"), Money("10.00"),
    None, None, None, None, None, date(2025, 3, 10), None, links=("i1",), flags=("sum:paid",),
)  # fmt: skip
_AT = datetime(2025, 3, 11, 9, tzinfo=UTC)

_record_changes = st.fixed_dictionaries(
    {},
    optional={
        "line": st.sampled_from([1, 0, -1, "7", True]),
        "note": st.sampled_from(["", "why", None]),
        "settlement_ids": st.sampled_from([(), ("s1",)]),
        "confirmed_once": st.sampled_from([True, False, 1]),
        "flags": st.sampled_from([(), ("sum:paid",), ("",), ("x", 1)]),
        "acknowledged_by": st.sampled_from([None, "ana", ""]),
        "acknowledged_at": st.sampled_from([None, _AT, datetime(2025, 3, 11)]),  # the last one naive
        "version": st.sampled_from([0, 3, -1]),
    },
)


def _same_outcome(make: Callable[[], object], expected: Callable[[], object]) -> None:
    """``make()`` returns what ``expected()`` returns, field by field, or raises the same error with the same text."""
    try:
        wanted = expected()
    except Exception as error:
        refused: Exception = error
    else:
        made = make()
        assert made == wanted
        assert attrs.asdict(made, recurse=False) == attrs.asdict(wanted, recurse=False)  # type: ignore[arg-type]
        return
    with pytest.raises(type(refused)) as raised:
        make()
    assert str(raised.value) == str(refused)


@given(_record_changes)
def test_evolved_record_is_what_attrs_evolve_makes(changes: dict[str, Any]) -> None:
    _same_outcome(lambda: evolved(_RECORD, **changes), lambda: attrs.evolve(_RECORD, **changes))


@given(
    settled(),
    st.fixed_dictionaries(
        {},
        optional={
            "batch_id": st.sampled_from([None, "b1", "", 7]),
            "batch_line": st.sampled_from([None, 1, 0]),
            "paid": st.sampled_from([Money("0.01"), Money("-1.00")]),
            "history": st.sampled_from([None, "pago no caixa"]),
        },
    ),
)
def test_evolved_settlement_is_what_attrs_evolve_makes(
    case: tuple[Installment, Payment, SettlementPolicy], changes: dict[str, Any]
) -> None:
    outcome = settle(*case, calendar=EveryDayCalendar())
    assume(outcome.settlement is not None)
    made = outcome.settlement
    assert made is not None
    _same_outcome(lambda: evolved(made, **changes), lambda: attrs.evolve(made, **changes))


def test_evolved_refuses_a_field_the_class_does_not_have() -> None:
    with pytest.raises(TypeError, match="no field 'colour'"):
        evolved(_RECORD, colour="blue")


@given(settled(), st.sampled_from(["B1", "", None, 7]), st.sampled_from([1, 0, None, "2"]))
def test_a_settlement_named_by_its_batch_record_is_what_attrs_evolve_makes(
    case: tuple[Installment, Payment, SettlementPolicy], batch_id: Any, line: Any
) -> None:
    made = settle(*case, calendar=EveryDayCalendar()).settlement
    assume(made is not None)
    assert made is not None
    _same_outcome(
        lambda: made.by_batch_record(batch_id, line), lambda: attrs.evolve(made, batch_id=batch_id, batch_line=line)
    )
