"""carteira: run a Brazilian receivables portfolio from Python.

The names below are the stable public surface; everything else is reached through its
subpackage (``carteira.domain``, ``carteira.adapters``, ``carteira.ports``, ``carteira.testing``).
"""

from carteira.adapters.calendar import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    CreditLetter,
    Installment,
    InterestMode,
    Money,
    OutcomeKind,
    Payment,
    Settlement,
    SettlementOutcome,
    SettlementPolicy,
    Tolerance,
    amount_due,
    plan_carnet,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)

__all__ = [
    "BrazilBankingCalendar",
    "ChargeTerms",
    "CreditLetter",
    "Installment",
    "InterestMode",
    "Money",
    "OutcomeKind",
    "Payment",
    "Settlement",
    "SettlementOutcome",
    "SettlementPolicy",
    "Tolerance",
    "__version__",
    "amount_due",
    "plan_carnet",
    "present_value",
    "reverse",
    "settle",
    "use_credit_letter",
]

__version__ = "0.1.0.dev0"
