"""Settlement with tolerance, partial settlement, credit letters and reversal (SPEC D3-D8, D11, D12).

Every verb here takes the installment first, then the instrument acting on it (a payment, a
credit letter, a settlement to undo), then the policy; everything else is keyword-only. Each
returns a :class:`SettlementResult`: the new installment, the settlement made or reversed, and
the credit letter the operation created, drew or gave back.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, getcontext, setcontext
from typing import Protocol, runtime_checkable

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.construction import built
from carteira.domain.credit import CreditLetter, CreditLetterStatus
from carteira.domain.installment import (
    Installment,
    InstallmentState,
    InstallmentStatus,
    RevenueKind,
    _advance,
    _amount_due,
    _is_late,
    _price,
    _Priced,
)
from carteira.domain.money import _CONTEXT, _LIMIT, _NEGATIVE_LIMIT, Money, _money, beyond_limit, in_context
from carteira.domain.terms import AmountDue, Imputation
from carteira.domain.validation import (
    count_field,
    date_field,
    flag_field,
    instance_field,
    money_field,
    rate_field,
    require_calendar,
    require_date,
    require_instance,
    require_money,
    text_field,
)
from carteira.errors import ClosedPeriod, InvalidInput, RuleViolation

__all__ = [
    "OutcomeKind",
    "Payment",
    "RefusalReason",
    "Reversal",
    "Settlement",
    "SettlementOutcome",
    "SettlementPolicy",
    "SettlementResult",
    "Tolerance",
    "reverse",
    "settle",
    "use_credit_letter",
]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


@attrs.frozen
class Tolerance:
    """A tolerance in one direction: an absolute ``amount``, a ``rate`` of the expected amount, or both.

    The limit is the smaller of the limits that are set; ``None`` means unset and ``0`` means
    zero tolerance; with both unset only an exact match is within (D3).
    """

    amount: Money | None = attrs.field(default=None, validator=money_field("amount", optional=True))
    rate: Decimal | None = attrs.field(default=None, validator=rate_field("rate", optional=True))

    @in_context
    def limit(self, expected: Money) -> Money:
        """The largest difference accepted on ``expected`` (percent rounded half up to the cent)."""
        return self._limit(require_money(expected, "expected").amount)

    def _limit(self, expected: Decimal) -> Money:
        amount = self.amount
        if self.rate is None:
            return Money.ZERO if amount is None else amount
        by_rate = (abs(expected) * self.rate).quantize(_CENT, ROUND_HALF_UP)
        # The tolerance's own amount is returned as it is: settle() keeps it in the outcome as it is.
        return _money(by_rate) if amount is None or by_rate < amount.amount else amount


@attrs.frozen
class SettlementPolicy:
    """The portfolio's settlement parameters: tolerances, what to do beyond them, and the closing date."""

    over: Tolerance = attrs.field(factory=Tolerance, validator=instance_field(Tolerance, "over"))
    under: Tolerance = attrs.field(factory=Tolerance, validator=instance_field(Tolerance, "under"))
    settle_beyond_tolerance: bool = attrs.field(default=False, validator=flag_field("settle_beyond_tolerance"))
    closing_date: date | None = attrs.field(default=None, validator=date_field("closing_date", optional=True))

    def check_open(self, subject: str, on: date, action: str) -> None:
        """Raise :class:`~carteira.errors.ClosedPeriod` when ``on`` is before the closing date (D7)."""
        if self.closing_date is not None and on < self.closing_date:
            raise ClosedPeriod(subject=subject, on=on, closing_date=self.closing_date, action=action)


@attrs.frozen(slots=False)
class Payment:
    """A payment as the bank or gateway reports it.

    ``amount`` is what the payer paid (more than zero), on ``paid_on`` (the settlement date,
    which charges and the closing date use); ``credited_on`` is when the money reached the
    account. ``discount`` and ``abatement`` are what the bank granted; ``bank_charges`` (the
    fee) and ``other`` are recorded on the settlement but take no part in the arithmetic.
    """

    amount: Money = attrs.field(validator=money_field("amount", positive=True))
    paid_on: date = attrs.field(validator=date_field("paid_on"))
    credited_on: date | None = attrs.field(default=None, validator=date_field("credited_on", optional=True))
    discount: Money = attrs.field(default=Money.ZERO, validator=money_field("discount"))
    abatement: Money = attrs.field(default=Money.ZERO, validator=money_field("abatement"))
    bank_charges: Money = attrs.field(default=Money.ZERO, validator=money_field("bank_charges"))
    other: Money = attrs.field(default=Money.ZERO, validator=money_field("other"))


class OutcomeKind(enum.Enum):
    """What ``settle`` did: settled in full, in part, in full with a credit letter, or nothing."""

    FULL = "full"
    PARTIAL = "partial"
    CREDIT_LETTER = "credit_letter"
    REFUSED = "refused"


class RefusalReason(enum.Enum):
    """Why a settlement was refused, for programs; the outcome's ``reason`` says it in words."""

    CLOSED_PERIOD = "closed_period"
    BEYOND_TOLERANCE = "beyond_tolerance"
    NOT_OPEN = "not_open"
    ADJUSTMENTS_EXCEED_PRINCIPAL = "adjustments_exceed_principal"


_CHECK_BATCH_ID = text_field("batch_id", optional=True, blank=False)
_CHECK_BATCH_LINE = count_field("batch_line", 1, optional=True)


@attrs.frozen(slots=False)
class Settlement:
    """One settlement of one installment, with every component of D12 and the state before it.

    ``principal``, ``interest`` and ``fine`` are what it closed of each balance; the parts always
    satisfy ``paid + discount + abatement + extra_discount == principal + interest + fine +
    extra_charge + credit_letter_amount``. ``fine_accrued`` and ``interest_accrued`` are the
    charges that accrued up to ``paid_on``; ``before`` is the installment's state before it, which
    reversal restores. ``source_letter_id`` names the credit letter it was paid with, if any;
    ``credit_letter_id`` the letter it created. ``batch_id`` and ``batch_line`` name the return
    batch and the record of it that settled it, when a batch did (B7, B9). ``history`` is the ERP's
    history code the receipt is recorded under: the gateway account's receipt history when a payment
    notified by the gateway settled it (G1, G6), ``None`` when nobody gave one.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    installment_id: str = attrs.field(validator=text_field("installment_id", blank=False))
    customer_id: str = attrs.field(validator=text_field("customer_id", blank=False))
    kind: OutcomeKind = attrs.field(validator=instance_field(OutcomeKind, "kind"))
    paid: Money = attrs.field(validator=money_field("paid", positive=True))
    paid_on: date = attrs.field(validator=date_field("paid_on"))
    credited_on: date | None = attrs.field(validator=date_field("credited_on", optional=True))
    principal: Money = attrs.field(validator=money_field("principal"))
    interest: Money = attrs.field(validator=money_field("interest"))
    fine: Money = attrs.field(validator=money_field("fine"))
    extra_charge: Money = attrs.field(validator=money_field("extra_charge"))
    extra_discount: Money = attrs.field(validator=money_field("extra_discount"))
    discount: Money = attrs.field(validator=money_field("discount"))
    abatement: Money = attrs.field(validator=money_field("abatement"))
    credit_letter_amount: Money = attrs.field(validator=money_field("credit_letter_amount"))
    bank_charges: Money = attrs.field(validator=money_field("bank_charges"))
    other: Money = attrs.field(validator=money_field("other"))
    fine_accrued: Money = attrs.field(validator=money_field("fine_accrued"))
    interest_accrued: Money = attrs.field(validator=money_field("interest_accrued"))
    revenue_kind: RevenueKind = attrs.field(validator=instance_field(RevenueKind, "revenue_kind"))
    before: InstallmentState = attrs.field(validator=instance_field(InstallmentState, "before"))
    credit_letter_id: str | None = attrs.field(
        default=None, validator=text_field("credit_letter_id", optional=True, blank=False)
    )
    source_letter_id: str | None = attrs.field(
        default=None, validator=text_field("source_letter_id", optional=True, blank=False)
    )
    reversed_on: date | None = attrs.field(default=None, validator=date_field("reversed_on", optional=True))
    batch_id: str | None = attrs.field(default=None, validator=_CHECK_BATCH_ID)
    batch_line: int | None = attrs.field(default=None, validator=_CHECK_BATCH_LINE)
    history: str | None = attrs.field(default=None, validator=text_field("history", optional=True))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @in_context  # one switch for every sum below: Context.add for each would cost three times more
    def __attrs_post_init__(self) -> None:
        problem = _settlement_problem(self)
        if problem is not None:
            field, why = problem
            raise InvalidInput(why, field=field, raw=str(getattr(self, field)))

    @property
    def is_reversed(self) -> bool:
        """Whether this settlement has been reversed."""
        return self.reversed_on is not None

    def by_batch_record(self, batch_id: str, line: int) -> Settlement:
        """This settlement, naming the return batch and the line of its record that made it (B7)."""
        # The two fields' own checks, not the checks across fields: those add up amounts these do not change.
        _CHECK_BATCH_ID(self, None, batch_id)
        _CHECK_BATCH_LINE(self, None, line)
        return built(Settlement, {**self.__dict__, "batch_id": batch_id, "batch_line": line})

    @in_context
    def conserves(self) -> bool:
        """Whether the parts add up to the cent (D12)."""
        return _parts_add_up(self)


def _parts_add_up(made: Settlement) -> bool:
    """:meth:`Settlement.conserves`, in the library's decimal context (decision 0014), which the caller entered."""
    received = made.paid.amount + made.discount.amount + made.abatement.amount + made.extra_discount.amount
    closed = (
        made.principal.amount
        + made.interest.amount
        + made.fine.amount
        + made.extra_charge.amount
        + made.credit_letter_amount.amount
    )
    return received == closed


def _settlement_problem(made: Settlement) -> tuple[str, str] | None:
    """``(field, why)`` when a settlement breaks what settle() keeps true of every one it makes, else ``None``.

    On Decimals rather than Money, in the library's decimal context: every settlement a store loads runs this.
    """
    before = made.before
    if made.kind is _REFUSED:
        return "kind", "a refusal makes no settlement"
    if made.principal.amount > before.principal_open.amount:
        return "principal", f"closes more than the {before.principal_open} of principal that was open"
    if made.fine.amount > before.fine_open.amount + made.fine_accrued.amount:
        return "fine", f"closes more than the {before.fine_open} of fine open plus {made.fine_accrued} accrued"
    if made.interest.amount > before.interest_open.amount + made.interest_accrued.amount:
        return (
            "interest",
            f"closes more than {before.interest_open} of interest open plus {made.interest_accrued} accrued",
        )
    if not _parts_add_up(made):
        return "paid", (
            "the parts do not add up (D12): paid + discount + abatement + extra_discount must equal "
            "principal + interest + fine + extra_charge + credit_letter_amount"
        )
    if made.extra_charge.amount and made.extra_discount.amount:
        return "extra_discount", "a settlement has an extra charge or an extra discount, not both"
    names_a_letter = made.credit_letter_id is not None
    if (made.kind is _CREDIT_LETTER) is not names_a_letter or bool(
        made.credit_letter_amount.amount
    ) is not names_a_letter:
        return "credit_letter_id", "names the letter a credit_letter settlement created, of credit_letter_amount"
    return None


@runtime_checkable
class SettlementResult(Protocol):
    """What :func:`settle`, :func:`use_credit_letter` and :func:`reverse` return, read the same way.

    ``installment`` is the installment's new state (unchanged when refused); ``settlement`` the
    settlement made, or the one now marked reversed (``None`` when refused); ``credit_letter`` the
    letter this operation created, drew from, or gave back to or cancelled (``None`` when none).
    A caller saves all three that are not ``None``. :class:`SettlementOutcome` and
    :class:`Reversal` are its two shapes.
    """

    @property
    def installment(self) -> Installment:
        """The installment's new state."""
        ...

    @property
    def settlement(self) -> Settlement | None:
        """The settlement made or reversed; ``None`` when nothing was settled."""
        ...

    @property
    def credit_letter(self) -> CreditLetter | None:
        """The credit letter created, drawn, given back to or cancelled; ``None`` when none."""
        ...


@attrs.frozen(slots=False)
class SettlementOutcome:
    """The result of :func:`settle` and :func:`use_credit_letter`: its ``kind``, the new state, and what was recorded.

    A :class:`SettlementResult`: ``installment`` is the new state; ``settlement`` is ``None`` when
    refused; ``credit_letter`` is the letter created by an over-payment beyond tolerance
    (:func:`settle`) or the letter drawn (:func:`use_credit_letter`). ``reason`` explains a refusal
    (or a partial) in words and ``refusal`` in a code; ``difference`` is ``paid - expected`` and
    ``limit`` the tolerance limit that applied; ``due`` the amount due on the payment date.
    """

    kind: OutcomeKind = attrs.field(validator=instance_field(OutcomeKind, "kind"))
    installment: Installment = attrs.field(validator=instance_field(Installment, "installment"))
    settlement: Settlement | None = attrs.field(validator=instance_field(Settlement, "settlement", optional=True))
    credit_letter: CreditLetter | None = attrs.field(
        validator=instance_field(CreditLetter, "credit_letter", optional=True)
    )
    reason: str = attrs.field(validator=text_field("reason"))
    difference: Money = attrs.field(validator=money_field("difference", signed=True))
    expected: Money = attrs.field(validator=money_field("expected", signed=True))
    limit: Money = attrs.field(validator=money_field("limit"))
    due: AmountDue = attrs.field(validator=instance_field(AmountDue, "due"))
    refusal: RefusalReason | None = attrs.field(
        default=None, validator=instance_field(RefusalReason, "refusal", optional=True)
    )

    def __attrs_post_init__(self) -> None:
        refused = self.kind is OutcomeKind.REFUSED
        if refused is not (self.settlement is None):
            raise InvalidInput(
                "is made exactly when the outcome is not refused", field="settlement", raw=self.kind.value
            )
        if refused is (self.refusal is None):
            raise InvalidInput("says why exactly when the outcome is refused", field="refusal", raw=self.kind.value)


@attrs.frozen(slots=False)
class Reversal:
    """The result of :func:`reverse`, a :class:`SettlementResult`.

    ``installment`` is restored to its state before the settlement; ``settlement`` is the one now
    marked reversed (``reversed_on`` set); ``credit_letter`` is the letter cancelled or given its
    amount back (``None`` when the settlement neither created nor used one).
    """

    installment: Installment = attrs.field(validator=instance_field(Installment, "installment"))
    settlement: Settlement = attrs.field(validator=instance_field(Settlement, "settlement"))
    credit_letter: CreditLetter | None = attrs.field(
        validator=instance_field(CreditLetter, "credit_letter", optional=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.settlement.reversed_on is None or self.settlement.installment_id != self.installment.id:
            raise InvalidInput(
                f"must be a reversed settlement of installment {self.installment.id}",
                field="settlement",
                raw=self.settlement.id,
            )


def settle(
    installment: Installment, payment: Payment, policy: SettlementPolicy, *, calendar: BusinessCalendar
) -> SettlementOutcome:
    """Settle ``installment`` with ``payment`` under ``policy``: in full, in part, with a credit letter, or not.

    The expected amount is the amount due on ``payment.paid_on`` (``calendar`` says which days are
    closed: a title due on one is on time up to the next business day, D2) less the bank's discount
    and abatement. A difference within tolerance settles in full and is recorded as
    ``extra_charge`` or ``extra_discount``; beyond it the payment is refused unless the policy
    settles beyond tolerance, in which case an under-payment is a partial settlement (D5) and an
    over-payment settles in full and creates a credit letter (D4). A payment dated before the
    closing date is refused (D7). A refusal is an outcome, not an exception.

    Raises:
        InvalidType: an argument of the wrong type.
        InvalidInput: what is owed on the payment date is beyond the largest amount, ``Money.MAX``.
    """
    if (
        type(installment) is not Installment
        or type(payment) is not Payment
        or type(policy) is not SettlementPolicy
        or not hasattr(calendar, "is_business_day")
        or isinstance(calendar, type)
    ):
        require_instance(installment, Installment, "installment")
        require_instance(payment, Payment, "payment")
        require_instance(policy, SettlementPolicy, "policy")
        require_calendar(calendar)
    late = _is_late(installment, payment.paid_on, calendar)  # the caller's calendar, in the caller's context
    # The library's own decimal context for the arithmetic (decision 0014), set by hand rather than
    # through `in_context` or `localcontext`: this is the hot path, and they cost more (docs/performance.md).
    caller = getcontext()
    setcontext(_CONTEXT)
    try:
        return _settle(installment, payment, policy, late, None)
    finally:
        setcontext(caller)


# Enum members read through their class cost about 0.1 us each on Python 3.11, a dozen a call:
# the stages below read these aliases instead.
_FULL, _PARTIAL, _CREDIT_LETTER = OutcomeKind.FULL, OutcomeKind.PARTIAL, OutcomeKind.CREDIT_LETTER
_REFUSED = OutcomeKind.REFUSED
_SETTLED, _PARTIALLY_SETTLED = InstallmentStatus.SETTLED, InstallmentStatus.PARTIALLY_SETTLED
_CASH, _BANK = RevenueKind.CASH, RevenueKind.BANK

# The four stages of _settle pass plain tuples of Decimals between them, not records: this is the
# library's hot path (benchmarks/domain.py), where a named tuple per stage would cost more than the
# arithmetic of the stage. The aliases name their parts; the first stage's, `_Priced`, is `amount_due`'s too.
_Decision = tuple[OutcomeKind, str, RefusalReason | None, Decimal, Decimal, Decimal, Money]
"""(kind, reason, refusal, discount plus abatement, expected, difference, tolerance limit)."""
_Parts = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]
"""What the payment closed: (principal, interest, fine, extra charge, extra discount, credit letter)."""


def _settle(
    installment: Installment,
    payment: Payment,
    policy: SettlementPolicy,
    late: bool,
    source_letter_id: str | None,
) -> SettlementOutcome:
    """:func:`settle` on checked arguments, in its four stages; ``source_letter_id`` names the letter paying, if any.

    ``late`` is what ``_is_late`` said of the payment date; runs in the library's decimal context.

    Price the charges (what is owed on the payment date), decide the outcome (refused, full,
    partial, credit letter), impute the payment (what it closes of each balance), record the
    results (the settlement, the letter, the next installment, the outcome).
    """
    priced = _price(installment, payment.paid_on, late)
    decision = _decide(installment, payment, policy, priced)
    if decision[0] is _REFUSED:
        return _record_refusal(installment, priced, decision)
    parts = _impute_payment(installment, payment, priced, decision)
    return _record(installment, payment, priced, decision, parts, source_letter_id)


def _decide(installment: Installment, payment: Payment, policy: SettlementPolicy, priced: _Priced) -> _Decision:
    """Stage 2, decide the outcome: refused (D7, not open, adjustments), within tolerance, or beyond it (D3, D4).

    The payment is measured against ``expected``, the total owed less the bank's discount and
    abatement; ``difference`` is ``paid - expected``.
    """
    adjustments = payment.discount.amount + payment.abatement.amount
    expected = priced[6] - adjustments
    difference = payment.amount.amount - expected
    if installment.status is _SETTLED:
        reason = f"installment {installment.id} is already settled"
        return _REFUSED, reason, RefusalReason.NOT_OPEN, adjustments, expected, difference, Money.ZERO
    on, closing = payment.paid_on, policy.closing_date
    if closing is not None and on < closing:
        reason = (
            f"installment {installment.id}: settlement date {on.isoformat()} is before the closing date "
            f"{closing.isoformat()}"
        )
        return _REFUSED, reason, RefusalReason.CLOSED_PERIOD, adjustments, expected, difference, Money.ZERO
    principal = installment.principal_open.amount
    if adjustments > principal:
        reason = (
            f"installment {installment.id}: discount plus abatement {adjustments} exceed the open principal {principal}"
        )
        refusal = RefusalReason.ADJUSTMENTS_EXCEED_PRINCIPAL
        return _REFUSED, reason, refusal, adjustments, expected, difference, Money.ZERO
    over = difference > _ZERO
    limit = (policy.over if over else policy.under)._limit(expected)
    if abs(difference) <= limit.amount:
        return _FULL, "", None, adjustments, expected, difference, limit
    if not policy.settle_beyond_tolerance:
        reason = f"{'overpaid' if over else 'underpaid'} {abs(difference)}, limit {limit}"
        return _REFUSED, reason, RefusalReason.BEYOND_TOLERANCE, adjustments, expected, difference, limit
    if over:
        reason = f"overpaid {difference}, limit {limit}: credit letter {difference}"
        return _CREDIT_LETTER, reason, None, adjustments, expected, difference, limit
    reason = f"underpaid {-difference}, limit {limit}: partial settlement"
    return _PARTIAL, reason, None, adjustments, expected, difference, limit


_IMPUTATION_ORDER = {
    Imputation.INTEREST_FINE_PRINCIPAL: (0, 1, 2),
    Imputation.FINE_INTEREST_PRINCIPAL: (1, 0, 2),
    Imputation.PRINCIPAL_INTEREST_FINE: (2, 0, 1),
}


def _impute_payment(installment: Installment, payment: Payment, priced: _Priced, decision: _Decision) -> _Parts:
    """Stage 3, impute the payment: what it closes of each balance, and where a difference goes (D3-D5, D12).

    A full settlement closes every balance and records the difference as an extra charge, an
    extra discount, or (beyond tolerance) a credit letter. A partial one applies the bank's
    discount and abatement to principal, then the payment in the contract's imputation order.
    """
    kind, _reason, _refusal, adjustments, _expected, difference, _limit = decision
    fine_owed, interest_owed = priced[4], priced[5]
    principal = installment.principal_open.amount
    paid = payment.amount.amount
    extra_charge = extra_discount = letter = _ZERO
    if kind is _PARTIAL:
        interest, fine, principal_paid = _impute(
            installment.terms.imputation, paid, interest_owed, fine_owed, principal - adjustments
        )
        closed = adjustments + principal_paid
    else:
        interest, fine, closed = interest_owed, fine_owed, principal
        if kind is _CREDIT_LETTER:
            letter = difference
        elif difference > _ZERO:
            extra_charge = difference
        else:
            extra_discount = -difference
    # Paired invariants: the parts add up (D12), and no balance is closed beyond what it holds.
    assert paid + adjustments + extra_discount == closed + interest + fine + extra_charge + letter, (
        installment,
        payment,
    )
    assert closed <= principal, (closed, principal)
    assert fine <= fine_owed, (fine, fine_owed)
    assert interest <= interest_owed, (interest, interest_owed)
    return closed, interest, fine, extra_charge, extra_discount, letter


def _impute(
    order: Imputation, paid: Decimal, interest: Decimal, fine: Decimal, principal: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """Split ``paid`` across the open balances in the contract's order; returns (interest, fine, principal) paid."""
    balances = (interest, fine, principal)
    taken = [_ZERO, _ZERO, _ZERO]
    left = paid
    for index in _IMPUTATION_ORDER[order]:
        balance = balances[index]
        part = balance if balance < left else left
        taken[index] = part
        left -= part
    return taken[0], taken[1], taken[2]


def _record(
    installment: Installment,
    payment: Payment,
    priced: _Priced,
    decision: _Decision,
    parts: _Parts,
    source_letter_id: str | None,
) -> SettlementOutcome:
    """Stage 4, record the results: the settlement, the letter it creates, the next installment, the outcome.

    The only stage that builds records without their validators (domain/construction.py): their
    parts were validated when they came in, derived by the stages above and checked by their
    paired assertions; tests/domain/test_construction.py rebuilds each through its constructor.
    """
    late, _fine, _interest, _days, fine_owed, interest_owed, total = priced
    kind, reason, _refusal, _adjustments, expected, difference, limit = decision
    closed, interest, fine, _extra_charge, _extra_discount, letter_amount = parts
    due = _amount_due(installment, priced)
    # An extra charge and a credit letter are the difference itself: one Money serves for both.
    difference_money = _money(difference)
    settlement_id = f"{installment.id}/S{installment.settlements_made + 1}"
    letter = None
    if letter_amount:
        letter = _created_letter(installment, settlement_id, difference_money, payment.paid_on)
    settlement = _settlement(
        installment, payment, settlement_id, kind, due, parts, difference_money, letter, source_letter_id
    )
    after = _advance(
        installment,
        principal_open=_cents(installment.principal_open.amount - closed),
        fine_open=_cents(fine_owed - fine),
        interest_open=_cents(interest_owed - interest),
        # A late payment charges the fine for good and moves the interest start (D5).
        fine_charged=installment.fine_charged or late,
        interest_from=payment.paid_on if late else installment.interest_from,
        status=_PARTIALLY_SETTLED if kind is _PARTIAL else _SETTLED,
        latest_settlement_id=settlement_id,
    )
    return built(
        SettlementOutcome,
        {
            "kind": kind,
            "installment": after,
            "settlement": settlement,
            "credit_letter": letter,
            "reason": reason,
            "difference": difference_money,
            "expected": due.total if expected == total else _money(expected),
            "limit": limit,
            "due": due,
            "refusal": None,
        },
    )


def _created_letter(installment: Installment, settlement_id: str, amount: Money, on: date) -> CreditLetter:
    """The credit letter an over-payment beyond tolerance creates (D4), part of the recording stage."""
    return built(
        CreditLetter,
        {
            "id": f"{settlement_id}/L",
            "customer_id": installment.customer_id,
            "amount": amount,
            "origin_settlement_id": settlement_id,
            "created_on": on,
            "balance": amount,
            "status": CreditLetterStatus.ACTIVE,
            "version": 0,
        },
    )


def _settlement(
    installment: Installment,
    payment: Payment,
    settlement_id: str,
    kind: OutcomeKind,
    due: AmountDue,
    parts: _Parts,
    difference: Money,
    letter: CreditLetter | None,
    source_letter_id: str | None,
) -> Settlement:
    """The :class:`Settlement` record of the recording stage, every D12 component a ``Money``."""
    closed, interest, fine, extra_charge, extra_discount, _letter_amount = parts
    principal_open = installment.principal_open
    zero = Money.ZERO
    return built(
        Settlement,
        {
            "id": settlement_id,
            "installment_id": installment.id,
            "customer_id": installment.customer_id,
            "kind": kind,
            "paid": payment.amount,
            "paid_on": payment.paid_on,
            "credited_on": payment.credited_on,
            "principal": principal_open if closed == principal_open.amount else _money(closed),
            # Most installments have nothing open but principal: what was paid of each charge is
            # then the charge itself, and its Money object can be shared.
            "interest": due.interest if interest == due.interest.amount else _cents(interest),
            "fine": due.fine if fine == due.fine.amount else _cents(fine),
            "extra_charge": difference if extra_charge else zero,
            "extra_discount": _cents(extra_discount),
            "discount": payment.discount,
            "abatement": payment.abatement,
            "credit_letter_amount": zero if letter is None else difference,
            "bank_charges": payment.bank_charges,
            "other": payment.other,
            "fine_accrued": due.fine,
            "interest_accrued": due.interest,
            "revenue_kind": _CASH if installment.bank_contract is None else _BANK,
            "before": installment.state,
            "credit_letter_id": None if letter is None else letter.id,
            "source_letter_id": source_letter_id,
            "reversed_on": None,
            "batch_id": None,
            "batch_line": None,
            "history": None,
            "version": 0,
        },
    )


def _record_refusal(installment: Installment, priced: _Priced, decision: _Decision) -> SettlementOutcome:
    """The recording stage of a refusal: nothing changes, and the outcome says why (built through its constructor)."""
    kind, reason, refusal, _adjustments, expected, difference, limit = decision
    return SettlementOutcome(
        kind=kind,
        installment=installment,
        settlement=None,
        credit_letter=None,
        reason=reason,
        difference=_bounded(difference),
        expected=_bounded(expected),
        limit=limit,
        due=_amount_due(installment, priced),
        refusal=refusal,
    )


def _bounded(amount: Decimal) -> Money:
    """``amount`` (whole cents) as Money, refused as the payment's when beyond the limit.

    Only a refusal can measure so far off: its discount and abatement were not checked against the
    principal, so the difference may reach three times the largest amount.
    """
    if _NEGATIVE_LIMIT <= amount <= _LIMIT:
        return _money(amount)
    raise beyond_limit("payment", f"a difference of {amount} from what is owed")


def _cents(amount: Decimal) -> Money:
    # Zero is the most common component (no extra discount, nothing left open): share one object.
    return _money(amount) if amount else Money.ZERO


def reverse(
    installment: Installment,
    settlement: Settlement,
    policy: SettlementPolicy,
    *,
    on: date,
    credit_letter: CreditLetter | None = None,
) -> Reversal:
    """Undo ``settlement``, the latest of ``installment``, on ``on``, restoring its state exactly (D8).

    ``credit_letter`` is the letter the settlement created (it is cancelled) or the letter it
    was paid with (the amount goes back to it); it is required in either case.

    Raises:
        ClosedPeriod: the settlement or the reversal is dated before the closing date (D7).
        RuleViolation: the settlement is not the installment's latest, is already reversed, or
            created a credit letter that was already used (D8).
        InvalidInput: the arguments do not belong together.
        InvalidType: an argument of the wrong type.
    """
    require_instance(installment, Installment, "installment")
    require_instance(settlement, Settlement, "settlement")
    require_instance(policy, SettlementPolicy, "policy")
    require_date(on, "on")
    if credit_letter is not None:
        require_instance(credit_letter, CreditLetter, "credit_letter")
    if settlement.installment_id != installment.id:
        raise InvalidInput(
            f"settlement {settlement.id} belongs to installment {settlement.installment_id}, not {installment.id}",
            field="settlement",
        )
    if settlement.is_reversed:
        raise RuleViolation(f"settlement {settlement.id} is already reversed", rule="D8", subject=settlement.id)
    if installment.latest_settlement_id != settlement.id:
        raise RuleViolation(
            f"settlement {settlement.id} is not the latest of installment {installment.id} "
            f"(the latest is {installment.latest_settlement_id}); reverse the later ones first",
            rule="D8",
            subject=settlement.id,
        )
    policy.check_open(f"settlement {settlement.id}", settlement.paid_on, "reverse")
    policy.check_open(f"settlement {settlement.id}", on, "reverse")
    letter = _letter_after_reversal(settlement, credit_letter)
    _check_matches(installment, settlement)
    restored = installment.with_state(settlement.before)
    assert restored.state == settlement.before, (restored, settlement)
    return Reversal(
        installment=restored,
        settlement=attrs.evolve(settlement, reversed_on=on),
        credit_letter=letter,
    )


def _letter_after_reversal(settlement: Settlement, letter: CreditLetter | None) -> CreditLetter | None:
    wanted = settlement.credit_letter_id or settlement.source_letter_id
    if wanted is None:
        if letter is not None:
            raise InvalidInput(
                f"settlement {settlement.id} neither created nor used a credit letter", field="credit_letter"
            )
        return None
    if letter is None or letter.id != wanted:
        raise InvalidInput(
            f"reversing settlement {settlement.id} needs credit letter {wanted}",
            field="credit_letter",
            raw=None if letter is None else letter.id,
        )
    if settlement.credit_letter_id is not None:
        return letter.cancel()
    return letter.refund(settlement.paid)


def _check_matches(installment: Installment, settlement: Settlement) -> None:
    """The installment must be exactly what the settlement left, or the restore would not be exact."""
    before = settlement.before
    expected_principal = before.principal_open - settlement.principal
    expected_fine = before.fine_open + settlement.fine_accrued - settlement.fine
    expected_interest = before.interest_open + settlement.interest_accrued - settlement.interest
    if (installment.principal_open, installment.fine_open, installment.interest_open) != (
        expected_principal,
        expected_fine,
        expected_interest,
    ):
        raise InvalidInput(
            f"installment {installment.id} does not hold what settlement {settlement.id} left "
            f"(principal {installment.principal_open} vs {expected_principal}, fine {installment.fine_open} vs "
            f"{expected_fine}, interest {installment.interest_open} vs {expected_interest})",
            field="installment",
            hint="reload both from the same store",
        )


def use_credit_letter(
    installment: Installment,
    letter: CreditLetter,
    policy: SettlementPolicy,
    *,
    on: date,
    calendar: BusinessCalendar,
) -> SettlementOutcome:
    """Settle ``installment`` on ``on`` with ``letter``: the smaller of its balance and the amount due (D6).

    The use is a settlement dated ``on`` under D2-D5 (late charges apply, ``calendar`` says which
    days are closed); it may be partial, whatever the policy says of settling beyond tolerance. The
    outcome's ``credit_letter`` is the letter after the use (its balance drawn down); when the
    outcome is refused (a date before the closing date) nothing was drawn and it is ``None``.

    Raises:
        RuleViolation: the letter is cancelled, empty, or belongs to another customer, or the
            installment is already settled.
        InvalidType: an argument of the wrong type.
    """
    require_instance(installment, Installment, "installment")
    require_instance(letter, CreditLetter, "letter")
    require_instance(policy, SettlementPolicy, "policy")
    require_date(on, "on")
    require_calendar(calendar)
    if letter.status is not CreditLetterStatus.ACTIVE or letter.balance <= Money.ZERO:
        raise RuleViolation(f"credit letter {letter.id} has nothing left to use", rule="D6", subject=letter.id)
    if letter.customer_id != installment.customer_id:
        raise RuleViolation(
            f"credit letter {letter.id} belongs to customer {letter.customer_id}, installment {installment.id} "
            f"to customer {installment.customer_id}",
            rule="D6",
            subject=letter.id,
        )
    if not installment.is_open:
        raise RuleViolation(
            f"installment {installment.id} is already settled; nothing to use the letter on",
            rule="D6",
            subject=installment.id,
        )
    return _use_letter(installment, letter, policy, on, _is_late(installment, on, calendar))


@in_context
def _use_letter(
    installment: Installment, letter: CreditLetter, policy: SettlementPolicy, on: date, late: bool
) -> SettlementOutcome:
    """:func:`use_credit_letter` on checked arguments, in the library's decimal context."""
    owed = _price(installment, on, late)[6]
    value = min(letter.balance, _money(owed))
    partial_ok = attrs.evolve(policy, settle_beyond_tolerance=True)
    outcome = _settle(installment, Payment(amount=value, paid_on=on, credited_on=on), partial_ok, late, letter.id)
    if outcome.kind is OutcomeKind.REFUSED:
        return outcome
    # The use pays at most what is due, so it never creates a letter of its own: the slot is the drawn one's.
    assert outcome.credit_letter is None, outcome
    return attrs.evolve(outcome, credit_letter=letter.draw(value))
