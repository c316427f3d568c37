"""One payment for several installments: one boleto for many parcels (SPEC B4, seed 004).

A bank may report one payment for a boleto that covered several parcels. Tolerance applies to the
group's total due; the money goes to the installments oldest due first, each in full until it runs
out (the last one it reaches partial); a difference within tolerance, or a credit letter, goes with
the last installment; the bank's discount and abatement go with the first. Each installment is
settled through :func:`~carteira.domain.settle`, so every settlement keeps D2-D5 and D12.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.installment import Installment, amount_due, oldest_due_first
from carteira.domain.money import Money
from carteira.domain.settlement import (
    OutcomeKind,
    Payment,
    RefusalReason,
    SettlementOutcome,
    SettlementPolicy,
    Tolerance,
    settle,
)
from carteira.domain.validation import require_calendar, require_instance, require_items
from carteira.errors import InvalidInput

__all__ = ["SharedOutcome", "settle_together"]


@attrs.frozen
class SharedOutcome:
    """What :func:`settle_together` did: one outcome per installment it settled, oldest due first, or a refusal.

    ``outcomes`` is empty when the group was refused (``refusal`` and ``reason`` say why) and then
    nothing was settled; ``expected`` is the group's total due less the bank's discount and
    abatement, ``difference`` the payment less that, ``limit`` the tolerance that applied to it.
    """

    outcomes: tuple[SettlementOutcome, ...]
    expected: Money
    difference: Money
    limit: Money
    reason: str = ""
    refusal: RefusalReason | None = None

    @property
    def refused(self) -> bool:
        """Whether nothing was settled."""
        return not self.outcomes


def settle_together(
    installments: Sequence[Installment], payment: Payment, policy: SettlementPolicy, *, calendar: BusinessCalendar
) -> SharedOutcome:
    """Settle ``installments`` with the one ``payment`` that paid them all, as one boleto of many parcels.

    Either every settlement it makes is returned, or none is made: a group with an installment that
    is not open, a date before the closing date, a difference beyond tolerance with the policy not
    settling beyond it, or a discount larger than the first installment's open principal is refused
    as a whole.

    Raises:
        InvalidInput: no installments, or one of them twice.
        InvalidType: ``installments`` not a sequence of Installment, or another argument of the wrong type.
    """
    checked = require_items(installments, Installment, "installments")
    require_instance(payment, Payment, "payment")
    require_instance(policy, SettlementPolicy, "policy")
    require_calendar(calendar)
    ordered = oldest_due_first(checked)
    if not ordered:
        raise InvalidInput("name at least one installment", field="installments")
    if len({item.id for item in ordered}) != len(ordered):
        raise InvalidInput("an installment is named twice", field="installments")
    if len(ordered) == 1:  # one boleto, one parcel: the group's rules are settle's own
        alone = settle(ordered[0], payment, policy, calendar=calendar)
        made = () if alone.kind is OutcomeKind.REFUSED else (alone,)
        return SharedOutcome(made, alone.expected, alone.difference, alone.limit, alone.reason, alone.refusal)
    on = payment.paid_on
    dues = [amount_due(item, on=on, calendar=calendar).total for item in ordered]
    expected = sum(dues, Money.ZERO) - payment.discount - payment.abatement
    difference = payment.amount - expected
    limit = (policy.over if difference > Money.ZERO else policy.under).limit(expected)

    def refuse(reason: str, refusal: RefusalReason) -> SharedOutcome:
        return SharedOutcome((), expected, difference, limit, reason, refusal)

    problem = _refusal(ordered, payment, policy)
    if problem is not None:
        return refuse(*problem)
    within = abs(difference) <= limit
    if not within and not policy.settle_beyond_tolerance:
        word = "overpaid" if difference > Money.ZERO else "underpaid"
        return refuse(f"{word} {abs(difference)} on the group of {len(ordered)}, limit {limit}",
                      RefusalReason.BEYOND_TOLERANCE)  # fmt: skip
    if within or difference > Money.ZERO:
        parts = _in_full(ordered, dues, payment, limit)
    else:
        parts = _until_spent(ordered, dues, payment)
    if parts is None:
        return refuse(
            f"the difference {difference} is larger than what the last installment owes; link the record by hand",
            RefusalReason.BEYOND_TOLERANCE,
        )
    outcomes = tuple(settle(item, part, rule, calendar=calendar) for item, part, rule in parts)
    # Paired check: every part was settled, and the parts add up to what the bank reported.
    assert all(outcome.settlement is not None for outcome in outcomes), outcomes
    assert sum((o.settlement.paid for o in outcomes if o.settlement), Money.ZERO) == payment.amount
    return SharedOutcome(outcomes, expected, difference, limit)


def _refusal(
    ordered: Sequence[Installment], payment: Payment, policy: SettlementPolicy
) -> tuple[str, RefusalReason] | None:
    closing = policy.closing_date
    if closing is not None and payment.paid_on < closing:
        return (
            f"settlement date {payment.paid_on.isoformat()} is before the closing date {closing.isoformat()}",
            RefusalReason.CLOSED_PERIOD,
        )
    settled = [item.id for item in ordered if not item.is_open]
    if settled:
        return f"installment {', '.join(settled)} is already settled", RefusalReason.NOT_OPEN
    if payment.discount + payment.abatement > ordered[0].principal_open:
        return (
            f"discount plus abatement exceed the open principal of installment {ordered[0].id}",
            RefusalReason.ADJUSTMENTS_EXCEED_PRINCIPAL,
        )
    return None


_Part = tuple[Installment, Payment, SettlementPolicy]


def _part(payment: Payment, amount: Money, *, first: bool, last: bool) -> Payment:
    """The share of ``payment`` one installment gets: the bank's adjustments with the first, its fee with the last."""
    zero = Money.ZERO
    return Payment(
        amount,
        payment.paid_on,
        payment.credited_on,
        discount=payment.discount if first else zero,
        abatement=payment.abatement if first else zero,
        bank_charges=payment.bank_charges if last else zero,
        other=payment.other if last else zero,
    )


def _in_full(
    ordered: Sequence[Installment], dues: Sequence[Money], payment: Payment, limit: Money
) -> list[_Part] | None:
    """Every installment settled: each but the last for exactly its due, the last for the rest."""
    exact = SettlementPolicy(settle_beyond_tolerance=False)
    # The last one carries the group's difference; its own limit must be the group's, not one of its own.
    group_limit = Tolerance(amount=limit)
    carried = SettlementPolicy(over=group_limit, under=group_limit, settle_beyond_tolerance=True)
    parts: list[_Part] = []
    spent = Money.ZERO
    adjustments = payment.discount + payment.abatement
    for index, (item, due) in enumerate(zip(ordered, dues, strict=True)):
        first, last = index == 0, index == len(ordered) - 1
        amount = payment.amount - spent if last else due - (adjustments if first else Money.ZERO)
        if amount <= Money.ZERO:
            return None
        parts.append((item, _part(payment, amount, first=first, last=last), carried if last else exact))
        spent += amount
    return parts


def _until_spent(ordered: Sequence[Installment], dues: Sequence[Money], payment: Payment) -> list[_Part] | None:
    """Oldest first, each in full until the money runs out; the one it runs out on is settled in part."""
    partial_ok = SettlementPolicy(settle_beyond_tolerance=True)
    parts: list[_Part] = []
    left = payment.amount
    adjustments = payment.discount + payment.abatement
    for index, (item, due) in enumerate(zip(ordered, dues, strict=True)):
        owed = due - (adjustments if index == 0 else Money.ZERO)
        if owed <= Money.ZERO:
            return None
        amount = owed if left >= owed else left
        left -= amount
        last = left == Money.ZERO or index == len(ordered) - 1
        parts.append((item, _part(payment, amount, first=index == 0, last=last), partial_ok))
        if last:
            return parts
    return parts
