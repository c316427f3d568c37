"""The pure domain of carteira: money, charges, settlement, credit letters, carnets, anticipation.

Nothing here does I/O or reads the clock: dates come in as arguments and business days
through the :class:`BusinessCalendar` protocol.
"""

from carteira.domain.anticipation import (
    AnticipatedInstallment,
    Anticipation,
    AnticipationStatus,
    anticipate,
    present_value,
)
from carteira.domain.calendar import BusinessCalendar, EveryDayCalendar, next_business_day
from carteira.domain.carnet import Carnet, CarnetLimits, CarnetParcel, CarnetPlan, carnet_due_dates, plan_carnet
from carteira.domain.credit import CreditLetter, CreditLetterStatus
from carteira.domain.installment import (
    Installment,
    InstallmentState,
    InstallmentStatus,
    RevenueKind,
    amount_due,
)
from carteira.domain.money import Money
from carteira.domain.portfolio import Contract, Customer, Observation, PortfolioSettings
from carteira.domain.settlement import (
    OutcomeKind,
    Payment,
    RefusalReason,
    Reversal,
    Settlement,
    SettlementOutcome,
    SettlementPolicy,
    SettlementResult,
    Tolerance,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.domain.terms import AmountDue, ChargeTerms, Imputation, InterestMode, is_on_time
from carteira.domain.title_numbers import normalize_title_number

__all__ = [
    "AmountDue",
    "AnticipatedInstallment",
    "Anticipation",
    "AnticipationStatus",
    "BusinessCalendar",
    "Carnet",
    "CarnetLimits",
    "CarnetParcel",
    "CarnetPlan",
    "ChargeTerms",
    "Contract",
    "CreditLetter",
    "CreditLetterStatus",
    "Customer",
    "EveryDayCalendar",
    "Imputation",
    "Installment",
    "InstallmentState",
    "InstallmentStatus",
    "InterestMode",
    "Money",
    "Observation",
    "OutcomeKind",
    "Payment",
    "PortfolioSettings",
    "RefusalReason",
    "RevenueKind",
    "Reversal",
    "Settlement",
    "SettlementOutcome",
    "SettlementPolicy",
    "SettlementResult",
    "Tolerance",
    "amount_due",
    "anticipate",
    "carnet_due_dates",
    "is_on_time",
    "next_business_day",
    "normalize_title_number",
    "plan_carnet",
    "present_value",
    "reverse",
    "settle",
    "use_credit_letter",
]
