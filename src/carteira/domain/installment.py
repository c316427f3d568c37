"""Installments, their open state, and the amount due on a date (SPEC D2, D11)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.construction import built
from carteira.domain.money import _CONTEXT, _DIGITS_BEFORE_THE_POINT, Money, _money, beyond_limit, in_context
from carteira.domain.terms import AmountDue, ChargeTerms, _on_time
from carteira.domain.validation import (
    count_field,
    date_field,
    flag_field,
    instance_field,
    money_field,
    require_calendar,
    require_date,
    require_instance,
    text_field,
)
from carteira.errors import InvalidInput

__all__ = ["Installment", "InstallmentState", "InstallmentStatus", "RevenueKind", "amount_due", "oldest_due_first"]


class InstallmentStatus(enum.Enum):
    """Where an installment stands: nothing paid, partly paid, or settled."""

    OPEN = "open"
    PARTIALLY_SETTLED = "partially_settled"
    SETTLED = "settled"


# Enum members read through their class cost about 0.1 us each on Python 3.11: the hot path, and every
# installment a store loads, read these.
_OPEN, _SETTLED = InstallmentStatus.OPEN, InstallmentStatus.SETTLED


class RevenueKind(enum.Enum):
    """How a settlement is booked (D11): through a bank agreement, or as cash."""

    BANK = "bank"
    CASH = "cash"


def _state_problem(
    principal_open: Decimal,
    fine_open: Decimal,
    interest_open: Decimal,
    fine_charged: bool,
    interest_from: date | None,
    status: InstallmentStatus,
    latest_settlement_id: str | None,
) -> tuple[str, str] | None:
    """``(field, why)`` when an open state breaks what settle() and reverse() keep true of it, else ``None``.

    SETTLED owes nothing; OPEN is the state of a new installment (nothing settled since, or every
    settlement reversed); PARTIALLY_SETTLED still owes something; a state other than OPEN was left by
    a settlement, which it names; a late payment both charges the fine and moves the interest start.
    The balances are the amounts of the Money fields (every store load runs this: Decimals are cheaper).
    """
    owes = bool(principal_open or fine_open or interest_open)
    if status is _SETTLED:
        if owes:
            open_now = f"{principal_open} of principal, {fine_open} of fine and {interest_open} of interest"
            return "status", f"is settled, but {open_now} are open"
    elif status is _OPEN:
        if fine_open or interest_open or fine_charged or latest_settlement_id is not None:
            left = "an open fine or interest, the fine charged, a latest settlement"
            return "status", f"is open (never settled), but holds what only a settlement leaves ({left})"
    elif not owes:
        return "status", "is partially settled, but nothing is left open; make it settled"
    if status is not _OPEN and latest_settlement_id is None:
        return "latest_settlement_id", f"must name the settlement that left it {status.value}"
    if fine_charged is (interest_from is None):
        if fine_charged:
            return "interest_from", "must be set when the fine was charged: a late payment does both"
        return "fine_charged", "must be True when interest_from is set: a late payment does both"
    return None


def _check_state(problem: tuple[str, str] | None, shown: object) -> None:
    if problem is not None:
        field, why = problem
        raise InvalidInput(why, field=field, raw=str(shown))


@attrs.frozen(slots=False)
class InstallmentState:
    """The mutable part of an installment, as a value: what a settlement saves so a reversal restores it exactly.

    Checked as :class:`Installment` checks its own state (a storage adapter rebuilds it from a row).
    """

    principal_open: Money = attrs.field(validator=money_field("principal_open"))
    fine_open: Money = attrs.field(validator=money_field("fine_open"))
    interest_open: Money = attrs.field(validator=money_field("interest_open"))
    fine_charged: bool = attrs.field(validator=flag_field("fine_charged"))
    interest_from: date | None = attrs.field(validator=date_field("interest_from", optional=True))
    status: InstallmentStatus = attrs.field(validator=instance_field(InstallmentStatus, "status"))
    latest_settlement_id: str | None = attrs.field(
        validator=text_field("latest_settlement_id", optional=True, blank=False)
    )

    def __attrs_post_init__(self) -> None:
        _check_state(
            _state_problem(
                self.principal_open.amount,
                self.fine_open.amount,
                self.interest_open.amount,
                self.fine_charged,
                self.interest_from,
                self.status,
                self.latest_settlement_id,
            ),
            self.status.value,
        )


@attrs.frozen(slots=False)
class Installment:
    """One amount owed on one due date; a new one is open for its whole ``amount``.

    ``bank_title_number`` and ``document_number`` are what a return file names it by;
    ``bank_contract`` links it to a bank agreement (its revenue is BANK, D11); ``bank_transmission``
    names the remessa that sent it to a bank, a link a return batch removes when it settles it (B7).
    The state fields (keyword-only: ``principal_open``, ``fine_open``, ``interest_open``,
    ``fine_charged``, ``interest_from``, ``status``, ``latest_settlement_id``, ``settlements_made``)
    move only through
    :func:`~carteira.domain.settle`, :func:`~carteira.domain.reverse` and
    :func:`~carteira.domain.use_credit_letter`; storage adapters pass them when restoring a
    saved installment. ``version`` is storage's optimistic-concurrency counter: the domain
    carries it unchanged.

    A state those verbs cannot reach is refused (``InvalidInput`` naming the field): an open
    principal above the amount; SETTLED with anything open; OPEN with anything but its whole
    amount open and nothing charged; PARTIALLY_SETTLED with nothing open; a state other than OPEN
    without the settlement that left it; the fine charged without the interest start moved, or
    the reverse; a latest settlement with no settlement counted; a balance beyond ``Money.MAX``.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    customer_id: str = attrs.field(validator=text_field("customer_id", blank=False))
    due: date = attrs.field(validator=date_field("due"))
    amount: Money = attrs.field(validator=money_field("amount", positive=True))
    terms: ChargeTerms = attrs.field(validator=instance_field(ChargeTerms, "terms"))
    contract_id: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("contract_id", optional=True)
    )
    number: int = attrs.field(default=1, kw_only=True, validator=count_field("number", 1))
    description: str = attrs.field(default="", kw_only=True, validator=text_field("description"))
    bank_title_number: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("bank_title_number", optional=True)
    )
    document_number: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("document_number", optional=True)
    )
    bank_contract: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("bank_contract", optional=True)
    )
    bank_transmission: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("bank_transmission", optional=True)
    )
    principal_open: Money = attrs.field(
        default=attrs.Factory(lambda self: self.amount, takes_self=True),
        kw_only=True,
        validator=money_field("principal_open"),
    )
    fine_open: Money = attrs.field(default=Money.ZERO, kw_only=True, validator=money_field("fine_open"))
    interest_open: Money = attrs.field(default=Money.ZERO, kw_only=True, validator=money_field("interest_open"))
    fine_charged: bool = attrs.field(default=False, kw_only=True, validator=flag_field("fine_charged"))
    interest_from: date | None = attrs.field(
        default=None, kw_only=True, validator=date_field("interest_from", optional=True)
    )
    status: InstallmentStatus = attrs.field(
        default=InstallmentStatus.OPEN, kw_only=True, validator=instance_field(InstallmentStatus, "status")
    )
    latest_settlement_id: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("latest_settlement_id", optional=True, blank=False)
    )
    settlements_made: int = attrs.field(default=0, kw_only=True, validator=count_field("settlements_made", 0))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    def __attrs_post_init__(self) -> None:
        # On Decimals rather than Money: every installment a store loads runs this.
        principal, fine, interest = self.principal_open.amount, self.fine_open.amount, self.interest_open.amount
        amount = self.amount.amount
        if principal > amount:
            raise InvalidInput(
                f"must not be above the installment's amount {amount}", field="principal_open", raw=str(principal)
            )
        if self.status is _OPEN and principal != amount:
            raise InvalidInput(
                f"is open (never settled), but its open principal is not its whole amount {amount}",
                field="status",
                raw=str(principal),
            )
        latest = self.latest_settlement_id
        _check_state(
            _state_problem(principal, fine, interest, self.fine_charged, self.interest_from, self.status, latest),
            self.status.value,
        )
        if latest is not None and self.settlements_made < 1:
            raise InvalidInput(f"must count settlement {latest}", field="settlements_made", raw="0")
        # Each balance is within the limit; what they add up to must be too, or amount_due could not say it.
        if fine or interest:
            with_fine = _CONTEXT.add(principal, fine)
            if with_fine.adjusted() >= _DIGITS_BEFORE_THE_POINT:
                raise beyond_limit("fine_open", f"a balance of {with_fine}")
            balance = _CONTEXT.add(with_fine, interest)
            if balance.adjusted() >= _DIGITS_BEFORE_THE_POINT:
                raise beyond_limit("interest_open", f"a balance of {balance}")

    @property
    def state(self) -> InstallmentState:
        """The open state as one value (what a settlement records for reversal)."""
        return built(
            InstallmentState,
            {
                "principal_open": self.principal_open,
                "fine_open": self.fine_open,
                "interest_open": self.interest_open,
                "fine_charged": self.fine_charged,
                "interest_from": self.interest_from,
                "status": self.status,
                "latest_settlement_id": self.latest_settlement_id,
            },
        )

    def with_state(self, state: InstallmentState) -> Installment:
        """This installment with ``state`` as its open state (everything else unchanged)."""
        return attrs.evolve(
            self,
            principal_open=state.principal_open,
            fine_open=state.fine_open,
            interest_open=state.interest_open,
            fine_charged=state.fine_charged,
            interest_from=state.interest_from,
            status=state.status,
            latest_settlement_id=state.latest_settlement_id,
        )

    @property
    def balance(self) -> Money:
        """Open principal plus open fine and interest, without charges accrued since."""
        return self.principal_open + self.fine_open + self.interest_open

    @property
    def is_open(self) -> bool:
        """Whether anything is still owed."""
        return self.status is not _SETTLED  # a module constant: an enum member read off its class costs a call

    @property
    def revenue_kind(self) -> RevenueKind:
        """BANK when linked to a bank agreement, else CASH (D11)."""
        return RevenueKind.BANK if self.bank_contract is not None else RevenueKind.CASH


def _advance(
    installment: Installment,
    *,
    principal_open: Money,
    fine_open: Money,
    interest_open: Money,
    fine_charged: bool,
    interest_from: date | None,
    status: InstallmentStatus,
    latest_settlement_id: str,
) -> Installment:
    """``installment`` in a new state after one more settlement, built without re-running the validators.

    Settlement is the hot path and its new state is checked by paired assertions where it is
    computed; re-validating every identity field on each call would only cost time. Installment
    keeps a ``__dict__`` (no slots) so that this copy is one dictionary copy.
    """
    fields = installment.__dict__.copy()
    fields["principal_open"] = principal_open
    fields["fine_open"] = fine_open
    fields["interest_open"] = interest_open
    fields["fine_charged"] = fine_charged
    fields["interest_from"] = interest_from
    fields["status"] = status
    fields["latest_settlement_id"] = latest_settlement_id
    fields["settlements_made"] = fields["settlements_made"] + 1
    return built(Installment, fields)


_NO_CHARGE = Decimal("0.00")

_Priced = tuple[bool, Decimal, Decimal, int, Decimal, Decimal, Decimal]
"""What :func:`_price` returns: ``(late, fine accrued, interest accrued, interest days, fine owed,
interest owed, total owed)``, each owed amount the open balance plus what accrued. A plain tuple of
Decimals, not a record: settle() is the hot path (benchmarks/domain.py)."""


def _is_late(installment: Installment, on: date, calendar: BusinessCalendar) -> bool:
    """Whether a payment of ``installment`` on ``on`` bears charges (D2): the one place the calendar is asked.

    The public verbs call it before they enter the library's decimal context, so the caller's calendar
    runs in the caller's context and can change nothing of the library's (decision 0014).
    """
    due = installment.due
    # `on <= due` first: the common on-time case needs no calendar and no date arithmetic.
    return not (
        on <= due or installment.status is _SETTLED or _on_time(on, due, installment.terms.grace_days, calendar)
    )


def _price(installment: Installment, on: date, late: bool) -> _Priced:
    """What ``installment`` owes on ``on``, balance by balance (D2): the one place the charges are computed.

    ``late`` is what :func:`_is_late` said. Runs in the library's decimal context.
    :func:`amount_due` wraps the result in Money; :func:`~carteira.domain.settle` keeps it as
    Decimals down its hot path.

    Raises:
        InvalidInput: what is owed is beyond the largest amount, ``Money.MAX``.
    """
    principal = installment.principal_open.amount
    fine_owed = installment.fine_open.amount
    interest_owed = installment.interest_open.amount
    if not late:
        return False, _NO_CHARGE, _NO_CHARGE, 0, fine_owed, interest_owed, principal + fine_owed + interest_owed
    terms = installment.terms
    fine = _NO_CHARGE if installment.fine_charged else terms._fine(principal)
    days = (on - (installment.interest_from or installment.due)).days
    # A payment dated before the last late partial payment counts no interest, never negative interest.
    if days > 0:
        interest = terms._interest(principal, days)
    else:
        interest, days = _NO_CHARGE, 0
    fine_owed += fine
    interest_owed += interest
    total = principal + fine_owed + interest_owed
    # A validated installment's balance is within the limit; charges over decades may take it beyond.
    if total.adjusted() >= _DIGITS_BEFORE_THE_POINT:
        raise beyond_limit("installment", f"{total} due on {on.isoformat()} by installment {installment.id}")
    return True, fine, interest, days, fine_owed, interest_owed, total


def amount_due(installment: Installment, *, on: date, calendar: BusinessCalendar) -> AmountDue:
    """What ``installment`` owes if paid on ``on``: open balances plus fine and interest accrued (D2).

    The fine is charged once per installment, on the open principal; interest is simple, on the
    open principal only, in calendar days from the interest start (the original due date, or
    the date of the last late partial payment). A title due on a day ``calendar`` says is closed
    is on time up to the next business day: pass ``BrazilBankingCalendar()`` for boletos, or
    ``EveryDayCalendar()`` where no day is closed.

    Raises:
        InvalidType: ``installment``, ``on`` or ``calendar`` of the wrong type.
        InvalidInput: what is owed on ``on`` is beyond the largest amount, ``Money.MAX``.
    """
    require_instance(installment, Installment, "installment")
    require_date(on, "on")
    require_calendar(calendar)
    return _priced_amount_due(installment, on, _is_late(installment, on, calendar))


@in_context
def _priced_amount_due(installment: Installment, on: date, late: bool) -> AmountDue:
    return _amount_due(installment, _price(installment, on, late))


def _amount_due(installment: Installment, priced: _Priced) -> AmountDue:
    """The :class:`AmountDue` for what :func:`_price` returned, built without re-running validators."""
    late, fine, interest, days, _fine_owed, _interest_owed, total = priced
    return built(
        AmountDue,
        {
            "principal": installment.principal_open,
            "fine_open": installment.fine_open,
            "interest_open": installment.interest_open,
            "fine": _money(fine) if fine else Money.ZERO,
            "interest": _money(interest) if interest else Money.ZERO,
            "total": _money(total),
            "late": late,
            "interest_days": days,
        },
    )


def oldest_due_first(installments: Iterable[Installment]) -> list[Installment]:
    """``installments`` by due date, then parcel number, then id: the order one payment for several pays them (B4)."""
    return sorted(installments, key=lambda item: (item.due, item.number, item.id))
