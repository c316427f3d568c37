"""Hypothesis strategies for carteira's domain values, for users' property tests.

Every strategy draws integers and maps them, so failures shrink towards R$ 0,00, rate 0 and
early dates. ``st.from_type(Money)`` (and the other registered types) works once hypothesis is
imported, through the ``hypothesis`` entry point (:mod:`carteira.testing.registration`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from carteira.domain import (
    ChargeTerms,
    Imputation,
    Installment,
    InterestMode,
    Money,
    Payment,
    SettlementPolicy,
    Tolerance,
)
from carteira.domain.return_batch import BatchRecord, BatchStatus, LinkOrigin, ReturnBatch

__all__ = [
    "batch_records",
    "charge_terms",
    "dates",
    "installments",
    "money",
    "payments",
    "policies",
    "rates",
    "return_batches",
    "tolerances",
]

X = TypeVar("X")

_MONEY_MAX = Money("1000000.00")
_DATE_MIN = date(2020, 1, 1)
_DATE_MAX = date(2030, 12, 31)


def money(*, min_value: Money = Money.ZERO, max_value: Money = _MONEY_MAX) -> st.SearchStrategy[Money]:
    """Any ``Money`` in [min_value, max_value], drawn as integer cents."""
    if min_value > max_value:
        raise InvalidArgument(f"money(min_value={min_value}, max_value={max_value}): min is above max")
    return st.integers(min_value.cents, max_value.cents).map(Money.from_cents)


def rates(*, max_value: Decimal = Decimal("0.10"), places: int = 4) -> st.SearchStrategy[Decimal]:
    """A ``Decimal`` fraction in [0, max_value] with at most ``places`` decimal places."""
    if not Decimal(0) <= max_value <= Decimal(1):
        raise InvalidArgument(f"rates(max_value={max_value}): must be within [0, 1]")
    scale = 10**places
    top = int(max_value * scale)
    return st.integers(0, top).map(lambda units: Decimal(units).scaleb(-places))


def dates(*, min_value: date = _DATE_MIN, max_value: date = _DATE_MAX) -> st.SearchStrategy[date]:
    """A ``date`` in [min_value, max_value]."""
    return st.dates(min_value=min_value, max_value=max_value)


def charge_terms() -> st.SearchStrategy[ChargeTerms]:
    """Any valid ``ChargeTerms``: fine up to 10 %, interest up to 10 % a month, grace up to 10 days."""
    return st.builds(
        ChargeTerms,
        fine_rate=rates(max_value=Decimal("0.10")),
        monthly_interest_rate=rates(max_value=Decimal("0.10")),
        grace_days=st.integers(0, 10),
        interest_mode=st.sampled_from(InterestMode),
        imputation=st.sampled_from(Imputation),
    )


@st.composite
def _installment(
    draw: st.DrawFn, amount: st.SearchStrategy[Money], terms: st.SearchStrategy[ChargeTerms], customer_id: str
) -> Installment:
    number = draw(st.integers(1, 10_000))
    return Installment(
        f"inst-{number}",
        customer_id,
        draw(dates()),
        draw(amount),
        draw(terms),
        number=1 + number % 60,
        bank_contract=draw(st.none() | st.just("bank-001")),
    )


def installments(
    *,
    amount: st.SearchStrategy[Money] | None = None,
    terms: st.SearchStrategy[ChargeTerms] | None = None,
    customer_id: str = "cust-1",
) -> st.SearchStrategy[Installment]:
    """A new open ``Installment`` (due 2020-2030) of ``amount`` (default R$ 0,01 to R$ 100.000,00)."""
    return _installment(
        amount if amount is not None else money(min_value=Money("0.01"), max_value=Money("100000.00")),
        terms if terms is not None else charge_terms(),
        customer_id,
    )


@st.composite
def _payment(draw: st.DrawFn, installment: Installment | None, max_days_late: int) -> Payment:
    if installment is None:
        amount = draw(money(min_value=Money("0.01"), max_value=Money("100000.00")))
        paid_on = draw(dates())
        adjustments_cap = amount
    else:
        paid_on = installment.due + timedelta(days=draw(st.integers(-30, max_days_late)))
        ceiling = installment.principal_open * 2 + Money("1.00")
        amount = draw(money(min_value=Money("0.01"), max_value=ceiling))
        adjustments_cap = installment.principal_open
    discount = draw(st.just(Money.ZERO) | money(max_value=adjustments_cap))
    abatement = draw(st.just(Money.ZERO) | money(max_value=adjustments_cap - discount))
    return Payment(
        amount=amount,
        paid_on=paid_on,
        credited_on=paid_on + timedelta(days=draw(st.integers(0, 3))),
        discount=discount,
        abatement=abatement,
    )


def payments(*, installment: Installment | None = None, max_days_late: int = 400) -> st.SearchStrategy[Payment]:
    """A ``Payment``; given an ``installment``, a plausible one: early to ``max_days_late``, up to twice its value.

    Discount plus abatement never exceed the installment's open principal.
    """
    return _payment(installment, max_days_late)


def tolerances() -> st.SearchStrategy[Tolerance]:
    """A ``Tolerance`` with either limit set or unset (an absolute amount up to R$ 10, a rate up to 1 %)."""
    return st.builds(
        Tolerance,
        amount=st.none() | money(max_value=Money("10.00")),
        rate=st.none() | rates(max_value=Decimal("0.01")),
    )


def policies(*, closing_date: st.SearchStrategy[date | None] | None = None) -> st.SearchStrategy[SettlementPolicy]:
    """A ``SettlementPolicy`` with any tolerances and switch; no closing date unless a strategy is given."""
    return st.builds(
        SettlementPolicy,
        over=tolerances(),
        under=tolerances(),
        settle_beyond_tolerance=st.booleans(),
        closing_date=closing_date if closing_date is not None else st.none(),
    )


# What a return file's text fields hold: printable text, no control characters (PostgreSQL's TEXT
# refuses NUL), a little of it accented, as Brazilian banks' files are.
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)
_DIGITS = st.text("0123456789", min_size=1, max_size=14)
# Movement categories as the return-file port names them (storage keeps them as text).
_CATEGORIES = ("settled", "entry_confirmed", "rejected", "written_off", "reversed", "other")
# What a reader flags on a record (ReturnRecord.flags), and when a person may have acknowledged it.
_FLAGS = ("sequence_gap", "sum:paid", "sum:net_credited")
_INSTANTS = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))


def _optional(strategy: st.SearchStrategy[X]) -> st.SearchStrategy[X | None]:
    return st.none() | strategy


@st.composite
def _batch_record(draw: st.DrawFn, batch_id: str, line: int) -> BatchRecord:
    category = draw(st.sampled_from(_CATEGORIES))
    links = tuple(draw(st.lists(st.sampled_from([f"inst-{n}" for n in range(1, 9)]), max_size=3, unique=True)))
    settled = draw(st.integers(0, len(links)))
    amount = _optional(money(max_value=Money("100000.00")))
    flags = tuple(draw(st.lists(st.sampled_from(_FLAGS), max_size=2, unique=True)))
    acknowledged = None
    if flags and (settled > 0 or draw(st.booleans())):
        acknowledged = (draw(_TEXT.filter(str.strip)), draw(_INSTANTS))
    return BatchRecord(
        batch_id=batch_id,
        line=line,
        movement_code=draw(st.text("0123456789", min_size=2, max_size=2)),
        category=category,
        is_settlement=category == "settled",
        is_rejection=category == "rejected",
        bank_title_number=draw(_optional(_DIGITS)),
        document_number=draw(_optional(_TEXT)),
        due_date=draw(_optional(dates())),
        occurrence_date=draw(_optional(dates())),
        credit_date=draw(_optional(dates())),
        anticipation_id=draw(_optional(_TEXT)),
        anticipation_rate=draw(_optional(rates(places=6))),
        payer_tax_id=draw(_optional(_DIGITS)),
        links=links,
        origin=draw(st.sampled_from(LinkOrigin)) if links else None,
        # Settlement ids are unique in a store: one settlement settles one record.
        settlement_ids=tuple(f"stl-{batch_id}-{line}-{k}" for k in range(settled)),
        confirmed_once=settled > 0 or draw(st.booleans()),
        note=draw(_TEXT),
        flags=flags,
        # A settled flagged record was acknowledged first (confirm settles nothing flagged before).
        acknowledged_by=acknowledged[0] if acknowledged else None,
        acknowledged_at=acknowledged[1] if acknowledged else None,
        face_value=draw(amount),
        paid=draw(amount),
        discount=draw(amount),
        abatement=draw(amount),
        interest_and_fine=draw(amount),
        tariff=draw(amount),
        other_credits=draw(amount),
    )


def batch_records(batch_id: str = "batch-1", *, max_size: int = 12) -> st.SearchStrategy[list[BatchRecord]]:
    """Up to ``max_size`` records of batch ``batch_id`` on distinct lines, in line order, some linked or settled.

    Every field varies (each money field may be ``None``); settlement ids name their batch and line,
    so records of different batches never share one.
    """
    return st.lists(st.integers(1, 100_000), max_size=max_size, unique=True).flatmap(
        lambda lines: st.tuples(*(_batch_record(batch_id, line) for line in sorted(lines))).map(list)
    )


@st.composite
def _return_batch(draw: st.DrawFn, batch_id: str) -> ReturnBatch:
    agreement = draw(_optional(_DIGITS))
    return ReturnBatch(
        id=batch_id,
        description=draw(_TEXT.filter(str.strip)),
        process_date=draw(dates()),
        source=draw(_TEXT),
        digest=hashlib.sha256(draw(st.binary(min_size=1, max_size=16))).hexdigest(),
        layout_id=draw(st.sampled_from(("cnab240", "cnab400", "cnab240-bb"))),
        bank_code=draw(st.text("0123456789", min_size=3, max_size=3)),
        agreement=agreement,
        file_sequence=draw(_optional(st.integers(1, 9_999_999))),
        record_count=draw(st.integers(0, 100_000)),
        status=draw(st.sampled_from(BatchStatus)),
        warnings=tuple(draw(st.lists(_TEXT, max_size=3))),
    )


def return_batches(batch_id: str = "batch-1") -> st.SearchStrategy[ReturnBatch]:
    """A new ``ReturnBatch`` ``batch_id`` (version 0) with any header: agreement and file sequence may be missing."""
    return _return_batch(batch_id)
