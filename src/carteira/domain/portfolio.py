"""Customers, contracts, observations and the portfolio's parameters: what the use cases store around installments."""

from __future__ import annotations

from datetime import date

import attrs

from carteira.domain.settlement import SettlementPolicy
from carteira.domain.validation import count_field, date_field, flag_field, instance_field, text_field

__all__ = ["Contract", "Customer", "Observation", "PortfolioSettings"]


@attrs.frozen
class Customer:
    """A payer: ``tax_id`` is the CPF or CNPJ digits; contact fields are optional."""

    id: str = attrs.field(validator=text_field("id", blank=False))
    name: str = attrs.field(validator=text_field("name"))
    tax_id: str | None = attrs.field(default=None, validator=text_field("tax_id", optional=True))
    email: str | None = attrs.field(default=None, validator=text_field("email", optional=True))
    phone: str | None = attrs.field(default=None, validator=text_field("phone", optional=True))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))


@attrs.frozen
class Contract:
    """A customer's contract; ``bank_contract`` links it to a collection agreement, making its revenue BANK (D11)."""

    id: str = attrs.field(validator=text_field("id", blank=False))
    customer_id: str = attrs.field(validator=text_field("customer_id", blank=False))
    description: str = attrs.field(default="", validator=text_field("description"))
    bank_contract: str | None = attrs.field(default=None, validator=text_field("bank_contract", optional=True))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))


@attrs.frozen
class Observation:
    """A dated note written on an installment (for example when an anticipation is generated as approved, B11)."""

    id: str = attrs.field(validator=text_field("id", blank=False))
    installment_id: str = attrs.field(validator=text_field("installment_id", blank=False))
    written_on: date = attrs.field(validator=date_field("written_on"))
    text: str = attrs.field(validator=text_field("text"))


@attrs.frozen
class PortfolioSettings:
    """The portfolio's parameters: the settlement policy (tolerances, closing date) and B11's switch."""

    policy: SettlementPolicy = attrs.field(
        factory=SettlementPolicy, validator=instance_field(SettlementPolicy, "policy")
    )
    generate_anticipations_as_approved: bool = attrs.field(
        default=False, validator=flag_field("generate_anticipations_as_approved")
    )
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))
