"""What the domain promises of its values holds for every value built by hand, not only for those it computes.

The stores rebuild every row through these constructors (decision 0302), so a hand-edited row that
breaks a promise is refused here, naming the field: an installment settled with principal still
open, an open principal above the amount, a negative counter, a string where a flag belongs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from carteira.domain import (
    AmountDue,
    AnticipatedInstallment,
    Anticipation,
    Carnet,
    ChargeTerms,
    CreditLetter,
    CreditLetterStatus,
    EveryDayCalendar,
    Installment,
    InstallmentState,
    InstallmentStatus,
    Money,
    OutcomeKind,
    Payment,
    Reversal,
    SettlementPolicy,
    amount_due,
    settle,
)
from carteira.errors import InvalidInput, InvalidType

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
DUE = date(2025, 3, 10)
NEW = Installment("i1", "c1", DUE, Money("100.00"), TERMS)
PARTIAL = settle(
    NEW,
    Payment(Money("30.00"), date(2025, 4, 9)),
    SettlementPolicy(settle_beyond_tolerance=True),
    calendar=EveryDayCalendar(),
)
FULL = settle(NEW, Payment(Money("100.00"), DUE), SettlementPolicy(), calendar=EveryDayCalendar())
ZERO, TEN = Money.ZERO, Money("10.00")


def _state(installment: Installment) -> dict[str, object]:
    fields = attrs.asdict(installment, recurse=False)
    return {name: fields[name] for name in ("principal_open", "fine_open", "interest_open", "fine_charged",
                                             "interest_from", "status", "latest_settlement_id")}  # fmt: skip


def test_the_states_settle_reaches_are_accepted() -> None:
    assert PARTIAL.kind is OutcomeKind.PARTIAL
    assert FULL.kind is OutcomeKind.FULL
    for installment in (NEW, PARTIAL.installment, FULL.installment):
        assert attrs.evolve(installment) == installment
        assert InstallmentState(**_state(installment)) == installment.state  # type: ignore[arg-type]


# (what is wrong, the installment's fields changed from a reachable state, the field the error names)
BROKEN_INSTALLMENTS: list[tuple[str, Installment, dict[str, object], str]] = [
    ("open principal above the amount", NEW, {"principal_open": Money("100.01")}, "principal_open"),
    ("settled with principal still open", FULL.installment, {"principal_open": TEN}, "status"),
    ("settled with fine still open", FULL.installment, {"fine_open": TEN}, "status"),
    ("settled with interest still open", FULL.installment, {"interest_open": Money("0.01")}, "status"),
    ("open with a fine open", NEW, {"fine_open": TEN}, "status"),
    ("open with a settlement", NEW, {"latest_settlement_id": "i1/S1", "settlements_made": 1}, "status"),
    ("open with the fine charged", NEW, {"fine_charged": True, "interest_from": DUE}, "status"),
    ("open with less than its amount", NEW, {"principal_open": TEN}, "status"),
    (
        "partly settled with nothing left",
        PARTIAL.installment,
        {"principal_open": ZERO, "fine_open": ZERO, "interest_open": ZERO},
        "status",
    ),
    ("partly settled by no settlement", PARTIAL.installment, {"latest_settlement_id": None}, "latest_settlement_id"),
    ("settled by no settlement", FULL.installment, {"latest_settlement_id": None}, "latest_settlement_id"),
    ("a latest settlement but none made", PARTIAL.installment, {"settlements_made": 0}, "settlements_made"),
    ("interest moved without the fine charged", PARTIAL.installment, {"fine_charged": False}, "fine_charged"),
    ("the fine charged without interest moved", PARTIAL.installment, {"interest_from": None}, "interest_from"),
    ("a negative count of settlements", NEW, {"settlements_made": -1}, "settlements_made"),
    ("a negative version", NEW, {"version": -1}, "version"),
    ("a balance beyond the largest amount", PARTIAL.installment, {"fine_open": Money.MAX}, "fine_open"),
    ("a blank id", NEW, {"id": "  "}, "id"),
    ("a blank customer", NEW, {"customer_id": ""}, "customer_id"),
]


@pytest.mark.parametrize(
    ("start", "changes", "field"),
    [pytest.param(start, changes, field, id=name) for name, start, changes, field in BROKEN_INSTALLMENTS],
)
def test_an_installment_that_breaks_a_promise_is_refused(
    start: Installment, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        attrs.evolve(start, **changes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fine_charged": "no"}, "fine_charged"),
        ({"fine_charged": 1}, "fine_charged"),
        ({"status": "settled"}, "status"),
        ({"latest_settlement_id": 7}, "latest_settlement_id"),
        ({"settlements_made": True}, "settlements_made"),
        ({"settlements_made": 1.0}, "settlements_made"),
        ({"version": "0"}, "version"),
        ({"interest_from": "2025-04-09"}, "interest_from"),
    ],
)
def test_an_installment_field_of_the_wrong_type_is_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidType) as caught:
        attrs.evolve(PARTIAL.installment, **changes)
    assert caught.value.field == field


def test_a_settlement_state_that_breaks_a_promise_is_refused() -> None:
    before = PARTIAL.installment.state
    with pytest.raises(InvalidInput) as caught:
        attrs.evolve(before, status=InstallmentStatus.SETTLED)
    assert caught.value.field == "status"
    with pytest.raises(InvalidType) as wrong:
        attrs.evolve(before, fine_charged="yes")
    assert wrong.value.field == "fine_charged"


def test_a_settlement_that_does_not_add_up_is_refused() -> None:
    made = FULL.settlement
    assert made is not None
    for changes, field in [
        ({"principal": Money("99.99")}, "paid"),
        ({"paid": Money("100.01")}, "paid"),
        ({"principal": Money("100.01"), "paid": Money("100.01")}, "principal"),
        ({"extra_charge": Money("-1.00")}, "extra_charge"),
        ({"kind": OutcomeKind.REFUSED}, "kind"),
        ({"credit_letter_id": "i1/S1/L"}, "credit_letter_id"),
        ({"batch_line": 0}, "batch_line"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            attrs.evolve(made, **changes)
        assert caught.value.field == field, changes
    for changes, field in [
        ({"paid": Decimal("100.00")}, "paid"),
        ({"kind": "full"}, "kind"),
        ({"before": NEW}, "before"),
        ({"reversed_on": "2025-03-11"}, "reversed_on"),
        ({"batch_line": True}, "batch_line"),
    ]:
        with pytest.raises(InvalidType) as wrong:
            attrs.evolve(made, **changes)
        assert wrong.value.field == field, changes


def test_an_amount_due_that_does_not_add_up_is_refused() -> None:
    due = amount_due(PARTIAL.installment, on=date(2025, 5, 9), calendar=EveryDayCalendar())
    with pytest.raises(InvalidInput) as caught:
        attrs.evolve(due, total=due.total + Money("0.01"))
    assert caught.value.field == "total"
    with pytest.raises(InvalidType) as wrong:
        attrs.evolve(due, late="yes")
    assert wrong.value.field == "late"


def test_an_outcome_must_agree_with_its_kind() -> None:
    with pytest.raises(InvalidInput) as caught:
        attrs.evolve(FULL, settlement=None)
    assert caught.value.field == "settlement"
    with pytest.raises(InvalidType) as wrong:
        attrs.evolve(FULL, installment=FULL.settlement)
    assert wrong.value.field == "installment"
    assert FULL.settlement is not None
    with pytest.raises(InvalidInput) as not_reversed:
        Reversal(installment=NEW, settlement=FULL.settlement, credit_letter=None)
    assert not_reversed.value.field == "settlement"


CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "a cancelled letter with a balance",
        lambda: CreditLetter("L", "c", TEN, "s", DUE, status=CreditLetterStatus.CANCELLED),
        InvalidInput,
        "balance",
    ),
    ("a letter's negative version", lambda: CreditLetter("L", "c", TEN, "s", DUE, version=-1), InvalidInput, "version"),
    (
        "a present value above the face value",
        lambda: AnticipatedInstallment("i", TEN, DUE, Money("10.01")),
        InvalidInput,
        "present_value",
    ),
    ("an anticipation of nothing", lambda: Anticipation("a", Decimal("0.01"), DUE, ()), InvalidInput, "items"),
    (
        "anticipation items in a list",
        lambda: Anticipation("a", Decimal("0.01"), DUE, [AnticipatedInstallment("i", TEN, DUE, TEN)]),  # type: ignore[arg-type]
        InvalidType,
        "items",
    ),
    ("a carnet of no parcel", lambda: Carnet((), DUE, TEN, "x"), InvalidInput, "parcel_ids"),
    ("a carnet of zero value", lambda: Carnet(("p1",), DUE, ZERO, "x"), InvalidInput, "value"),
    (
        "an amount due with a string flag",
        lambda: AmountDue(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, late="no"),  # type: ignore[arg-type]
        InvalidType,
        "late",
    ),
    ("an outcome with a bool for its reason", lambda: attrs.evolve(FULL, reason=False), InvalidType, "reason"),
    ("an outcome of a float difference", lambda: attrs.evolve(FULL, difference=0.0), InvalidType, "difference"),
    ("a refusal with a settlement", lambda: attrs.evolve(FULL, kind=OutcomeKind.REFUSED), InvalidInput, "settlement"),
]


@pytest.mark.parametrize(
    ("make", "error", "field"), [pytest.param(make, error, field, id=name) for name, make, error, field in CASES]
)
def test_other_values_keep_their_promises(make: Callable[[], object], error: type[Exception], field: str) -> None:
    with pytest.raises(error) as caught:
        make()
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_an_outcome_may_carry_a_negative_difference() -> None:
    under = settle(NEW, Payment(Money("99.50"), DUE), SettlementPolicy(), calendar=EveryDayCalendar())
    assert under.difference == Money("-0.50")
    assert attrs.evolve(under) == under
