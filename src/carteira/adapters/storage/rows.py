"""How each aggregate becomes a database row and back, for both SQL dialects.

Money goes in as integer cents; dates, instants, rates and flags go through a :class:`Codec`,
because SQLite keeps them as ISO text, ISO text in UTC, decimal text and 0/1 while PostgreSQL has
DATE, TIMESTAMPTZ, NUMERIC and BOOLEAN. Restoring always goes through the domain's full constructors, so a row that the
domain would refuse (a negative balance, a rate above 1) fails loudly on load.

A row tuple holds every column but ``version``, in :attr:`Table.columns` order with the key
first; the SQL adapters add the version themselves when they insert or update.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from carteira.adapters.storage import columns as c
from carteira.domain import (
    AnticipatedInstallment,
    Anticipation,
    AnticipationStatus,
    ChargeTerms,
    Contract,
    CreditLetter,
    CreditLetterStatus,
    Customer,
    Imputation,
    Installment,
    InstallmentState,
    InstallmentStatus,
    InterestMode,
    Money,
    Observation,
    OutcomeKind,
    PortfolioSettings,
    RevenueKind,
    Settlement,
    SettlementPolicy,
    Tolerance,
    normalize_title_number,
)
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent
from carteira.domain.operations import (
    ChargeState,
    Environment,
    GatewayAccount,
    GatewayCharge,
    Operation,
    OperationError,
    OperationKind,
    OperationStatus,
)
from carteira.domain.postings import Posting, PostingKind
from carteira.domain.return_batch import BatchRecord, BatchStatus, LinkOrigin, ReturnBatch
from carteira.errors import InvalidInput

__all__ = [
    "ACCOUNT",
    "ANTICIPATIONS",
    "BATCHES",
    "BATCH_MUTABLE_COLUMNS",
    "CONTRACTS",
    "CREDIT_LETTERS",
    "CUSTOMERS",
    "DOCUMENT_COLUMNS",
    "GATEWAY_CHARGES",
    "INSTALLMENTS",
    "ITEM_COLUMNS",
    "NOTIFICATIONS",
    "OBSERVATIONS",
    "OPERATIONS",
    "POSTINGS",
    "RECORD_COLUMNS",
    "RECORD_MUTABLE_COLUMNS",
    "SEEN_EVENTS",
    "SETTINGS",
    "SETTLEMENTS",
    "Codec",
    "Row",
    "Table",
    "batch_mutable_row",
    "item_from_row",
    "item_to_row",
    "plain_select",
    "record_from_row",
    "record_mutable_row",
    "record_to_row",
]

Row = tuple[Any, ...]
T = TypeVar("T")

_TERMS_CACHE_MAX = 4_096


class Codec:
    """Turns dates, instants, rates and flags into a dialect's column values and back; caches identical charge terms.

    An instant (a timezone-aware ``datetime``) is stored as the same moment in UTC and read back in
    UTC: equal to what was put, whatever its zone was.
    """

    def __init__(
        self,
        *,
        date_out: Callable[[date], Any],
        date_in: Callable[[Any], date],
        instant_out: Callable[[datetime], Any],
        instant_in: Callable[[Any], datetime],
        rate_out: Callable[[Decimal], Any],
        rate_in: Callable[[Any], Decimal],
        flag_out: Callable[[bool], Any],
        flag_in: Callable[[Any], bool],
    ) -> None:
        self.date_out = date_out
        self.date_in = date_in
        self.instant_out = instant_out
        self.instant_in = instant_in
        self.rate_out = rate_out
        self.rate_in = rate_in
        self.flag_out = flag_out
        self.flag_in = flag_in
        self._terms: dict[tuple[Any, ...], ChargeTerms] = {}

    def optional_date_out(self, value: date | None) -> Any:
        """``date_out`` that lets ``None`` through."""
        return None if value is None else self.date_out(value)

    def optional_date_in(self, value: Any) -> date | None:
        """``date_in`` that lets ``None`` through."""
        return None if value is None else self.date_in(value)

    def optional_instant_out(self, value: datetime | None) -> Any:
        """``instant_out`` that lets ``None`` through."""
        return None if value is None else self.instant_out(value)

    def optional_instant_in(self, value: Any) -> datetime | None:
        """``instant_in`` that lets ``None`` through."""
        return None if value is None else self.instant_in(value)

    def terms(self, fine_rate: Any, interest_rate: Any, grace_days: int, mode: str, imputation: str) -> ChargeTerms:
        """The charge terms of a row; most installments of a portfolio share a few terms, built once each."""
        key = (fine_rate, interest_rate, grace_days, mode, imputation)
        terms = self._terms.get(key)
        if terms is None:
            if len(self._terms) >= _TERMS_CACHE_MAX:
                self._terms.clear()
            terms = self._terms[key] = ChargeTerms(
                fine_rate=self.rate_in(fine_rate),
                monthly_interest_rate=self.rate_in(interest_rate),
                grace_days=grace_days,
                interest_mode=InterestMode(mode),
                imputation=Imputation(imputation),
            )
        return terms


@attrs.frozen
class Table(Generic[T]):
    """One aggregate's table: its name, the kind named in errors, its columns, and the row mappers."""

    name: str
    kind: str
    columns: tuple[str, ...]
    to_row: Callable[[T, Codec], Row]
    from_row: Callable[[Sequence[Any], Codec], T]
    order_by: str

    select: str = attrs.field(
        init=False,
        default=attrs.Factory(lambda t: f"SELECT {', '.join(t.columns)}, version FROM {t.name}", takes_self=True),
    )
    """``SELECT <columns>, version FROM <name>``, built once: every unit builds its repositories."""

    def select_sql(self) -> str:
        """The text of :attr:`select`."""
        return f"SELECT {', '.join(self.columns)}, version FROM {self.name}"


# Enum lookups by value through a dict: Enum.__call__ costs several times more, once per row.
_STATUS = {status.value: status for status in InstallmentStatus}
_ORIGIN = {origin.value: origin for origin in LinkOrigin}


def _c(money: Money) -> int:
    """``money.cents``, in the library's decimal context: times 100 in the caller's, a precision of 3 stored
    R$ 12.345,67 as 1,230,000 cents (decision 0014)."""
    return 0 if money is Money.ZERO else money.cents  # most parts of a settlement are the shared zero


def _cents(value: int) -> Money:
    # Most open balances and settlement components are zero: share the one ZERO instead of building it.
    return Money.ZERO if value == 0 else Money.from_cents(value)


def _optional_cents(value: int | None) -> Money | None:
    return None if value is None else _cents(value)  # a file's discount, abatement and the like are mostly zero


def _customer_row(c: Customer, _codec: Codec) -> Row:
    return (c.id, c.name, c.tax_id, c.email, c.phone)


def _customer(row: Sequence[Any], _codec: Codec) -> Customer:
    return Customer(row[0], row[1], row[2], row[3], row[4], version=row[5])


CUSTOMERS: Table[Customer] = Table(
    "customers", "customer", ("id", "name", "tax_id", "email", "phone"), _customer_row, _customer, "id"
)


def _contract_row(c: Contract, _codec: Codec) -> Row:
    return (c.id, c.customer_id, c.description, c.bank_contract)


def _contract(row: Sequence[Any], _codec: Codec) -> Contract:
    return Contract(row[0], row[1], row[2], row[3], version=row[4])


CONTRACTS: Table[Contract] = Table(
    "contracts", "contract", ("id", "customer_id", "description", "bank_contract"), _contract_row, _contract, "id"
)


def _installment_row(i: Installment, codec: Codec) -> Row:
    terms = i.terms
    return (
        i.id,
        i.customer_id,
        i.contract_id,
        codec.date_out(i.due),
        _c(i.amount),
        i.number,
        i.description,
        i.bank_title_number,
        i.document_number,
        i.bank_contract,
        codec.rate_out(terms.fine_rate),
        codec.rate_out(terms.monthly_interest_rate),
        terms.grace_days,
        terms.interest_mode.value,
        terms.imputation.value,
        _c(i.principal_open),
        _c(i.fine_open),
        _c(i.interest_open),
        codec.flag_out(i.fine_charged),
        codec.optional_date_out(i.interest_from),
        i.status.value,
        i.latest_settlement_id,
        i.settlements_made,
        i.bank_transmission,
        normalize_title_number(i.bank_title_number),
        normalize_title_number(i.document_number),
    )


def _installment(row: Sequence[Any], codec: Codec) -> Installment:
    amount = Money.from_cents(row[4])
    if row[24] != normalize_title_number(row[7]) or row[25] != normalize_title_number(row[8]):
        # The finders read the key columns: a number edited without its key would be found by the old one.
        _stale_key(row)
    return Installment(
        row[0],
        row[1],
        codec.date_in(row[3]),
        amount,
        codec.terms(row[10], row[11], row[12], row[13], row[14]),
        contract_id=row[2],
        number=row[5],
        description=row[6],
        bank_title_number=row[7],
        document_number=row[8],
        bank_contract=row[9],
        principal_open=amount if row[15] == row[4] else _cents(row[15]),  # an open one owes its whole amount
        fine_open=_cents(row[16]),
        interest_open=_cents(row[17]),
        fine_charged=codec.flag_in(row[18]),
        interest_from=codec.optional_date_in(row[19]),
        status=_STATUS[row[20]],
        latest_settlement_id=row[21],
        settlements_made=row[22],
        bank_transmission=row[23],
        version=row[26],  # 24 and 25 are the normalized number keys, for the finders only
    )


def _stale_key(row: Sequence[Any]) -> None:
    column = "bank_title_number_key" if row[24] != normalize_title_number(row[7]) else "document_number_key"
    number = column.removesuffix("_key")
    raise InvalidInput(f"is not {number} normalized (decision 0321); it was changed outside carteira", field=column)


INSTALLMENTS: Table[Installment] = Table(
    "installments",
    "installment",
    (
        "id",
        "customer_id",
        "contract_id",
        "due",
        "amount_cents",
        "number",
        "description",
        "bank_title_number",
        "document_number",
        "bank_contract",
        "fine_rate",
        "monthly_interest_rate",
        "grace_days",
        "interest_mode",
        "imputation",
        "principal_open_cents",
        "fine_open_cents",
        "interest_open_cents",
        "fine_charged",
        "interest_from",
        "status",
        "latest_settlement_id",
        "settlements_made",
        "bank_transmission",
        "bank_title_number_key",
        "document_number_key",
    ),
    _installment_row,
    _installment,
    "due, id",
)


def _settlement_row(s: Settlement, codec: Codec) -> Row:
    before = s.before
    return (
        s.id,
        s.installment_id,
        s.customer_id,
        s.kind.value,
        _c(s.paid),
        codec.date_out(s.paid_on),
        codec.optional_date_out(s.credited_on),
        _c(s.principal),
        _c(s.interest),
        _c(s.fine),
        _c(s.extra_charge),
        _c(s.extra_discount),
        _c(s.discount),
        _c(s.abatement),
        _c(s.credit_letter_amount),
        _c(s.bank_charges),
        _c(s.other),
        _c(s.fine_accrued),
        _c(s.interest_accrued),
        s.revenue_kind.value,
        _c(before.principal_open),
        _c(before.fine_open),
        _c(before.interest_open),
        codec.flag_out(before.fine_charged),
        codec.optional_date_out(before.interest_from),
        before.status.value,
        before.latest_settlement_id,
        s.credit_letter_id,
        s.source_letter_id,
        codec.optional_date_out(s.reversed_on),
        s.batch_id,
        s.batch_line,
        s.history,
    )


def _settlement(row: Sequence[Any], codec: Codec) -> Settlement:
    return Settlement(
        id=row[0],
        installment_id=row[1],
        customer_id=row[2],
        kind=OutcomeKind(row[3]),
        paid=_cents(row[4]),
        paid_on=codec.date_in(row[5]),
        credited_on=codec.optional_date_in(row[6]),
        principal=_cents(row[7]),
        interest=_cents(row[8]),
        fine=_cents(row[9]),
        extra_charge=_cents(row[10]),
        extra_discount=_cents(row[11]),
        discount=_cents(row[12]),
        abatement=_cents(row[13]),
        credit_letter_amount=_cents(row[14]),
        bank_charges=_cents(row[15]),
        other=_cents(row[16]),
        fine_accrued=_cents(row[17]),
        interest_accrued=_cents(row[18]),
        revenue_kind=RevenueKind(row[19]),
        before=InstallmentState(
            principal_open=_cents(row[20]),
            fine_open=_cents(row[21]),
            interest_open=_cents(row[22]),
            fine_charged=codec.flag_in(row[23]),
            interest_from=codec.optional_date_in(row[24]),
            status=_STATUS[row[25]],
            latest_settlement_id=row[26],
        ),
        credit_letter_id=row[27],
        source_letter_id=row[28],
        reversed_on=codec.optional_date_in(row[29]),
        batch_id=row[30],
        batch_line=row[31],
        history=row[32],
        version=row[33],
    )


SETTLEMENTS: Table[Settlement] = Table(
    "settlements",
    "settlement",
    (
        "id",
        "installment_id",
        "customer_id",
        "kind",
        "paid_cents",
        "paid_on",
        "credited_on",
        "principal_cents",
        "interest_cents",
        "fine_cents",
        "extra_charge_cents",
        "extra_discount_cents",
        "discount_cents",
        "abatement_cents",
        "credit_letter_amount_cents",
        "bank_charges_cents",
        "other_cents",
        "fine_accrued_cents",
        "interest_accrued_cents",
        "revenue_kind",
        "before_principal_open_cents",
        "before_fine_open_cents",
        "before_interest_open_cents",
        "before_fine_charged",
        "before_interest_from",
        "before_status",
        "before_latest_settlement_id",
        "credit_letter_id",
        "source_letter_id",
        "reversed_on",
        "batch_id",
        "batch_line",
        "history",
    ),
    _settlement_row,
    _settlement,
    "seq DESC",
)


def _letter_row(c: CreditLetter, codec: Codec) -> Row:
    return (
        c.id,
        c.customer_id,
        _c(c.amount),
        c.origin_settlement_id,
        codec.date_out(c.created_on),
        _c(c.balance),
        c.status.value,
    )


def _letter(row: Sequence[Any], codec: Codec) -> CreditLetter:
    return CreditLetter(
        row[0],
        row[1],
        _cents(row[2]),
        row[3],
        codec.date_in(row[4]),
        balance=_cents(row[5]),
        status=CreditLetterStatus(row[6]),
        version=row[7],
    )


CREDIT_LETTERS: Table[CreditLetter] = Table(
    "credit_letters",
    "credit letter",
    ("id", "customer_id", "amount_cents", "origin_settlement_id", "created_on", "balance_cents", "status"),
    _letter_row,
    _letter,
    "created_on, id",
)


def _anticipation_row(a: Anticipation, codec: Codec) -> Row:
    return (a.id, codec.rate_out(a.monthly_rate), codec.date_out(a.anticipated_on), a.status.value)


def _anticipation(row: Sequence[Any], codec: Codec) -> Anticipation:
    # Items are loaded apart (one query for a batch of anticipations) and set by the repository.
    return Anticipation(
        row[0],
        codec.rate_in(row[1]),
        codec.date_in(row[2]),
        (),
        AnticipationStatus(row[3]),
        version=row[4],
    )


ANTICIPATIONS: Table[Anticipation] = Table(
    "anticipations",
    "anticipation",
    ("id", "monthly_rate", "anticipated_on", "status"),
    _anticipation_row,
    _anticipation,
    "anticipated_on, id",
)

ITEM_COLUMNS = ("anticipation_id", "position", "installment_id", "face_value_cents", "due", "present_value_cents")


def item_to_row(anticipation_id: str, position: int, item: AnticipatedInstallment, codec: Codec) -> Row:
    """One anticipated installment as a row of ``anticipated_installments``."""
    return (
        anticipation_id,
        position,
        item.installment_id,
        _c(item.face_value),
        codec.date_out(item.due),
        _c(item.present_value),
    )


def item_from_row(row: Sequence[Any], codec: Codec) -> AnticipatedInstallment:
    """An anticipated installment from the row's columns after ``anticipation_id`` and ``position``."""
    return AnticipatedInstallment(
        installment_id=row[2],
        face_value=_cents(row[3]),
        due=codec.date_in(row[4]),
        present_value=_cents(row[5]),
    )


def _observation_row(o: Observation, codec: Codec) -> Row:
    return (o.id, o.installment_id, codec.date_out(o.written_on), o.text)


def _observation(row: Sequence[Any], codec: Codec) -> Observation:
    return Observation(row[0], row[1], codec.date_in(row[2]), row[3])


OBSERVATIONS: Table[Observation] = Table(
    "observations",
    "observation",
    ("id", "installment_id", "written_on", "text"),
    _observation_row,
    _observation,
    "seq",
)


def _rate_or_none(codec: Codec, value: Decimal | None) -> Any:
    return None if value is None else codec.rate_out(value)


def _settings_row(s: PortfolioSettings, codec: Codec) -> Row:
    policy = s.policy
    return (
        1,
        None if policy.over.amount is None else _c(policy.over.amount),
        _rate_or_none(codec, policy.over.rate),
        None if policy.under.amount is None else _c(policy.under.amount),
        _rate_or_none(codec, policy.under.rate),
        codec.flag_out(policy.settle_beyond_tolerance),
        codec.optional_date_out(policy.closing_date),
        codec.flag_out(s.generate_anticipations_as_approved),
    )


def _settings(row: Sequence[Any], codec: Codec) -> PortfolioSettings:
    return PortfolioSettings(
        policy=SettlementPolicy(
            over=Tolerance(_optional_cents(row[1]), None if row[2] is None else codec.rate_in(row[2])),
            under=Tolerance(_optional_cents(row[3]), None if row[4] is None else codec.rate_in(row[4])),
            settle_beyond_tolerance=codec.flag_in(row[5]),
            closing_date=codec.optional_date_in(row[6]),
        ),
        generate_anticipations_as_approved=codec.flag_in(row[7]),
        version=row[8],
    )


SETTINGS: Table[PortfolioSettings] = Table(
    "portfolio_settings",
    "settings",
    (
        "id",
        "over_amount_cents",
        "over_rate",
        "under_amount_cents",
        "under_rate",
        "settle_beyond_tolerance",
        "closing_date",
        "generate_anticipations_as_approved",
    ),
    _settings_row,
    _settings,
    "id",
)


def _batch_row(b: ReturnBatch, codec: Codec) -> Row:
    return (
        b.id,
        b.description,
        codec.date_out(b.process_date),
        b.source,
        b.digest,
        b.layout_id,
        b.bank_code,
        b.agreement,
        b.file_sequence,
        b.record_count,
        b.status.value,
        json.dumps(list(b.warnings), ensure_ascii=False),
    )


def _batch(row: Sequence[Any], codec: Codec) -> ReturnBatch:
    return ReturnBatch(
        row[0],
        row[1],
        codec.date_in(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        BatchStatus(row[10]),
        _texts_from_json(row[11], "warnings"),
        version=row[12],
    )


BATCHES: Table[ReturnBatch] = Table(
    "return_batches",
    "return batch",
    (
        "id",
        "description",
        "process_date",
        "source",
        "digest",
        "layout_id",
        "bank_code",
        "agreement",
        "file_sequence",
        "record_count",
        "status",
        "warnings",
    ),
    _batch_row,
    _batch,
    "process_date DESC, id",
)

BATCH_MUTABLE_COLUMNS = ("id", "description", "process_date", "status", "warnings")
"""What ``put`` writes of a batch (the key first): its file's facts stay as added."""


def batch_mutable_row(b: ReturnBatch, codec: Codec) -> Row:
    """The values of :data:`BATCH_MUTABLE_COLUMNS` for ``b``."""
    return (b.id, b.description, codec.date_out(b.process_date), b.status.value,
            json.dumps(list(b.warnings), ensure_ascii=False))  # fmt: skip


RECORD_COLUMNS = (
    "batch_id",
    "line",
    "movement_code",
    "category",
    "is_settlement",
    "is_rejection",
    "bank_title_number",
    "document_number",
    "due_date",
    "face_value_cents",
    "paid_cents",
    "discount_cents",
    "abatement_cents",
    "interest_and_fine_cents",
    "tariff_cents",
    "other_credits_cents",
    "occurrence_date",
    "credit_date",
    "anticipation_id",
    "anticipation_rate",
    "payer_tax_id",
    "origin",
    "confirmed_once",
    "note",
    "flags",
    "acknowledged_by",
    "acknowledged_at",
)
"""The columns of ``batch_records`` but ``version``; links and settlement ids live in tables of their own."""

RECORD_MUTABLE_COLUMNS = ("batch_id", "line", "origin", "confirmed_once", "note", "acknowledged_by", "acknowledged_at")
"""What ``put_records`` writes of a record's row (the key first), besides its links and settlement ids."""


def _optional_c(money: Money | None) -> int | None:
    return None if money is None else _c(money)


def record_to_row(b: BatchRecord, codec: Codec) -> Row:
    """A record as a row of :data:`RECORD_COLUMNS`."""
    return (
        b.batch_id,
        b.line,
        b.movement_code,
        b.category,
        codec.flag_out(b.is_settlement),
        codec.flag_out(b.is_rejection),
        b.bank_title_number,
        b.document_number,
        codec.optional_date_out(b.due_date),
        _optional_c(b.face_value),
        _optional_c(b.paid),
        _optional_c(b.discount),
        _optional_c(b.abatement),
        _optional_c(b.interest_and_fine),
        _optional_c(b.tariff),
        _optional_c(b.other_credits),
        codec.optional_date_out(b.occurrence_date),
        codec.optional_date_out(b.credit_date),
        b.anticipation_id,
        _rate_or_none(codec, b.anticipation_rate),
        b.payer_tax_id,
        None if b.origin is None else b.origin.value,
        codec.flag_out(b.confirmed_once),
        b.note,
        _json_texts(b.flags),
        b.acknowledged_by,
        codec.optional_instant_out(b.acknowledged_at),
    )


def record_mutable_row(b: BatchRecord, codec: Codec) -> Row:
    """The values of :data:`RECORD_MUTABLE_COLUMNS` for ``b``."""
    return (b.batch_id, b.line, None if b.origin is None else b.origin.value, codec.flag_out(b.confirmed_once), b.note,
            b.acknowledged_by, codec.optional_instant_out(b.acknowledged_at))  # fmt: skip


def record_from_row(
    row: Sequence[Any], links: tuple[str, ...], settlement_ids: tuple[str, ...], codec: Codec
) -> BatchRecord:
    """A record from a row of :data:`RECORD_COLUMNS` then ``version``, with its links and settlement ids."""
    return BatchRecord(
        batch_id=row[0],
        line=row[1],
        movement_code=row[2],
        category=row[3],
        is_settlement=codec.flag_in(row[4]),
        is_rejection=codec.flag_in(row[5]),
        bank_title_number=row[6],
        document_number=row[7],
        due_date=codec.optional_date_in(row[8]),
        face_value=_optional_cents(row[9]),
        paid=_optional_cents(row[10]),
        discount=_optional_cents(row[11]),
        abatement=_optional_cents(row[12]),
        interest_and_fine=_optional_cents(row[13]),
        tariff=_optional_cents(row[14]),
        other_credits=_optional_cents(row[15]),
        occurrence_date=codec.optional_date_in(row[16]),
        credit_date=codec.optional_date_in(row[17]),
        anticipation_id=row[18],
        anticipation_rate=None if row[19] is None else codec.rate_in(row[19]),
        payer_tax_id=row[20],
        links=links,
        origin=None if row[21] is None else _ORIGIN[row[21]],
        settlement_ids=settlement_ids,
        confirmed_once=codec.flag_in(row[22]),
        note=row[23],
        flags=_texts_from_json(row[24], "flags"),
        acknowledged_by=row[25],
        acknowledged_at=codec.optional_instant_in(row[26]),
        version=row[27],
    )


def _json_texts(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False) if values else "[]"  # most rows have none


def _texts_from_json(text: str, column: str) -> tuple[str, ...]:
    """A JSON list of texts, as :func:`_json_texts` wrote it; anything else is a row edited outside carteira."""
    if text == "[]":
        return ()
    values = json.loads(text)
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise InvalidInput("must be a JSON list of texts", field=column, raw=text[:40])
    return tuple(values)


def _pairs_from_json(text: str, column: str) -> tuple[tuple[str, str], ...]:
    """A JSON list of [name, value] text pairs; anything else is a row edited outside carteira."""
    if text == "[]":
        return ()
    values = json.loads(text)
    if not isinstance(values, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair) for pair in values
    ):
        raise InvalidInput("must be a JSON list of [name, value] texts", field=column, raw=text[:40])
    return tuple((name, value) for name, value in values)


def _account_row(a: GatewayAccount, codec: Codec) -> Row:
    return (
        1,
        a.client_id,
        a.environment.value,
        a.agreement_id,
        a.agreement_bank_code,
        a.bank_account,
        _c(a.payment_fee),
        a.receipt_history,
        a.entries_history,
        a.fees_history,
        codec.flag_out(a.active),
        _json_texts(a.notify),
    )


def _account(row: Sequence[Any], codec: Codec) -> GatewayAccount:
    return GatewayAccount(
        client_id=row[1],
        environment=Environment(row[2]),
        agreement_id=row[3],
        agreement_bank_code=row[4],
        bank_account=row[5],
        payment_fee=_cents(row[6]),
        receipt_history=row[7],
        entries_history=row[8],
        fees_history=row[9],
        active=codec.flag_in(row[10]),
        notify=_texts_from_json(row[11], "notify"),
        version=row[12],
    )


ACCOUNT: Table[GatewayAccount] = Table(
    "gateway_account",
    "gateway account",
    (
        "id",
        "client_id",
        "environment",
        "agreement_id",
        "agreement_bank_code",
        "bank_account",
        "payment_fee_cents",
        "receipt_history",
        "entries_history",
        "fees_history",
        "active",
        "notify",
    ),
    _account_row,
    _account,
    "id",
)


def _error_row(error: OperationError | None, codec: Codec) -> Row:
    """``error_message``, ``error_code``, ``error_code_is_number``, ``error_field``, ``error_retryable``."""
    if error is None:
        return (None, None, None, None, None)
    code = error.code
    if code is None:
        text, is_number = None, None
    elif isinstance(code, int):
        text, is_number = str(int(code)), codec.flag_out(True)  # int(): a bool code is stored as the number it is
    else:
        text, is_number = code, codec.flag_out(False)
    return (error.message, text, is_number, error.field, codec.flag_out(error.retryable))


def _error(row: Sequence[Any], codec: Codec) -> OperationError | None:
    """The error of the five columns :func:`_error_row` writes; ``None`` when ``error_message`` is NULL."""
    message, text, is_number, field, retryable = row
    if message is None:
        if (text, is_number, field, retryable) != (None, None, None, None):
            raise InvalidInput("is empty while the other error columns are set", field="error_message")
        return None
    code: int | str | None = text
    if text is not None and codec.flag_in(is_number):
        code = int(text)
    return OperationError(message, code, field, codec.flag_in(retryable))


def _operation_row(o: Operation, codec: Codec) -> Row:
    return (
        o.id,
        o.kind.value,
        codec.instant_out(o.created_at),
        o.status.value,
        o.request,
        o.response,
        o.attempts,
        *_error_row(o.error, codec),
        codec.optional_instant_out(o.sent_at),
        codec.optional_instant_out(o.next_attempt_at),
        codec.optional_instant_out(o.unknown_since),
        o.customer_id,
        json.dumps([list(pair) for pair in o.arguments], ensure_ascii=False) if o.arguments else "[]",
        _json_texts(o.warnings),
        codec.flag_out(o.document_reversed),
        codec.flag_out(o.flagged),  # derived, stored so that find(flagged=...) is SQL
    )


def _operation(row: Sequence[Any], codec: Codec) -> Operation:
    """An operation from its row, then ``version``, then its documents in order (the repository appends them)."""
    operation = Operation(
        row[0],
        OperationKind(row[1]),
        row[21],
        codec.instant_in(row[2]),
        OperationStatus(row[3]),
        row[4],
        row[5],
        row[6],
        _error(row[7:12], codec),
        codec.optional_instant_in(row[12]),
        codec.optional_instant_in(row[13]),
        codec.optional_instant_in(row[14]),
        customer_id=row[15],
        arguments=_pairs_from_json(row[16], "arguments"),
        warnings=_texts_from_json(row[17], "warnings"),
        document_reversed=codec.flag_in(row[18]),
        version=row[20],
    )
    if codec.flag_in(row[19]) is not operation.flagged:
        # Derived from the rest and stored for find(flagged=...): one that disagrees would list it wrongly.
        raise InvalidInput(f"says {bool(row[19])} where the operation is {operation.flagged}", field="flagged")
    return operation


OPERATIONS: Table[Operation] = Table(
    "operations",
    "operation",
    (
        "id",
        "kind",
        "created_at",
        "status",
        "request",
        "response",
        "attempts",
        "error_message",
        "error_code",
        "error_code_is_number",
        "error_field",
        "error_retryable",
        "sent_at",
        "next_attempt_at",
        "unknown_since",
        "customer_id",
        "arguments",
        "warnings",
        "document_reversed",
        "flagged",
    ),
    _operation_row,
    _operation,
    "created_at, id",
)

DOCUMENT_COLUMNS = ("operation_id", "position", "installment_id")
"""The columns of ``operation_documents``: an operation's documents, one row each, in order."""


def _charge_row(c: GatewayCharge, codec: Codec) -> Row:
    return (
        c.installment_id,
        c.operation_id,
        c.charge_id,
        codec.date_out(c.due),
        _c(c.total),
        c.state.value,
        c.carnet_id,
        c.parcel,
        c.barcode,
        c.link,
    )


def _charge(row: Sequence[Any], codec: Codec) -> GatewayCharge:
    return GatewayCharge(
        row[0],
        row[1],
        row[2],
        codec.date_in(row[3]),
        _cents(row[4]),
        ChargeState(row[5]),
        row[6],
        row[7],
        row[8],
        row[9],
        version=row[10],
    )


GATEWAY_CHARGES: Table[GatewayCharge] = Table(
    "gateway_charges",
    "gateway charge",
    (
        "installment_id",
        "operation_id",
        "charge_id",
        "due",
        "total_cents",
        "state",
        "carnet_id",
        "parcel",
        "barcode",
        "link",
    ),
    _charge_row,
    _charge,
    "installment_id",
)


def _notification_row(n: Notification, codec: Codec) -> Row:
    return (
        n.token,
        codec.instant_out(n.received_at),
        n.status.value,
        n.deliveries,
        n.attempts,
        codec.optional_instant_out(n.next_attempt_at),
        codec.optional_instant_out(n.processed_at),
        n.error,
    )


def _notification(row: Sequence[Any], codec: Codec) -> Notification:
    return Notification(
        row[0],
        codec.instant_in(row[1]),
        NotificationStatus(row[2]),
        row[3],
        row[4],
        codec.optional_instant_in(row[5]),
        codec.optional_instant_in(row[6]),
        row[7],
        version=row[8],
    )


NOTIFICATIONS: Table[Notification] = Table(
    "notifications",
    "notification",
    ("token", "received_at", "status", "deliveries", "attempts", "next_attempt_at", "processed_at", "error"),
    _notification_row,
    _notification,
    "received_at, token",
)


def _seen_event_row(e: SeenEvent, codec: Codec) -> Row:
    return (
        e.token,
        e.event_id,
        e.kind,
        e.status,
        codec.instant_out(e.seen_at),
        e.charge_id,
        e.installment_id,
        e.settlement_id,
        codec.flag_out(e.flagged),
        e.note,
    )


def _seen_event(row: Sequence[Any], codec: Codec) -> SeenEvent:
    return SeenEvent(
        row[0],
        row[1],
        row[2],
        row[3],
        codec.instant_in(row[4]),
        row[5],
        row[6],
        row[7],
        codec.flag_in(row[8]),
        row[9],
    )


SEEN_EVENTS: Table[SeenEvent] = Table(
    "seen_events",
    "seen event",
    (
        "token",
        "event_id",
        "kind",
        "status",
        "seen_at",
        "charge_id",
        "installment_id",
        "settlement_id",
        "flagged",
        "note",
    ),
    _seen_event_row,
    _seen_event,
    "token, event_id",
)
"""Append-only and without a version: read with :func:`plain_select`, not :attr:`Table.select`."""

_POSTING_KIND = {kind.value: kind for kind in PostingKind}


def _posting_row(p: Posting, codec: Codec) -> Row:
    return (
        p.id,
        p.kind.value,
        codec.date_out(p.on),
        _c(p.amount),
        p.account,
        p.history,
        p.settlement_id,
        p.charge_id,
        p.reverses,
    )


def _posting(row: Sequence[Any], codec: Codec) -> Posting:
    return Posting(
        row[0],
        _POSTING_KIND[row[1]],
        codec.date_in(row[2]),
        Money.from_cents(row[3]),
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
    )


POSTINGS: Table[Posting] = Table(
    "postings",
    "posting",
    ("id", "kind", "on_date", "amount_cents", "account", "history", "settlement_id", "charge_id", "reverses"),
    _posting_row,
    _posting,
    "seq",
)
"""Append-only and without a version: read with :func:`plain_select`, not :attr:`Table.select`."""


def plain_select(table: Table[Any]) -> str:
    """``SELECT <columns> FROM <name>``: for an append-only table, which has no ``version`` column."""
    return f"SELECT {', '.join(table.columns)} FROM {table.name}"


# -- what each column holds ----------------------------------------------------------------------------------------
# One declaration per column of every table (decision 0347): checked before a write and, when a stored row
# cannot be decoded, used to name the column at fault. tests/adapters/storage/test_columns.py compares it
# with the PostgreSQL schema (types and NULLs), so a migration that changes a column changes it here too.

HOLDS: dict[str, dict[str, c.Holds]] = {}
"""Each table's columns and what each holds, ``version`` included where the table has one."""
KEYS: dict[str, tuple[str, ...]] = {}
"""Each table's primary key columns (``seq``, where a table has it, is the database's own and never named)."""
RECORDS: dict[str, type] = {}
"""The record type each aggregate's table stores."""


def _holds(table: str, key: tuple[str, ...], record: type | None = None, **columns: c.Holds) -> None:
    HOLDS[table] = columns
    KEYS[table] = key
    if record is not None:
        RECORDS[table] = record


_T, _T0 = c.TEXT, c.TEXT_OR_NULL
_V = c.INT32  # version
_texts = c.json_text(_texts_from_json)

_holds("customers", ("id",), Customer, id=_T, name=_T, tax_id=_T0, email=_T0, phone=_T0, version=_V)
_holds("contracts", ("id",), Contract, id=_T, customer_id=_T, description=_T, bank_contract=_T0, version=_V)
_holds(
    "installments", ("id",), Installment,
    id=_T, customer_id=_T, contract_id=_T0, due=c.DATE, amount_cents=c.CENTS, number=c.INT32, description=_T,
    bank_title_number=_T0, document_number=_T0, bank_contract=_T0, fine_rate=c.RATE, monthly_interest_rate=c.RATE,
    grace_days=c.INT32, interest_mode=c.one_of(InterestMode), imputation=c.one_of(Imputation),
    principal_open_cents=c.CENTS, fine_open_cents=c.CENTS, interest_open_cents=c.CENTS, fine_charged=c.FLAG,
    interest_from=c.DATE_OR_NULL, status=c.one_of(InstallmentStatus), latest_settlement_id=_T0,
    settlements_made=c.INT32, bank_transmission=_T0, bank_title_number_key=_T0, document_number_key=_T0, version=_V,
)  # fmt: skip
_holds(
    "settlements", ("id",), Settlement,
    id=_T, installment_id=_T, customer_id=_T, kind=c.one_of(OutcomeKind), paid_cents=c.CENTS, paid_on=c.DATE,
    credited_on=c.DATE_OR_NULL, principal_cents=c.CENTS, interest_cents=c.CENTS, fine_cents=c.CENTS,
    extra_charge_cents=c.CENTS, extra_discount_cents=c.CENTS, discount_cents=c.CENTS, abatement_cents=c.CENTS,
    credit_letter_amount_cents=c.CENTS, bank_charges_cents=c.CENTS, other_cents=c.CENTS,
    fine_accrued_cents=c.CENTS, interest_accrued_cents=c.CENTS, revenue_kind=c.one_of(RevenueKind),
    before_principal_open_cents=c.CENTS, before_fine_open_cents=c.CENTS, before_interest_open_cents=c.CENTS,
    before_fine_charged=c.FLAG, before_interest_from=c.DATE_OR_NULL, before_status=c.one_of(InstallmentStatus),
    before_latest_settlement_id=_T0, credit_letter_id=_T0, source_letter_id=_T0, reversed_on=c.DATE_OR_NULL,
    batch_id=_T0, batch_line=c.INT32_OR_NULL, history=_T0, version=_V,
)  # fmt: skip
_holds(
    "credit_letters", ("id",), CreditLetter,
    id=_T, customer_id=_T, amount_cents=c.CENTS, origin_settlement_id=_T, created_on=c.DATE, balance_cents=c.CENTS,
    status=c.one_of(CreditLetterStatus), version=_V,
)  # fmt: skip
_holds("anticipations", ("id",), Anticipation,
       id=_T, monthly_rate=c.RATE, anticipated_on=c.DATE, status=c.one_of(AnticipationStatus), version=_V)  # fmt: skip
_holds(
    "anticipated_installments", ("anticipation_id", "position"),
    anticipation_id=_T, position=c.INT32, installment_id=_T, face_value_cents=c.CENTS, due=c.DATE,
    present_value_cents=c.CENTS,
)  # fmt: skip
_holds("observations", ("id",), Observation, id=_T, installment_id=_T, written_on=c.DATE, text=_T)
_holds(
    "portfolio_settings", ("id",), PortfolioSettings,
    id=c.INT32, over_amount_cents=c.CENTS_OR_NULL, over_rate=c.RATE_OR_NULL, under_amount_cents=c.CENTS_OR_NULL,
    under_rate=c.RATE_OR_NULL, settle_beyond_tolerance=c.FLAG, closing_date=c.DATE_OR_NULL,
    generate_anticipations_as_approved=c.FLAG, version=_V,
)  # fmt: skip
_holds(
    "return_batches", ("id",), ReturnBatch,
    id=_T, description=_T, process_date=c.DATE, source=_T, digest=_T, layout_id=_T, bank_code=_T, agreement=_T0,
    file_sequence=c.INT32_OR_NULL, record_count=c.INT32, status=c.one_of(BatchStatus), warnings=_texts, version=_V,
)  # fmt: skip
_holds(
    "batch_records", ("batch_id", "line"), BatchRecord,
    batch_id=_T, line=c.INT32, movement_code=_T, category=_T, is_settlement=c.FLAG, is_rejection=c.FLAG,
    bank_title_number=_T0, document_number=_T0, due_date=c.DATE_OR_NULL, face_value_cents=c.CENTS_OR_NULL,
    paid_cents=c.CENTS_OR_NULL, discount_cents=c.CENTS_OR_NULL, abatement_cents=c.CENTS_OR_NULL,
    interest_and_fine_cents=c.CENTS_OR_NULL, tariff_cents=c.CENTS_OR_NULL, other_credits_cents=c.CENTS_OR_NULL,
    occurrence_date=c.DATE_OR_NULL, credit_date=c.DATE_OR_NULL, anticipation_id=_T0, anticipation_rate=c.RATE_OR_NULL,
    payer_tax_id=_T0, origin=c.one_of(LinkOrigin).or_null(), confirmed_once=c.FLAG, note=_T, flags=_texts,
    acknowledged_by=_T0, acknowledged_at=c.INSTANT_OR_NULL, version=_V,
)  # fmt: skip
_holds("batch_record_links", ("batch_id", "line", "position"),
       batch_id=_T, line=c.INT32, position=c.INT32, installment_id=_T)  # fmt: skip
_holds("batch_record_settlements", ("settlement_id",),
       settlement_id=_T, batch_id=_T, line=c.INT32, position=c.INT32)  # fmt: skip
_holds(
    "gateway_account", ("id",), GatewayAccount,
    id=c.INT32, client_id=_T, environment=c.one_of(Environment), agreement_id=_T, agreement_bank_code=_T,
    bank_account=_T, payment_fee_cents=c.CENTS, receipt_history=_T, entries_history=_T, fees_history=_T,
    active=c.FLAG, notify=_texts, version=_V,
)  # fmt: skip
_holds(
    "operations", ("id",), Operation,
    id=_T, kind=c.one_of(OperationKind), created_at=c.INSTANT, status=c.one_of(OperationStatus), request=_T,
    response=_T, attempts=c.INT32, error_message=_T0, error_code=_T0, error_code_is_number=c.FLAG_OR_NULL,
    error_field=_T0, error_retryable=c.FLAG_OR_NULL, sent_at=c.INSTANT_OR_NULL, next_attempt_at=c.INSTANT_OR_NULL,
    unknown_since=c.INSTANT_OR_NULL, customer_id=_T0, arguments=c.json_text(_pairs_from_json), warnings=_texts,
    document_reversed=c.FLAG, flagged=c.FLAG, version=_V,
)  # fmt: skip
_holds("operation_documents", ("operation_id", "position"), operation_id=_T, position=c.INT32, installment_id=_T)
_holds(
    "gateway_charges", ("installment_id",), GatewayCharge,
    installment_id=_T, operation_id=_T, charge_id=_T, due=c.DATE, total_cents=c.CENTS, state=c.one_of(ChargeState),
    carnet_id=_T0, parcel=c.INT32_OR_NULL, barcode=_T, link=_T0, version=_V,
)  # fmt: skip
_holds(
    "notifications", ("token",), Notification,
    token=_T, received_at=c.INSTANT, status=c.one_of(NotificationStatus), deliveries=c.INT32, attempts=c.INT32,
    next_attempt_at=c.INSTANT_OR_NULL, processed_at=c.INSTANT_OR_NULL, error=_T, version=_V,
)  # fmt: skip
_holds(
    "seen_events", ("token", "event_id"), SeenEvent,
    token=_T, event_id=c.INT64, kind=_T, status=_T, seen_at=c.INSTANT, charge_id=_T0, installment_id=_T0,
    settlement_id=_T0, flagged=c.FLAG, note=_T,
)  # fmt: skip
_holds(
    "postings", ("id",), Posting,
    id=_T, kind=c.one_of(PostingKind), on_date=c.DATE, amount_cents=c.CENTS, account=_T, history=_T,
    settlement_id=_T, charge_id=_T0, reverses=_T0,
)  # fmt: skip

LINK_COLUMNS = ("batch_id", "line", "position", "installment_id")
"""The columns of ``batch_record_links``: a record's links, one row each, in order."""
SETTLED_COLUMNS = ("settlement_id", "batch_id", "line", "position")
"""The columns of ``batch_record_settlements``: the settlements confirming a record made."""

_TABLE_OF: dict[type, Table[Any]] = {
    Customer: CUSTOMERS, Contract: CONTRACTS, Installment: INSTALLMENTS, Settlement: SETTLEMENTS,
    CreditLetter: CREDIT_LETTERS, Anticipation: ANTICIPATIONS, Observation: OBSERVATIONS, PortfolioSettings: SETTINGS,
    ReturnBatch: BATCHES, GatewayAccount: ACCOUNT, Operation: OPERATIONS, GatewayCharge: GATEWAY_CHARGES,
    Notification: NOTIFICATIONS, SeenEvent: SEEN_EVENTS, Posting: POSTINGS,
}  # fmt: skip
_APPEND_ONLY = (Observation, SeenEvent, Posting)


def stored_rows(record: Any, codec: Codec) -> list[tuple[str, tuple[str, ...], list[Row]]]:
    """Every row a SQL store keeps for ``record``, as (table, columns, rows), its child rows included.

    What :class:`~carteira.adapters.storage.memory.MemoryStore` checks a write against, so that it holds
    exactly what the databases hold (decision 0347).
    """
    kind = type(record)
    if kind is BatchRecord:
        links = [(record.batch_id, record.line, n, installment) for n, installment in enumerate(record.links)]
        settled = [(settlement, record.batch_id, record.line, n) for n, settlement in enumerate(record.settlement_ids)]
        return [
            ("batch_records", (*RECORD_COLUMNS, "version"), [(*record_to_row(record, codec), record.version)]),
            ("batch_record_links", LINK_COLUMNS, links),
            ("batch_record_settlements", SETTLED_COLUMNS, settled),
        ]
    table = _TABLE_OF[kind]
    row = table.to_row(record, codec)
    found = [(table.name, table.columns, [row])] if kind in _APPEND_ONLY else [
        (table.name, (*table.columns, "version"), [(*row, record.version)])
    ]  # fmt: skip
    if kind is Anticipation:
        items = [item_to_row(record.id, n, item, codec) for n, item in enumerate(record.items)]
        found.append(("anticipated_installments", ITEM_COLUMNS, items))
    elif kind is Operation:
        documents = [(record.id, n, installment) for n, installment in enumerate(record.documents)]
        found.append(("operation_documents", DOCUMENT_COLUMNS, documents))
    return found
