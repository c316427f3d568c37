"""Customers, contracts, observations and the portfolio's parameters: what the use cases store around installments."""

from __future__ import annotations

from datetime import date

import attrs

from carteira.domain.settlement import SettlementPolicy

__all__ = ["Contract", "Customer", "Observation", "PortfolioSettings"]


@attrs.frozen
class Customer:
    """A payer: ``tax_id`` is the CPF or CNPJ digits; contact fields are optional."""

    id: str
    name: str
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    version: int = attrs.field(default=0, kw_only=True)


@attrs.frozen
class Contract:
    """A customer's contract; ``bank_contract`` links it to a collection agreement, making its revenue BANK (D11)."""

    id: str
    customer_id: str
    description: str = ""
    bank_contract: str | None = None
    version: int = attrs.field(default=0, kw_only=True)


@attrs.frozen
class Observation:
    """A dated note written on an installment (for example when an anticipation is generated as approved, B11)."""

    id: str
    installment_id: str
    written_on: date
    text: str


@attrs.frozen
class PortfolioSettings:
    """The portfolio's parameters: the settlement policy (tolerances, closing date) and B11's switch."""

    policy: SettlementPolicy = attrs.field(factory=SettlementPolicy)
    generate_anticipations_as_approved: bool = False
    version: int = attrs.field(default=0, kw_only=True)
