"""Credit letters: a customer's credit created by an over-payment, usable later (SPEC D6)."""

from __future__ import annotations

import enum
from datetime import date

import attrs

from carteira.domain.money import Money
from carteira.domain.validation import count_field, date_field, instance_field, money_field, require_money, text_field
from carteira.errors import InvalidInput, RuleViolation

__all__ = ["CreditLetter", "CreditLetterStatus"]


class CreditLetterStatus(enum.Enum):
    """ACTIVE letters can be used; a letter is CANCELLED when the settlement that created it is reversed."""

    ACTIVE = "active"
    CANCELLED = "cancelled"


@attrs.frozen(slots=False)
class CreditLetter:
    """A customer's credit: ``amount`` created by settlement ``origin_settlement_id`` on ``created_on``.

    ``balance`` is what is left to use; it never goes below zero nor above ``amount``, and a
    cancelled letter has none.
    ``version`` is storage's optimistic-concurrency counter.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    customer_id: str = attrs.field(validator=text_field("customer_id", blank=False))
    amount: Money = attrs.field(validator=money_field("amount", positive=True))
    origin_settlement_id: str = attrs.field(validator=text_field("origin_settlement_id", blank=False))
    created_on: date = attrs.field(validator=date_field("created_on"))
    balance: Money = attrs.field(kw_only=True, validator=money_field("balance"))
    status: CreditLetterStatus = attrs.field(
        default=CreditLetterStatus.ACTIVE, kw_only=True, validator=instance_field(CreditLetterStatus, "status")
    )
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @balance.default
    def _full_balance(self) -> Money:
        return self.amount

    def __attrs_post_init__(self) -> None:
        if self.balance > self.amount:
            raise InvalidInput(
                f"must be between 0.00 and the letter's amount {self.amount}", field="balance", raw=str(self.balance)
            )
        if self.status is CreditLetterStatus.CANCELLED and not self.balance.is_zero():
            raise InvalidInput("must be 0.00 once the letter is cancelled", field="balance", raw=str(self.balance))

    @property
    def used(self) -> Money:
        """How much of the letter has been used."""
        return self.amount - self.balance

    def draw(self, value: Money) -> CreditLetter:
        """The letter after ``value`` is used from it.

        Raises:
            RuleViolation: the letter is cancelled, or ``value`` exceeds the balance (D6: never negative).
            InvalidType: ``value`` is not Money.
        """
        require_money(value, "value")
        if self.status is not CreditLetterStatus.ACTIVE:
            raise RuleViolation(f"credit letter {self.id} is cancelled and cannot be used", rule="D6", subject=self.id)
        if value <= Money.ZERO or value > self.balance:
            raise RuleViolation(
                f"cannot use {value} of credit letter {self.id}: its balance is {self.balance}",
                rule="D6",
                subject=self.id,
            )
        return attrs.evolve(self, balance=self.balance - value)

    def refund(self, value: Money) -> CreditLetter:
        """The letter after a use of ``value`` is reversed: the amount goes back to the balance.

        Raises:
            RuleViolation: ``value`` is more than was used of the letter (D8).
            InvalidType: ``value`` is not Money.
        """
        require_money(value, "value")
        if value <= Money.ZERO or self.balance + value > self.amount:
            raise RuleViolation(
                f"cannot give {value} back to credit letter {self.id}: only {self.used} of it was used",
                rule="D8",
                subject=self.id,
            )
        return attrs.evolve(self, balance=self.balance + value)

    def cancel(self) -> CreditLetter:
        """The letter cancelled, because the settlement that created it was reversed.

        Raises:
            RuleViolation: part of the letter was already used (D8).
        """
        if self.balance != self.amount:
            raise RuleViolation(
                f"credit letter {self.id} was already used ({self.used} of {self.amount}); "
                "reverse the settlements that used it first",
                rule="D8",
                subject=self.id,
            )
        return attrs.evolve(self, balance=Money.ZERO, status=CreditLetterStatus.CANCELLED)
