"""Settlement with tolerance, partial settlement, credit letters and reversal (SPEC D3-D8, D11, D12)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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
    _charges,
    amount_due,
)
from carteira.domain.money import Money, _money
from carteira.domain.terms import AmountDue, Imputation
from carteira.errors import ClosedPeriod, InvalidInput, RuleViolation

__all__ = [
    "OutcomeKind",
    "Payment",
    "RefusalReason",
    "Reversal",
    "Settlement",
    "SettlementOutcome",
    "SettlementPolicy",
    "Tolerance",
    "reverse",
    "settle",
    "use_credit_letter",
]

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")


def _money_or_none(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is None:
            return
        if type(value) is not Money:
            raise InvalidInput(f"must be Money or None, not {type(value).__name__}", field=name, raw=repr(value))
        if value < Money.ZERO:
            raise InvalidInput("must not be negative", field=name, raw=str(value))

    return check


def _rate_or_none(_instance: object, _attribute: object, value: object) -> None:
    if value is None:
        return
    if isinstance(value, float):
        raise TypeError(f"rate must be a Decimal, not float {value!r}")
    if not isinstance(value, Decimal) or not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise InvalidInput("must be a Decimal fraction between 0 and 1, or None", field="rate", raw=repr(value))


@attrs.frozen
class Tolerance:
    """A tolerance in one direction: an absolute ``amount``, a ``rate`` of the expected amount, or both.

    The limit is the smaller of the limits that are set; ``None`` means unset and ``0`` means
    zero tolerance; with both unset only an exact match is within (D3).
    """

    amount: Money | None = attrs.field(default=None, validator=_money_or_none("amount"))
    rate: Decimal | None = attrs.field(default=None, validator=_rate_or_none)  # type: ignore[assignment]

    def limit(self, expected: Money) -> Money:
        """The largest difference accepted on ``expected`` (percent rounded half up to the cent)."""
        return self._limit(expected.amount)

    def _limit(self, expected: Decimal) -> Money:
        amount = self.amount
        if self.rate is None:
            return Money.ZERO if amount is None else amount
        by_rate = (abs(expected) * self.rate).quantize(_CENT, ROUND_HALF_UP)
        # The tolerance's own amount is returned as it is: settle() keeps it in the outcome as it is.
        return _money(by_rate) if amount is None or by_rate < amount.amount else amount


def _optional_date(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise InvalidInput(f"must be a datetime.date or None, not {type(value).__name__}", field=name)

    return check


@attrs.frozen
class SettlementPolicy:
    """The portfolio's settlement parameters: tolerances, what to do beyond them, and the closing date."""

    over: Tolerance = attrs.field(factory=Tolerance)
    under: Tolerance = attrs.field(factory=Tolerance)
    settle_beyond_tolerance: bool = False
    closing_date: date | None = attrs.field(default=None, validator=_optional_date("closing_date"))

    def check_open(self, subject: str, on: date, action: str) -> None:
        """Raise :class:`~carteira.errors.ClosedPeriod` when ``on`` is before the closing date (D7)."""
        if self.closing_date is not None and on < self.closing_date:
            raise ClosedPeriod(subject=subject, on=on, closing_date=self.closing_date, action=action)


def _payment_money(name: str, *, positive: bool) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if isinstance(value, float):
            raise TypeError(f"{name} must be Money, not float {value!r}: write Money('{value}')")
        if type(value) is not Money:
            raise InvalidInput(f"must be Money, not {type(value).__name__}", field=name, raw=repr(value))
        if positive and value <= Money.ZERO:
            raise InvalidInput("must be more than zero", field=name, raw=str(value))
        if not positive and value < Money.ZERO:
            raise InvalidInput("must not be negative", field=name, raw=str(value))

    return check


def _a_date(name: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidInput(f"must be a datetime.date, not {type(value).__name__}", field=name, raw=repr(value))

    return check


@attrs.frozen(slots=False)
class Payment:
    """A payment as the bank or gateway reports it.

    ``amount`` is what the payer paid (more than zero), on ``paid_on`` (the settlement date,
    which charges and the closing date use); ``credited_on`` is when the money reached the
    account. ``discount`` and ``abatement`` are what the bank granted; ``bank_charges`` (the
    fee) and ``other`` are recorded on the settlement but take no part in the arithmetic.
    """

    amount: Money = attrs.field(validator=_payment_money("amount", positive=True))
    paid_on: date = attrs.field(validator=_a_date("paid_on"))
    credited_on: date | None = attrs.field(default=None, validator=_optional_date("credited_on"))
    discount: Money = attrs.field(default=Money.ZERO, validator=_payment_money("discount", positive=False))
    abatement: Money = attrs.field(default=Money.ZERO, validator=_payment_money("abatement", positive=False))
    bank_charges: Money = attrs.field(default=Money.ZERO, validator=_payment_money("bank_charges", positive=False))
    other: Money = attrs.field(default=Money.ZERO, validator=_payment_money("other", positive=False))


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


@attrs.frozen(slots=False)
class Settlement:
    """One settlement of one installment, with every component of D12 and the state before it.

    ``principal``, ``interest`` and ``fine`` are what it closed of each balance; the parts always
    satisfy ``paid + discount + abatement + extra_discount == principal + interest + fine +
    extra_charge + credit_letter_amount``. ``fine_accrued`` and ``interest_accrued`` are the
    charges that accrued up to ``paid_on``; ``before`` is the installment's state before it, which
    reversal restores. ``source_letter_id`` names the credit letter it was paid with, if any;
    ``credit_letter_id`` the letter it created.
    """

    id: str
    installment_id: str
    customer_id: str
    kind: OutcomeKind
    paid: Money
    paid_on: date
    credited_on: date | None
    principal: Money
    interest: Money
    fine: Money
    extra_charge: Money
    extra_discount: Money
    discount: Money
    abatement: Money
    credit_letter_amount: Money
    bank_charges: Money
    other: Money
    fine_accrued: Money
    interest_accrued: Money
    revenue_kind: RevenueKind
    before: InstallmentState
    credit_letter_id: str | None = None
    source_letter_id: str | None = None
    reversed_on: date | None = None
    version: int = attrs.field(default=0, kw_only=True)

    @property
    def is_reversed(self) -> bool:
        """Whether this settlement has been reversed."""
        return self.reversed_on is not None

    def conserves(self) -> bool:
        """Whether the parts add up to the cent (D12)."""
        received = self.paid.amount + self.discount.amount + self.abatement.amount + self.extra_discount.amount
        closed = (
            self.principal.amount
            + self.interest.amount
            + self.fine.amount
            + self.extra_charge.amount
            + self.credit_letter_amount.amount
        )
        return received == closed


@attrs.frozen(slots=False)
class SettlementOutcome:
    """The result of :func:`settle`: its ``kind``, the new ``installment`` state, and what was recorded.

    ``settlement`` is ``None`` when refused; ``credit_letter`` is the letter created by an
    over-payment beyond tolerance; ``reason`` explains a refusal (or a partial) in words and
    ``refusal`` in a code; ``difference`` is ``paid - expected`` and ``limit`` the tolerance
    limit that applied; ``due`` the amount due on the payment date.
    """

    kind: OutcomeKind
    installment: Installment
    settlement: Settlement | None
    credit_letter: CreditLetter | None
    reason: str
    difference: Money
    expected: Money
    limit: Money
    due: AmountDue
    refusal: RefusalReason | None = None


@attrs.frozen(slots=False)
class Reversal:
    """The result of :func:`reverse`: the installment restored, the settlement marked reversed, the letter."""

    installment: Installment
    settlement: Settlement
    credit_letter: CreditLetter | None


def _refuse(
    installment: Installment,
    reason: str,
    refusal: RefusalReason,
    charges: tuple[bool, Decimal, Decimal, int],
    expected: Decimal,
    difference: Decimal,
    limit: Decimal,
) -> SettlementOutcome:
    return SettlementOutcome(
        kind=OutcomeKind.REFUSED,
        installment=installment,
        settlement=None,
        credit_letter=None,
        reason=reason,
        difference=_money(difference),
        expected=_money(expected),
        limit=_money(limit),
        due=_amount_due(installment, *charges),
        refusal=refusal,
    )


_IMPUTATION_ORDER = {
    Imputation.INTEREST_FINE_PRINCIPAL: (0, 1, 2),
    Imputation.FINE_INTEREST_PRINCIPAL: (1, 0, 2),
    Imputation.PRINCIPAL_INTEREST_FINE: (2, 0, 1),
}


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


def settle(
    installment: Installment,
    payment: Payment,
    policy: SettlementPolicy,
    calendar: BusinessCalendar | None = None,
) -> SettlementOutcome:
    """Settle ``installment`` with ``payment`` under ``policy``: in full, in part, with a credit letter, or not.

    The expected amount is the amount due on ``payment.paid_on`` less the bank's discount and
    abatement. A difference within tolerance settles in full and is recorded as
    ``extra_charge`` or ``extra_discount``; beyond it the payment is refused unless the policy
    settles beyond tolerance, in which case an under-payment is a partial settlement (D5) and an
    over-payment settles in full and creates a credit letter (D4). A payment dated before the
    closing date is refused (D7). A refusal is an outcome, not an exception.

    Raises:
        InvalidInput: an argument of the wrong type.
    """
    return _settle(installment, payment, policy, calendar, source_letter_id=None)


def _settle(
    installment: Installment,
    payment: Payment,
    policy: SettlementPolicy,
    calendar: BusinessCalendar | None,
    *,
    source_letter_id: str | None,
) -> SettlementOutcome:
    # One flat function on Decimals: this is the library's hot path (benchmarks/domain.py), and
    # each extra call layer or intermediate Money costs more than the arithmetic itself. The
    # values it returns are built without re-running validators (domain/construction.py): the
    # inputs were validated when they were made, and the results are checked by the paired
    # assertions below.
    if type(installment) is not Installment or type(payment) is not Payment or type(policy) is not SettlementPolicy:
        _check_types(installment, payment, policy)
    on = payment.paid_on
    charges = _charges(installment, on, calendar)
    late, fine_new, interest_new, days = charges
    principal = installment.principal_open.amount
    fine_total = installment.fine_open.amount + fine_new
    interest_total = installment.interest_open.amount + interest_new
    total = principal + fine_total + interest_total
    adjustments = payment.discount.amount + payment.abatement.amount
    expected = total - adjustments
    paid = payment.amount.amount
    difference = paid - expected
    if installment.status is InstallmentStatus.SETTLED:
        return _refuse(
            installment, f"installment {installment.id} is already settled", RefusalReason.NOT_OPEN,
            charges, expected, difference, _ZERO,
        )  # fmt: skip
    closing = policy.closing_date
    if closing is not None and on < closing:
        return _refuse(
            installment,
            f"installment {installment.id}: settlement date {on.isoformat()} is before the closing date "
            f"{closing.isoformat()}",
            RefusalReason.CLOSED_PERIOD, charges, expected, difference, _ZERO,
        )  # fmt: skip
    if adjustments > principal:
        return _refuse(
            installment,
            f"installment {installment.id}: discount plus abatement {adjustments} exceed the open principal "
            f"{principal}",
            RefusalReason.ADJUSTMENTS_EXCEED_PRINCIPAL, charges, expected, difference, _ZERO,
        )  # fmt: skip
    over = difference > _ZERO
    limit_money = (policy.over if over else policy.under)._limit(expected)
    limit = limit_money.amount
    within = abs(difference) <= limit
    if not within and not policy.settle_beyond_tolerance:
        return _refuse(
            installment,
            f"{'overpaid' if over else 'underpaid'} {abs(difference)}, limit {limit}",
            RefusalReason.BEYOND_TOLERANCE, charges, expected, difference, limit,
        )  # fmt: skip
    extra_charge = extra_discount = letter_amount = _ZERO
    if within or over:
        status = InstallmentStatus.SETTLED
        paid_interest, paid_fine, closed_principal = interest_total, fine_total, principal
        if not within:
            kind = OutcomeKind.CREDIT_LETTER
            letter_amount = difference
            reason = f"overpaid {difference!s}, limit {limit!s}: credit letter {difference!s}"
        else:
            kind = OutcomeKind.FULL
            reason = ""
            if over:
                extra_charge = difference
            else:
                extra_discount = -difference
    else:
        kind = OutcomeKind.PARTIAL
        status = InstallmentStatus.PARTIALLY_SETTLED
        reason = f"underpaid {-difference!s}, limit {limit!s}: partial settlement"
        paid_interest, paid_fine, principal_paid = _impute(
            installment.terms.imputation, paid, interest_total, fine_total, principal - adjustments
        )
        closed_principal = adjustments + principal_paid
    principal_open = principal - closed_principal
    fine_open = fine_total - paid_fine
    interest_open = interest_total - paid_interest
    # Paired invariants: the parts add up (D12), and no balance went below zero.
    assert paid + adjustments + extra_discount == (
        closed_principal + paid_interest + paid_fine + extra_charge + letter_amount
    ), (installment, payment)
    assert min(principal_open, fine_open, interest_open) >= _ZERO, (principal_open, fine_open, interest_open)
    zero = Money.ZERO
    # An extra charge and a credit letter are the difference itself: one Money serves for both.
    difference_money = _money(difference)
    settlement_id = f"{installment.id}/S{installment.settlements_made + 1}"
    letter = None
    letter_money = zero
    if letter_amount:
        letter_money = difference_money
        letter = built(
            CreditLetter,
            {
                "id": f"{settlement_id}/L",
                "customer_id": installment.customer_id,
                "amount": letter_money,
                "origin_settlement_id": settlement_id,
                "created_on": on,
                "balance": letter_money,
                "status": CreditLetterStatus.ACTIVE,
                "version": 0,
            },
        )
    due = _amount_due(installment, late, fine_new, interest_new, days, total)
    # Most installments have nothing open but principal: what was paid of each charge is then
    # the charge itself, and its Money object can be shared.
    interest_money = due.interest if paid_interest == interest_new else _cents(paid_interest)
    fine_money = due.fine if paid_fine == fine_new else _cents(paid_fine)
    settlement = built(
        Settlement,
        {
            "id": settlement_id,
            "installment_id": installment.id,
            "customer_id": installment.customer_id,
            "kind": kind,
            "paid": payment.amount,
            "paid_on": on,
            "credited_on": payment.credited_on,
            "principal": installment.principal_open if closed_principal == principal else _money(closed_principal),
            "interest": interest_money,
            "fine": fine_money,
            "extra_charge": difference_money if extra_charge else zero,
            "extra_discount": _cents(extra_discount),
            "discount": payment.discount,
            "abatement": payment.abatement,
            "credit_letter_amount": letter_money,
            "bank_charges": payment.bank_charges,
            "other": payment.other,
            "fine_accrued": due.fine,
            "interest_accrued": due.interest,
            "revenue_kind": RevenueKind.CASH if installment.bank_contract is None else RevenueKind.BANK,
            "before": installment.state,
            "credit_letter_id": None if letter is None else letter.id,
            "source_letter_id": source_letter_id,
            "reversed_on": None,
            "version": 0,
        },
    )
    after = _advance(
        installment,
        principal_open=_cents(principal_open),
        fine_open=_cents(fine_open),
        interest_open=_cents(interest_open),
        # A late payment charges the fine for good and moves the interest start (D5).
        fine_charged=installment.fine_charged or late,
        interest_from=on if late else installment.interest_from,
        status=status,
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
            "limit": limit_money,
            "due": due,
            "refusal": None,
        },
    )


def _cents(amount: Decimal) -> Money:
    # Zero is the most common component (no extra discount, nothing left open): share one object.
    return _money(amount) if amount else Money.ZERO


def _check_types(installment: object, payment: object, policy: object) -> None:
    if not isinstance(installment, Installment):
        raise InvalidInput(f"must be an Installment, not {type(installment).__name__}", field="installment")
    if not isinstance(payment, Payment):
        raise InvalidInput(f"must be a Payment, not {type(payment).__name__}", field="payment")
    if not isinstance(policy, SettlementPolicy):
        raise InvalidInput(f"must be a SettlementPolicy, not {type(policy).__name__}", field="policy")


def reverse(
    installment: Installment,
    settlement: Settlement,
    policy: SettlementPolicy,
    on: date,
    credit_letter: CreditLetter | None = None,
) -> Reversal:
    """Undo ``settlement``, the latest of ``installment``, restoring its state exactly (D8).

    ``credit_letter`` is the letter the settlement created (it is cancelled) or the letter it
    was paid with (the amount goes back to it); it is required in either case.

    Raises:
        ClosedPeriod: the settlement or the reversal is dated before the closing date (D7).
        RuleViolation: the settlement is not the installment's latest, is already reversed, or
            created a credit letter that was already used (D8).
        InvalidInput: the arguments do not belong together.
    """
    if type(on) is not date and (not isinstance(on, date) or isinstance(on, datetime)):
        raise InvalidInput(f"must be a datetime.date, not {type(on).__name__}", field="on", raw=repr(on))
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
    letter: CreditLetter,
    installment: Installment,
    on: date,
    policy: SettlementPolicy,
    calendar: BusinessCalendar | None = None,
) -> tuple[CreditLetter, SettlementOutcome]:
    """Use ``letter`` to settle ``installment`` on ``on``: the smaller of its balance and the amount due (D6).

    The use is a settlement dated ``on`` under D2-D5 (late charges apply); it may be partial,
    whatever the policy says of settling beyond tolerance. When the outcome is refused (a date
    before the closing date) the letter is returned unchanged.

    Raises:
        RuleViolation: the letter is cancelled, empty, or belongs to another customer.
    """
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
    due = amount_due(installment, on, calendar)
    value = min(letter.balance, due.total)
    partial_ok = attrs.evolve(policy, settle_beyond_tolerance=True)
    payment = Payment(amount=value, paid_on=on, credited_on=on)
    outcome = _settle(installment, payment, partial_ok, calendar, source_letter_id=letter.id)
    if outcome.kind is OutcomeKind.REFUSED:
        return letter, outcome
    return letter.draw(value), outcome
