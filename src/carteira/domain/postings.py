"""Postings: what a settlement by the gateway gives an ERP's accounting (seed 000, SPEC G1, G6).

When the gateway reports a paid charge, the ERP settles the document "with the parameters configured
in the integration": the amount received is entered to the agreement's bank account under the
entries history, and the gateway's fee is posted on its own under the fees history. A posting is
never edited or deleted: a reversal posts its opposite, naming the posting it reverses.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

import attrs

from carteira.domain.money import Money
from carteira.domain.operations import GatewayAccount
from carteira.domain.settlement import Settlement
from carteira.domain.validation import date_field, money_field, text_field, wrong_type
from carteira.errors import InvalidInput

__all__ = [
    "Posting",
    "PostingKind",
    "PostingTotals",
    "balance",
    "gateway_postings",
    "reversal_of",
    "totals",
    "unreversed",
]


class PostingKind(enum.Enum):
    """ENTRY: money received into the account; FEE: the gateway's fee, money out of it."""

    ENTRY = "entry"
    FEE = "fee"


@attrs.frozen
class Posting:
    """One posting: ``amount`` (positive) on ``on`` to ``account`` under ``history``, from a settlement and charge.

    ``reverses`` names the posting this one undoes (a reversal has the same kind and amount, and the
    opposite :attr:`effect`). Postings are append-only, so they carry no version.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    kind: PostingKind = attrs.field()
    on: date = attrs.field(validator=date_field("on"))
    amount: Money = attrs.field(validator=money_field("amount", positive=True))
    account: str = attrs.field(validator=text_field("account", blank=False))
    history: str = attrs.field(validator=text_field("history", blank=False))
    settlement_id: str = attrs.field(validator=text_field("settlement_id", blank=False))
    charge_id: str | None = attrs.field(default=None, validator=text_field("charge_id", optional=True))
    reverses: str | None = attrs.field(default=None, validator=text_field("reverses", optional=True))

    @kind.validator
    def _a_kind(self, _attribute: object, value: object) -> None:
        if not isinstance(value, PostingKind):
            raise wrong_type(value, "kind", "a PostingKind")

    @property
    def effect(self) -> Money:
        """What it does to the account's balance: an entry adds, a fee takes away, a reversal does the opposite."""
        adds = (self.kind is PostingKind.ENTRY) is (self.reverses is None)
        return self.amount if adds else -self.amount


def gateway_postings(
    settlement: Settlement, account: GatewayAccount, *, charge_id: str | None, ids: tuple[str, str]
) -> tuple[Posting, ...]:
    """The entry of what ``settlement`` received and the account's fee, dated when the money was credited.

    The fee is left out when the account's ``payment_fee`` is zero. ``ids`` are the two postings' ids.
    """
    if settlement.paid.is_zero():
        raise InvalidInput("a settlement that received nothing has nothing to enter", field="settlement")
    on = settlement.credited_on or settlement.paid_on
    entry = Posting(
        ids[0],
        PostingKind.ENTRY,
        on,
        settlement.paid,
        account.bank_account,
        account.entries_history,
        settlement.id,
        charge_id,
    )
    if account.payment_fee.is_zero():
        return (entry,)
    fee = Posting(
        ids[1],
        PostingKind.FEE,
        on,
        account.payment_fee,
        account.bank_account,
        account.fees_history,
        settlement.id,
        charge_id,
    )
    return entry, fee


def reversal_of(posting: Posting, *, id: str, on: date) -> Posting:
    """The posting that undoes ``posting`` on ``on``: same kind, amount, account and history, opposite effect."""
    if posting.reverses is not None:
        raise InvalidInput(f"posting {posting.id} is itself a reversal; it is not reversed again", field="posting")
    return attrs.evolve(posting, id=id, on=on, reverses=posting.id)


def unreversed(postings: Iterable[Posting]) -> list[Posting]:
    """What a reversal of their settlement must undo: the ``postings`` that are not reversals themselves and that
    no posting among them reverses yet, in the order given (so undoing a settlement twice posts nothing twice)."""
    given = list(postings)
    undone = {posting.reverses for posting in given if posting.reverses is not None}
    return [posting for posting in given if posting.reverses is None and posting.id not in undone]


def balance(postings: Iterable[Posting]) -> Money:
    """The sum of the postings' effects on their account(s)."""
    return sum((posting.effect for posting in postings), Money.ZERO)


@attrs.frozen
class PostingTotals:
    """What some postings add up to, as an extract of the account shows it.

    ``entries`` and ``fees`` are the amounts entered and charged (reversals aside); ``reversals`` is
    the effect of the reversals among them (negative when they undo entries); ``net`` is their
    :func:`balance`, ``entries - fees + reversals``.
    """

    count: int
    entries: Money
    fees: Money
    reversals: Money
    net: Money


def totals(postings: Iterable[Posting]) -> PostingTotals:
    """The :class:`PostingTotals` of ``postings``."""
    given = list(postings)
    originals = [posting for posting in given if posting.reverses is None]
    entries = sum((p.amount for p in originals if p.kind is PostingKind.ENTRY), Money.ZERO)
    fees = sum((p.amount for p in originals if p.kind is PostingKind.FEE), Money.ZERO)
    reversals = balance(posting for posting in given if posting.reverses is not None)
    return PostingTotals(len(given), entries, fees, reversals, entries - fees + reversals)
