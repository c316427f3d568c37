"""A probe of bad calls into the domain: every public constructor and function, one argument at a time replaced
by what a careless caller or an attacker passes (wrong types, NaN, huge, negative, bools as ints, strings as
bools), generated from the kind of each argument.

Every such call must raise a typed error of ``carteira.errors`` (``InvalidInput`` or ``InvalidType`` naming
the argument, or ``RuleViolation``): never succeed, never raise anything else. The counts are printed for
``docs/reliability.md`` (``pytest -s -k probe``).
"""

from __future__ import annotations

import enum
import operator
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs

from carteira.domain import (
    AmountDue,
    AnticipatedInstallment,
    Anticipation,
    AnticipationStatus,
    Carnet,
    CarnetLimits,
    CarnetPlan,
    ChargeTerms,
    Contract,
    CreditLetter,
    CreditLetterStatus,
    Customer,
    EveryDayCalendar,
    Imputation,
    Installment,
    InstallmentState,
    InstallmentStatus,
    InterestMode,
    Money,
    Observation,
    OutcomeKind,
    Payment,
    PortfolioSettings,
    RefusalReason,
    RevenueKind,
    Reversal,
    Settlement,
    SettlementOutcome,
    SettlementPolicy,
    Tolerance,
    amount_due,
    anticipate,
    carnet_due_dates,
    is_on_time,
    next_business_day,
    normalize_title_number,
    plan_carnet,
    present_value,
    reverse,
    settle,
    use_credit_letter,
)
from carteira.domain.notifications import Notification, SeenEvent
from carteira.domain.operations import (
    Environment,
    GatewayAccount,
    GatewayCharge,
    Operation,
    OperationError,
    OperationFilter,
    OperationKind,
)
from carteira.domain.postings import Posting, PostingKind
from carteira.domain.return_batch import BatchRecord
from carteira.domain.shared_payment import settle_together
from carteira.errors import InvalidInput, InvalidType, RuleViolation
from carteira.ports.gateway import (
    Address,
    BilletRequest,
    CarnetRequest,
    ChargeStatus,
    ChargeSummary,
    EventKind,
    IssuedBillet,
    Item,
    NotificationEvent,
    Payer,
)

TYPED = (InvalidInput, InvalidType, RuleViolation)


class Kind(enum.Enum):
    """What an argument is, which decides the bad values tried in its place."""

    MONEY = "money"  # Money, zero or more
    POSITIVE_MONEY = "positive money"
    OPTIONAL_MONEY = "optional money"
    SIGNED_MONEY = "signed money"
    OPTIONAL_SIGNED_MONEY = "optional signed money"
    RATE = "rate"
    OPTIONAL_RATE = "optional rate"
    DATE = "date"
    OPTIONAL_DATE = "optional date"
    ID = "id"  # a non-blank str
    OPTIONAL_ID = "optional id"
    TEXT = "text"  # any str
    OPTIONAL_TEXT = "optional text"
    COUNT = "count"  # an int, zero or more
    POSITIVE_COUNT = "positive count"
    OPTIONAL_POSITIVE_COUNT = "optional positive count"
    DAYS = "days"
    FLAG = "flag"
    CALENDAR = "calendar"
    CENTS = "cents"  # an int of at most 17 digits
    EXACT = "exact"  # a finite Decimal
    FACTOR = "factor"  # a finite Decimal or an int
    MONTHS = "months"  # a count of monthly due dates
    OBJECT = "object"  # an instance of a domain class (or an enum member)
    OPTIONAL_OBJECT = "optional object"
    TUPLE = "tuple"  # a tuple of domain values or ids
    INSTANT = "instant"  # a timezone-aware datetime
    OPTIONAL_INSTANT = "optional instant"
    DATETIME = "datetime"  # a datetime, aware or not (the gateway's)
    OPTIONAL_DATETIME = "optional datetime"
    ITEMS = "items"  # an iterable of Item, made a tuple
    NUMBER = "number"  # a finite Decimal whose range the adapter checks
    INTEGER = "integer"  # an int whose range the adapter checks
    OPTIONAL_INTEGER = "optional integer"
    OPTIONAL_FLAG = "optional flag"


class _Unprintable:
    """An object whose repr fails: an error that quotes the refused value must still be the typed one."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


_WRONG_TYPES: list[object] = [None, 1.5, True, b"bytes", [], object(), 10**5000, _Unprintable()]
BAD: dict[Kind, list[object]] = {
    Kind.MONEY: [10.5, float("nan"), 10, Decimal("10.00"), "10.00", None, True, b"10", Money("-0.01")],
    Kind.SIGNED_MONEY: [10.5, float("inf"), 10, Decimal("10.00"), "10.00", None, False, 10**5000, _Unprintable()],
    Kind.RATE: [
        0.02,
        float("nan"),
        1,
        True,
        "0.02",
        None,
        Money("0.02"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-0.01"),
        Decimal("1.01"),
        Decimal("1e30"),
    ],
    Kind.DATE: ["2025-03-10", datetime(2025, 3, 10, 12, 0), 20250310, None, 1.5, True],
    Kind.ID: [1, None, b"i1", True, 1.5, "", "   "],
    Kind.TEXT: [1, None, b"text", True],
    Kind.COUNT: [True, False, 1.0, "1", None, Decimal(1), -1],
    Kind.DAYS: [True, 1.0, "30", None, -1, 10**12],
    Kind.CENTS: [True, 10.5, "1050", None, Decimal(1050), 10**17, -(10**17), 2**63, 10**5000],
    Kind.EXACT: [
        1.005,
        "1.005",
        1,
        None,
        True,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("1e30"),
        Money("1.00"),
    ],
    Kind.FACTOR: [
        1.5,
        "1.5",
        None,
        True,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-Infinity"),
        Decimal("1e30"),
        10**30,
        Decimal("1e999999"),
        Money("1.50"),
    ],
    Kind.MONTHS: [True, 3.0, "3", None, -1, 10**6],
    Kind.FLAG: ["no", "yes", "", 1, 0, None, 1.0],
    Kind.CALENDAR: [None, "BR", object(), 1, EveryDayCalendar],
    Kind.OBJECT: [*_WRONG_TYPES, "value"],
    Kind.TUPLE: [None, "abc", 1, [], (1,), (None,)],
    Kind.INSTANT: [None, "2026-03-10T12:00:00Z", datetime(2026, 3, 10, 12, 0), date(2026, 3, 10), 1.5],
    Kind.DATETIME: [None, "2026-03-10T12:00:00", date(2026, 3, 10), 1773144000, True],
    Kind.NUMBER: [0.02, "0.02", 1, True, None, Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")],
    Kind.INTEGER: [True, 1.0, "1", None, Decimal(1)],
    Kind.OPTIONAL_FLAG: ["no", "yes", "", 1, 0, 1.0],
}
BAD[Kind.OPTIONAL_SIGNED_MONEY] = [value for value in BAD[Kind.SIGNED_MONEY] if value is not None]
BAD[Kind.OPTIONAL_DATETIME] = [value for value in BAD[Kind.DATETIME] if value is not None]
BAD[Kind.ITEMS] = [value for value in BAD[Kind.TUPLE] if value != []]
BAD[Kind.OPTIONAL_INSTANT] = [value for value in BAD[Kind.INSTANT] if value is not None]
BAD[Kind.OPTIONAL_INTEGER] = [value for value in BAD[Kind.INTEGER] if value is not None]
BAD[Kind.POSITIVE_MONEY] = [*BAD[Kind.MONEY], Money.ZERO]
BAD[Kind.OPTIONAL_MONEY] = [value for value in BAD[Kind.MONEY] if value is not None]
BAD[Kind.OPTIONAL_RATE] = [value for value in BAD[Kind.RATE] if value is not None]
BAD[Kind.OPTIONAL_DATE] = [value for value in BAD[Kind.DATE] if value is not None]
BAD[Kind.OPTIONAL_ID] = [value for value in BAD[Kind.ID] if value is not None]
BAD[Kind.OPTIONAL_TEXT] = [value for value in BAD[Kind.TEXT] if value is not None]
BAD[Kind.POSITIVE_COUNT] = [*BAD[Kind.COUNT], 0]
BAD[Kind.OPTIONAL_POSITIVE_COUNT] = [value for value in BAD[Kind.POSITIVE_COUNT] if value is not None]
BAD[Kind.OPTIONAL_OBJECT] = [value for value in BAD[Kind.OBJECT] if value is not None]

# What Money(...) itself is handed: every way text, numbers and other objects can fail to be whole cents.
MONEY_AMOUNTS: list[object] = [
    10.5, 0.1, float("nan"), float("inf"), True, False, None, b"10", [10], object(), Money("1.00"),
    "", "   ", "abc", "10,50", "R$ 10", "10.505", "1e-3", "NaN", "-NaN", "sNaN", "Infinity", "-inf",
    "1e30", "-1e30", "1e999999999", "1e-999999999", "9" * 5000, "1000000000000000.00",
    10**15, -(10**15), 10**26, 10**5000,
    Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1e30"), Decimal("0.001"), Decimal("1E+17"),
]  # fmt: skip

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
DUE = date(2025, 3, 10)
TEN = Money("10.00")
CALENDAR = EveryDayCalendar()
INSTALLMENT = Installment("i1", "c1", DUE, Money("100.00"), TERMS)
PAYMENT = Payment(Money("100.00"), DUE)
POLICY = SettlementPolicy()
LETTER = CreditLetter("L1", "c1", TEN, "origin", DUE)
OUTCOME = settle(INSTALLMENT, PAYMENT, POLICY, calendar=CALENDAR)
SETTLEMENT = OUTCOME.settlement
assert SETTLEMENT is not None
REVERSED = attrs.evolve(SETTLEMENT, reversed_on=DUE)
DUE_NOW = OUTCOME.due
ITEM = AnticipatedInstallment("i1", TEN, DUE, Money("9.00"))
CARNET = Carnet(("p1", "p2"), DUE, TEN, "Plano")
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
OPERATION = Operation("op-1", OperationKind.ISSUE_BILLET, ("i1",), T0)
PAYER = Payer("Maria da Silva", "52998224725")
ACCOUNT = {
    "client_id": "Client_Id_1", "environment": Environment.SANDBOX, "agreement_id": "wallet",
    "agreement_bank_code": "0", "bank_account": "itau-1234", "payment_fee": Money("2.50"),
    "receipt_history": "101", "entries_history": "201", "fees_history": "301",
}  # fmt: skip
RECORD = {
    "batch_id": "b1", "line": 2, "movement_code": "06", "category": "settled", "is_settlement": True,
    "is_rejection": False, "bank_title_number": "1", "document_number": None, "due_date": DUE, "face_value": TEN,
    "paid": TEN, "discount": None, "abatement": None, "interest_and_fine": None, "tariff": None,
    "other_credits": None, "occurrence_date": DUE, "credit_date": DUE,
}  # fmt: skip


@attrs.frozen
class Target:
    """A public callable, the keyword arguments of one valid call, and the kind of each argument probed."""

    name: str
    call: Callable[..., object]
    valid: dict[str, object]
    kinds: dict[str, Kind]


def _fields(cls: type, valid: dict[str, object], **kinds: Kind) -> Target:
    return Target(cls.__name__, cls, valid, kinds)


def _method(name: str, function: Callable[..., object], **valid_and_kind: tuple[object, Kind]) -> Target:
    return Target(
        name,
        function,
        {k: v for k, (v, _) in valid_and_kind.items()},
        {k: kind for k, (_, kind) in valid_and_kind.items()},
    )


K = Kind
TARGETS: list[Target] = [
    _fields(ChargeTerms, {"fine_rate": Decimal("0.02"), "monthly_interest_rate": Decimal("0.01")},
            fine_rate=K.RATE, monthly_interest_rate=K.RATE, grace_days=K.COUNT, interest_mode=K.OBJECT,
            imputation=K.OBJECT),
    _fields(Installment, {"id": "i1", "customer_id": "c1", "due": DUE, "amount": Money("100.00"), "terms": TERMS},
            id=K.ID, customer_id=K.ID, due=K.DATE, amount=K.POSITIVE_MONEY, terms=K.OBJECT, contract_id=K.OPTIONAL_TEXT,
            number=K.POSITIVE_COUNT, description=K.TEXT, bank_title_number=K.OPTIONAL_TEXT,
            document_number=K.OPTIONAL_TEXT, bank_contract=K.OPTIONAL_TEXT, bank_transmission=K.OPTIONAL_TEXT,
            principal_open=K.MONEY, fine_open=K.MONEY, interest_open=K.MONEY, fine_charged=K.FLAG,
            interest_from=K.OPTIONAL_DATE, status=K.OBJECT, latest_settlement_id=K.OPTIONAL_ID,
            settlements_made=K.COUNT, version=K.COUNT),
    _fields(InstallmentState, {name: getattr(INSTALLMENT.state, name) for name in attrs.fields_dict(InstallmentState)},
            principal_open=K.MONEY, fine_open=K.MONEY, interest_open=K.MONEY, fine_charged=K.FLAG,
            interest_from=K.OPTIONAL_DATE, status=K.OBJECT, latest_settlement_id=K.OPTIONAL_ID),
    _fields(Payment, {"amount": TEN, "paid_on": DUE}, amount=K.POSITIVE_MONEY, paid_on=K.DATE,
            credited_on=K.OPTIONAL_DATE, discount=K.MONEY, abatement=K.MONEY, bank_charges=K.MONEY, other=K.MONEY),
    _fields(Tolerance, {}, amount=K.OPTIONAL_MONEY, rate=K.OPTIONAL_RATE),
    _fields(SettlementPolicy, {}, over=K.OBJECT, under=K.OBJECT, settle_beyond_tolerance=K.FLAG,
            closing_date=K.OPTIONAL_DATE),
    _fields(CreditLetter, {"id": "L1", "customer_id": "c1", "amount": TEN, "origin_settlement_id": "s",
                           "created_on": DUE},
            id=K.ID, customer_id=K.ID, amount=K.POSITIVE_MONEY, origin_settlement_id=K.ID, created_on=K.DATE,
            balance=K.MONEY, status=K.OBJECT, version=K.COUNT),
    _fields(Settlement, {name: getattr(SETTLEMENT, name) for name in attrs.fields_dict(Settlement)},
            id=K.ID, installment_id=K.ID, customer_id=K.ID, kind=K.OBJECT, paid=K.POSITIVE_MONEY, paid_on=K.DATE,
            credited_on=K.OPTIONAL_DATE, principal=K.MONEY, interest=K.MONEY, fine=K.MONEY, extra_charge=K.MONEY,
            extra_discount=K.MONEY, discount=K.MONEY, abatement=K.MONEY, credit_letter_amount=K.MONEY,
            bank_charges=K.MONEY, other=K.MONEY, fine_accrued=K.MONEY, interest_accrued=K.MONEY,
            revenue_kind=K.OBJECT, before=K.OBJECT, credit_letter_id=K.OPTIONAL_ID, source_letter_id=K.OPTIONAL_ID,
            reversed_on=K.OPTIONAL_DATE, batch_id=K.OPTIONAL_ID, batch_line=K.OPTIONAL_POSITIVE_COUNT,
            version=K.COUNT),
    _fields(AmountDue, {name: getattr(DUE_NOW, name) for name in attrs.fields_dict(AmountDue)},
            principal=K.MONEY, fine_open=K.MONEY, interest_open=K.MONEY, fine=K.MONEY, interest=K.MONEY,
            total=K.MONEY, late=K.FLAG, interest_days=K.DAYS),
    _fields(SettlementOutcome, {name: getattr(OUTCOME, name) for name in attrs.fields_dict(SettlementOutcome)},
            kind=K.OBJECT, installment=K.OBJECT, settlement=K.OPTIONAL_OBJECT, credit_letter=K.OPTIONAL_OBJECT,
            reason=K.TEXT, difference=K.SIGNED_MONEY, expected=K.SIGNED_MONEY, limit=K.MONEY, due=K.OBJECT,
            refusal=K.OPTIONAL_OBJECT),
    _fields(Reversal, {"installment": INSTALLMENT, "settlement": REVERSED, "credit_letter": None},
            installment=K.OBJECT, settlement=K.OBJECT, credit_letter=K.OPTIONAL_OBJECT),
    _fields(CarnetLimits, {"min_parcels": 2, "max_parcels": 12}, min_parcels=K.POSITIVE_COUNT,
            max_parcels=K.POSITIVE_COUNT),
    _fields(Carnet, {"parcel_ids": ("p1", "p2"), "first_due": DUE, "value": TEN, "description": "Plano"},
            parcel_ids=K.TUPLE, first_due=K.DATE, value=K.POSITIVE_MONEY, description=K.TEXT),
    _fields(CarnetPlan, {"billets": (), "carnets": (CARNET,), "reasons": ()}, billets=K.TUPLE, carnets=K.TUPLE,
            reasons=K.TUPLE),
    _fields(AnticipatedInstallment, {"installment_id": "i1", "face_value": TEN, "due": DUE, "present_value": TEN},
            installment_id=K.ID, face_value=K.MONEY, due=K.DATE, present_value=K.MONEY),
    _fields(Anticipation, {"id": "a1", "monthly_rate": Decimal("0.01"), "anticipated_on": DUE, "items": (ITEM,)},
            id=K.ID, monthly_rate=K.RATE, anticipated_on=K.DATE, items=K.TUPLE, status=K.OBJECT, version=K.COUNT),
    _fields(Customer, {"id": "c1", "name": "Maria Souza"}, id=K.ID, name=K.TEXT, tax_id=K.OPTIONAL_TEXT,
            email=K.OPTIONAL_TEXT, phone=K.OPTIONAL_TEXT, version=K.COUNT),
    _fields(Contract, {"id": "k1", "customer_id": "c1"}, id=K.ID, customer_id=K.ID, description=K.TEXT,
            bank_contract=K.OPTIONAL_TEXT, version=K.COUNT),
    _fields(Observation, {"id": "o1", "installment_id": "i1", "written_on": DUE, "text": "note"},
            id=K.ID, installment_id=K.ID, written_on=K.DATE, text=K.TEXT),
    _fields(PortfolioSettings, {}, policy=K.OBJECT, generate_anticipations_as_approved=K.FLAG, version=K.COUNT),
    _method("settle", settle, installment=(INSTALLMENT, K.OBJECT), payment=(PAYMENT, K.OBJECT),
            policy=(POLICY, K.OBJECT), calendar=(CALENDAR, K.CALENDAR)),
    _method("amount_due", amount_due, installment=(INSTALLMENT, K.OBJECT), on=(DUE, K.DATE),
            calendar=(CALENDAR, K.CALENDAR)),
    _method("use_credit_letter", use_credit_letter, installment=(INSTALLMENT, K.OBJECT), letter=(LETTER, K.OBJECT),
            policy=(POLICY, K.OBJECT), on=(DUE, K.DATE), calendar=(CALENDAR, K.CALENDAR)),
    _method("reverse", reverse, installment=(OUTCOME.installment, K.OBJECT), settlement=(SETTLEMENT, K.OBJECT),
            policy=(POLICY, K.OBJECT), on=(DUE, K.DATE), credit_letter=(None, K.OPTIONAL_OBJECT)),
    _method("settle_together", settle_together, installments=([INSTALLMENT], K.TUPLE), payment=(PAYMENT, K.OBJECT),
            policy=(POLICY, K.OBJECT), calendar=(CALENDAR, K.CALENDAR)),
    _method("present_value", present_value, face_value=(TEN, K.MONEY), due=(DUE, K.DATE), on=(DUE, K.DATE),
            monthly_rate=(Decimal("0.01"), K.RATE)),
    _method("anticipate", anticipate, anticipation_id=("a1", K.ID), installments=([INSTALLMENT], K.TUPLE),
            on=(date(2025, 1, 10), K.DATE), monthly_rate=(Decimal("0.01"), K.RATE)),
    _method("plan_carnet", plan_carnet, parcels=([INSTALLMENT], K.TUPLE), limits=(CarnetLimits(1, 12), K.OBJECT)),
    _method("carnet_due_dates", carnet_due_dates, first_due=(DUE, K.DATE), count=(3, K.MONTHS)),
    _method("is_on_time", is_on_time, paid_on=(DUE, K.DATE), due=(DUE, K.DATE), grace_days=(0, K.COUNT),
            calendar=(CALENDAR, K.CALENDAR)),
    _method("next_business_day", next_business_day, calendar=(CALENDAR, K.CALENDAR), day=(DUE, K.DATE)),
    _method("normalize_title_number", normalize_title_number, text=("00123", K.OPTIONAL_TEXT)),
    _method("ChargeTerms.fine_on", TERMS.fine_on, principal=(TEN, K.MONEY)),
    _method("ChargeTerms.interest_on", TERMS.interest_on, principal=(TEN, K.MONEY), days=(30, K.DAYS)),
    _method("Tolerance.limit", Tolerance(rate=Decimal("0.01")).limit, expected=(TEN, K.MONEY)),
    _method("CreditLetter.draw", LETTER.draw, value=(Money("1.00"), K.POSITIVE_MONEY)),
    _method("CreditLetter.refund", attrs.evolve(LETTER, balance=Money("5.00")).refund,
            value=(Money("1.00"), K.POSITIVE_MONEY)),
    _method("Money.from_cents", Money.from_cents, cents=(1050, K.CENTS)),
    _method("Money.rounded", Money.rounded, exact=(Decimal("1.005"), K.EXACT)),
    _method("Money + other", lambda other: TEN + other, other=(TEN, K.SIGNED_MONEY)),
    _method("Money - other", lambda other: TEN - other, other=(TEN, K.SIGNED_MONEY)),
    _method("Money < other", lambda other: operator.lt(TEN, other), other=(TEN, K.SIGNED_MONEY)),
    _method("Money * factor", lambda factor: TEN * factor, factor=(Decimal("1.5"), K.FACTOR)),
    # The rest of carteira.domain: the outbox, notifications, postings, return batches.
    _fields(GatewayAccount, ACCOUNT, client_id=K.TEXT, environment=K.OBJECT, bank_account=K.TEXT,
            payment_fee=K.MONEY, active=K.FLAG, notify=K.TUPLE, version=K.COUNT),
    _fields(OperationError, {"message": "no answer"}, message=K.TEXT, field=K.OPTIONAL_TEXT, retryable=K.FLAG),
    _fields(Operation, {"id": "op-1", "kind": OperationKind.ISSUE_BILLET, "documents": ("i1",), "created_at": T0},
            id=K.ID, kind=K.OBJECT, created_at=K.INSTANT, status=K.OBJECT, request=K.TEXT, response=K.TEXT,
            attempts=K.COUNT, error=K.OPTIONAL_OBJECT, sent_at=K.OPTIONAL_INSTANT, document_reversed=K.FLAG,
            version=K.COUNT),
    _fields(OperationFilter, {}, status=K.OPTIONAL_OBJECT, kind=K.OPTIONAL_OBJECT, customer_id=K.OPTIONAL_TEXT,
            created_from=K.OPTIONAL_INSTANT, flagged=K.OPTIONAL_FLAG, limit=K.OPTIONAL_POSITIVE_COUNT),
    _fields(GatewayCharge, {"installment_id": "i1", "operation_id": "op-1", "charge_id": "42", "due": DUE,
                            "total": TEN},
            installment_id=K.ID, charge_id=K.ID, due=K.DATE, total=K.MONEY, state=K.OBJECT,
            parcel=K.OPTIONAL_POSITIVE_COUNT, barcode=K.TEXT, link=K.OPTIONAL_TEXT, version=K.COUNT),
    _fields(Notification, {"token": "tok-1", "received_at": T0}, received_at=K.INSTANT, status=K.OBJECT,
            deliveries=K.POSITIVE_COUNT, attempts=K.COUNT, error=K.TEXT, version=K.COUNT),
    _fields(SeenEvent, {"token": "tok-1", "event_id": 1, "kind": "charge", "status": "paid", "seen_at": T0},
            event_id=K.COUNT, kind=K.ID, seen_at=K.INSTANT, charge_id=K.OPTIONAL_TEXT, flagged=K.FLAG, note=K.TEXT),
    _fields(Posting, {"id": "p1", "kind": PostingKind.ENTRY, "on": DUE, "amount": TEN, "account": "itau",
                      "history": "201", "settlement_id": "s1"},
            id=K.ID, kind=K.OBJECT, on=K.DATE, amount=K.POSITIVE_MONEY, account=K.ID, charge_id=K.OPTIONAL_TEXT),
    _fields(BatchRecord, RECORD, line=K.POSITIVE_COUNT, is_settlement=K.FLAG, is_rejection=K.FLAG,
            confirmed_once=K.FLAG, version=K.COUNT),
    # carteira.ports.gateway: the types of every field (their values are the adapter's to check).
    _fields(Address, {"street": "Rua A", "number": "1", "neighborhood": "Centro", "zipcode": "01001000",
                      "city": "São Paulo", "state": "SP"},
            street=K.TEXT, zipcode=K.TEXT, complement=K.OPTIONAL_TEXT),
    _fields(Payer, {"name": "Maria da Silva", "tax_id": "52998224725"}, name=K.TEXT, tax_id=K.TEXT,
            email=K.OPTIONAL_TEXT, birth=K.OPTIONAL_DATE, address=K.OPTIONAL_OBJECT),
    _fields(Item, {"name": "Curso", "value": TEN}, name=K.TEXT, value=K.SIGNED_MONEY, quantity=K.INTEGER),
    _fields(BilletRequest, {"items": (Item("Curso", TEN),), "payer": PAYER, "due": DUE},
            items=K.ITEMS, payer=K.OBJECT, due=K.DATE, operation_id=K.OPTIONAL_TEXT, fine_rate=K.NUMBER,
            monthly_interest_rate=K.NUMBER, days_to_write_off=K.OPTIONAL_INTEGER, message=K.TEXT,
            shipping=K.OPTIONAL_SIGNED_MONEY),
    _fields(CarnetRequest, {"items": (Item("Curso", TEN),), "payer": PAYER, "first_due": DUE, "repeats": 3},
            first_due=K.DATE, repeats=K.INTEGER, split_items=K.FLAG, fine_rate=K.NUMBER),
    _fields(IssuedBillet, {"charge_id": "42", "operation_id": None, "status": ChargeStatus.WAITING, "total": TEN,
                           "due": DUE, "barcode": "0019"},
            charge_id=K.TEXT, status=K.OBJECT, total=K.SIGNED_MONEY, due=K.DATE, barcode=K.TEXT,
            adjustments=K.TUPLE),
    _fields(ChargeSummary, {"charge_id": "42", "operation_id": None, "status": ChargeStatus.PAID, "total": TEN},
            status=K.OBJECT, parcel=K.OPTIONAL_INTEGER, created_at=K.OPTIONAL_DATETIME, paid_on=K.OPTIONAL_DATE),
    _fields(NotificationEvent, {"token": "tok-1", "event_id": 1, "kind": EventKind.CHARGE,
                                "status": ChargeStatus.PAID, "previous_status": None, "operation_id": None,
                                "charge_id": "42", "carnet_id": None, "created_at": T0},
            token=K.TEXT, event_id=K.INTEGER, kind=K.OBJECT, status=K.OBJECT, previous_status=K.OPTIONAL_OBJECT,
            created_at=K.DATETIME, paid_value=K.OPTIONAL_SIGNED_MONEY),
]  # fmt: skip

# The name an error gives an argument, where it is not the parameter's own.
ALIASES = {("normalize_title_number", "text"): "bank_title_number"}


@attrs.define
class Tally:
    """What the probe saw: calls tried, refused by error class, crashes (any other exception), accepted."""

    tried: int = 0
    refused: Counter[str] = attrs.Factory(Counter)
    crashes: list[str] = attrs.Factory(list)
    accepted: list[str] = attrs.Factory(list)
    misnamed: list[str] = attrs.Factory(list)


def _shown(value: object) -> str:
    # repr() of a 5,000-digit int raises ValueError; its length is what matters.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**40:
        return f"<int of {len(str(Decimal(value)))} digits>"
    if isinstance(value, _Unprintable):
        return "<unprintable>"
    return f"{value!r:.40}"


def _try(tally: Tally, label: str, field: str | None, call: Callable[[], object]) -> None:
    tally.tried += 1
    try:
        call()
    except TYPED as error:
        tally.refused[type(error).__name__] += 1
        named = getattr(error, "field", None)
        if field is not None and isinstance(error, (InvalidInput, InvalidType)) and not _names(named, field):
            tally.misnamed.append(f"{label}: names {named!r}")
    except Exception as error:  # the probe counts every other exception as a crash
        tally.crashes.append(f"{label}: {type(error).__name__}: {error}")
    else:
        tally.accepted.append(label)


def _names(named: object, field: str) -> bool:
    # An item of a tuple argument is named with its index (parcels[0]).
    return isinstance(named, str) and (named == field or named.startswith(f"{field}["))


def probe() -> Tally:
    """Run every bad call once."""
    tally = Tally()
    for amount in MONEY_AMOUNTS:
        _try(tally, f"Money({_shown(amount)})", "amount", lambda amount=amount: Money(amount))  # type: ignore[misc]
    for target in TARGETS:
        for name, kind in target.kinds.items():
            field = ALIASES.get((target.name, name), name)
            for bad in BAD[kind]:
                arguments: dict[str, Any] = {**target.valid, name: bad}
                label = f"{target.name}({name}={_shown(bad)})"
                _try(tally, label, field, lambda arguments=arguments, call=target.call: call(**arguments))  # type: ignore[misc]
    return tally


def test_probe_every_bad_call_is_a_typed_refusal() -> None:
    tally = probe()
    refused = sum(tally.refused.values())
    print(  # noqa: T201 (the figures for docs/reliability.md)
        f"\ndomain probe: {tally.tried} bad calls, {refused} refused "
        f"({', '.join(f'{name} {count}' for name, count in sorted(tally.refused.items()))}), "
        f"{len(tally.crashes)} crashes, {len(tally.accepted)} accepted, {len(tally.misnamed)} misnamed"
    )
    for line in tally.crashes + [f"accepted: {label}" for label in tally.accepted] + tally.misnamed:
        print("  " + line)  # noqa: T201
    assert tally.tried >= 360
    assert tally.crashes == []
    assert tally.accepted == []
    assert tally.misnamed == []
    assert refused == tally.tried


def test_the_probe_s_valid_calls_succeed() -> None:
    """Each target's valid call works, so a refusal in the probe is the bad argument's doing."""
    for target in TARGETS:
        target.call(**target.valid)
    for member in (InterestMode.PRO_RATA, Imputation.INTEREST_FINE_PRINCIPAL, InstallmentStatus.OPEN,
                   CreditLetterStatus.ACTIVE, OutcomeKind.FULL, RevenueKind.CASH, RefusalReason.NOT_OPEN,
                   AnticipationStatus.IN_STUDY):  # fmt: skip
        assert isinstance(member, enum.Enum)
