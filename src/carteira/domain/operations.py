"""The gateway account and the operations log, an outbox that never charges twice (SPEC G1, G8, G10).

Every operation the portfolio sends to the payment gateway (issue a billet or a carnet, change a due
date, settle, cancel, resend) is written PENDING in the same unit of work as the change that causes
it, and sent after the commit. This module holds the pure half: the account's configuration, and an
operation's life cycle as values. What is sent, and how, belongs to the services and the adapters.

The rule that keeps a charge from being created twice lives here, in
:meth:`Operation.after_lookup`: an operation whose outcome is UNKNOWN (a timeout, a reset, a 5xx after
the body went out) is looked up by its id before anything is issued again, and a lookup that finds
nothing is not proof, because a create slower than the client's timeout can land after the lookup.
So it may be issued again only after a lookup made once ``quiet`` has passed since the outcome became
unknown, ``quiet`` being longer than any request could still be running (decision 0702).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import attrs

from carteira.domain.money import Money, quoted
from carteira.domain.validation import (
    count_field,
    date_field,
    flag_field,
    instance_field,
    instant_field,
    money_field,
    text_field,
    tuple_field,
    wrong_type,
)
from carteira.errors import InvalidInput

__all__ = [
    "ChargeState",
    "Environment",
    "GatewayAccount",
    "GatewayCharge",
    "Operation",
    "OperationError",
    "OperationFilter",
    "OperationKind",
    "OperationStatus",
]

WALLET_BANK_CODE = "0"
"""The bank code of a gateway's agreement: the "0-Carteira" agreement of seed 000."""


class Environment(enum.Enum):
    """Which of the gateway's environments an account talks to; never assumed (G1)."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


@attrs.frozen
class GatewayAccount:
    """The portfolio's one account at the payment gateway (G1); its secret is never part of it.

    ``agreement_id`` names the portfolio's agreement with the gateway, whose ``agreement_bank_code``
    must be ``"0"`` (the wallet); the entries of received payments go to ``bank_account``.
    ``payment_fee`` is what the gateway charges per paid document (its API does not report it);
    ``receipt_history``, ``entries_history`` and ``fees_history`` are the ERP's history codes for the
    settlement, the entry and the fee posting (the account and the two posting histories must not be
    blank: every paid charge posts under them); ``notify`` the users told of errors. An account that
    is not ``active`` sends nothing.
    """

    client_id: str = attrs.field(validator=text_field("client_id"))
    environment: Environment = attrs.field()
    agreement_id: str = attrs.field(validator=text_field("agreement_id"))
    agreement_bank_code: str = attrs.field()
    bank_account: str = attrs.field(validator=text_field("bank_account", blank=False))
    payment_fee: Money = attrs.field(validator=money_field("payment_fee"))
    receipt_history: str = attrs.field(validator=text_field("receipt_history"))
    entries_history: str = attrs.field(validator=text_field("entries_history", blank=False))
    fees_history: str = attrs.field(validator=text_field("fees_history", blank=False))
    active: bool = attrs.field(default=True, validator=flag_field("active"))
    notify: tuple[str, ...] = attrs.field(default=(), validator=tuple_field(str, "notify"))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @environment.validator
    def _an_environment(self, _attribute: object, value: object) -> None:
        if not isinstance(value, Environment):
            raise InvalidInput(
                "must be Environment.SANDBOX or Environment.PRODUCTION (there is no default)",
                field="environment",
                raw=quoted(value),
            )

    @agreement_bank_code.validator
    def _the_wallet(self, _attribute: object, value: object) -> None:
        if value != WALLET_BANK_CODE:
            raise InvalidInput(
                f"the gateway's agreement must be the wallet's (bank code {WALLET_BANK_CODE})",
                field="agreement_bank_code",
                raw=quoted(value),
                hint="create an agreement for bank 0-Carteira and use it here",
            )


class OperationKind(enum.Enum):
    """What an operation asks of the gateway (G2-G5, G7)."""

    ISSUE_BILLET = "issue_billet"
    ISSUE_CARNET = "issue_carnet"
    CHANGE_DUE_DATE = "change_due_date"
    SETTLE = "settle"
    CANCEL = "cancel"
    RESEND = "resend"

    @property
    def creates(self) -> bool:
        """Whether sending it twice would create a second charge (the kinds an unknown outcome must look up)."""
        return self in (OperationKind.ISSUE_BILLET, OperationKind.ISSUE_CARNET)


class OperationStatus(enum.Enum):
    """PENDING (to send), SENT, FAILED (a person must act), UNKNOWN (in a worker's hands, or its answer lost)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


@attrs.frozen
class OperationError:
    """A typed error kept on an operation: the gateway's ``code`` and ``field``, its ``message``, whether retryable."""

    message: str = attrs.field(validator=text_field("message"))
    code: int | str | None = attrs.field(default=None)
    field: str | None = attrs.field(default=None, validator=text_field("field", optional=True))
    retryable: bool = attrs.field(default=False, validator=flag_field("retryable"))

    @code.validator
    def _a_code(self, _attribute: object, value: object) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))):
            raise wrong_type(value, "code", "an int, a str or None")


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    # A named converter: the fields hold tuples so that an operation stays a hashable value.
    return tuple(values)


def _pairs(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple((str(name), str(value)) for name, value in items)


@attrs.frozen
class Operation:
    """One operation of the outbox (G8) and where it stands; every change is a new value.

    ``documents`` are the installments it concerns, in order (a carnet's parcels); ``customer_id``
    whose they are; ``arguments`` what the operation needs beyond the current data (a new due date,
    an e-mail address), as text pairs. ``request`` and ``response`` are what went out and came back,
    as the service recorded them (text, with no secret). ``next_attempt_at`` is when a worker may
    send (or look up) it next; ``unknown_since`` when its outcome became unknown: when a call's answer
    was lost, or, while a worker holds it, the end of that worker's lease (it starts no request
    later). ``warnings`` are what a person should check although it was sent (a carnet's due dates
    differing from the plan); ``document_reversed`` says its document was reversed in carteira since.
    """

    id: str = attrs.field(validator=text_field("id", blank=False))
    kind: OperationKind = attrs.field()
    documents: tuple[str, ...] = attrs.field(converter=_texts)
    created_at: datetime = attrs.field(validator=instant_field("created_at"))
    status: OperationStatus = attrs.field(
        default=OperationStatus.PENDING, validator=instance_field(OperationStatus, "status")
    )
    request: str = attrs.field(default="", validator=text_field("request"))
    response: str = attrs.field(default="", validator=text_field("response"))
    attempts: int = attrs.field(default=0, validator=count_field("attempts", 0))
    error: OperationError | None = attrs.field(
        default=None, validator=instance_field(OperationError, "error", optional=True)
    )
    sent_at: datetime | None = attrs.field(default=None, validator=instant_field("sent_at", optional=True))
    next_attempt_at: datetime | None = attrs.field(
        default=None, validator=instant_field("next_attempt_at", optional=True)
    )
    unknown_since: datetime | None = attrs.field(default=None, validator=instant_field("unknown_since", optional=True))
    customer_id: str | None = attrs.field(
        default=None, kw_only=True, validator=text_field("customer_id", optional=True)
    )
    arguments: tuple[tuple[str, str], ...] = attrs.field(default=(), kw_only=True, converter=_pairs)
    warnings: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_texts)
    document_reversed: bool = attrs.field(default=False, kw_only=True, validator=flag_field("document_reversed"))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @kind.validator
    def _a_kind(self, _attribute: object, value: object) -> None:
        if not isinstance(value, OperationKind):
            raise wrong_type(value, "kind", "an OperationKind")

    @documents.validator
    def _some_documents(self, _attribute: object, value: tuple[str, ...]) -> None:
        if not value or not all(isinstance(document, str) and document for document in value):
            raise InvalidInput("must name at least one installment, each by its id", field="documents",
                               raw=quoted(value, 120))  # fmt: skip

    @property
    def flagged(self) -> bool:
        """Whether the panel shows it in red: it failed, it has warnings, or its document was reversed (G8)."""
        return self.status is OperationStatus.FAILED or bool(self.warnings) or self.document_reversed

    def argument(self, name: str) -> str | None:
        """The argument ``name`` (``"due"``, ``"email"``), or ``None`` when the operation has none."""
        return next((value for key, value in self.arguments if key == name), None)

    def due(self, now: datetime) -> bool:
        """Whether a worker may act on it at ``now``: send a PENDING one, or look an UNKNOWN one up."""
        if self.status not in (OperationStatus.PENDING, OperationStatus.UNKNOWN):
            return False
        return self.next_attempt_at is None or now >= self.next_attempt_at

    def claimed(self, now: datetime, *, lease: timedelta, request: str | None = None) -> Operation:
        """Taken by a worker at ``now`` to send ``request`` (kept when ``None``): in flight, UNKNOWN until answered.

        The worker starts no request of it after ``now + lease``, so that is when its outcome may
        have become unknown at the latest (``unknown_since``): the quiet period of a lost create
        counts from there. A worker that dies before recording the answer leaves it UNKNOWN and due
        again at ``now + lease``; then it is handled as any lost answer (a create is looked up first).
        An UNKNOWN create cannot be claimed: it goes through :meth:`after_lookup` first.
        """
        self._must_be(OperationStatus.PENDING, OperationStatus.UNKNOWN)
        if self.status is OperationStatus.UNKNOWN and self.kind.creates:
            raise InvalidInput(f"operation {self.id} may have created a charge: look it up first (after_lookup)",
                               field="status")  # fmt: skip
        if lease <= timedelta(0):
            raise InvalidInput("must be longer than a send can take", field="lease", raw=str(lease))
        ends = now + lease
        request = self.request if request is None else request
        return attrs.evolve(
            self, status=OperationStatus.UNKNOWN, unknown_since=ends, next_attempt_at=ends, request=request
        )

    def lease_ends(self) -> datetime | None:
        """While a worker holds it (claimed, UNKNOWN, not yet answered): the moment after which it starts no request."""
        return self.next_attempt_at if self.status is OperationStatus.UNKNOWN else None

    def sent(self, response: str, at: datetime, *, warnings: tuple[str, ...] = ()) -> Operation:
        """The gateway answered with success (or the target state was already there, G5)."""
        self._must_be(OperationStatus.PENDING, OperationStatus.UNKNOWN)
        return attrs.evolve(
            self, status=OperationStatus.SENT, response=response, attempts=self.attempts + 1, sent_at=at,
            error=None, next_attempt_at=None, unknown_since=None, warnings=warnings,
        )  # fmt: skip

    def failed(self, error: OperationError, at: datetime, *, retry_at: datetime | None = None) -> Operation:
        """The gateway refused it, or could not be reached; it waits for ``retry_at`` when retryable (G10).

        A failure is an answer: the request did not take effect, so the outcome is known again.
        """
        self._must_be(OperationStatus.PENDING, OperationStatus.UNKNOWN)
        again = error.retryable and retry_at is not None
        return attrs.evolve(
            self,
            status=OperationStatus.PENDING if again else OperationStatus.FAILED,
            attempts=self.attempts + 1,
            error=error,
            next_attempt_at=retry_at if again else None,
            unknown_since=None,
        )

    def unknown(self, error: OperationError, at: datetime) -> Operation:
        """The request may have taken effect but no answer came back by ``at``: look it up before anything else.

        The call returned at ``at``, so no request of it left later: the quiet period counts from ``at``.
        """
        self._must_be(OperationStatus.PENDING, OperationStatus.UNKNOWN)
        return attrs.evolve(
            self, status=OperationStatus.UNKNOWN, attempts=self.attempts + 1, error=error,
            unknown_since=at, next_attempt_at=at,
        )  # fmt: skip

    def after_lookup(self, *, found: bool, now: datetime, quiet: timedelta, response: str = "") -> Operation:
        """The next state of an UNKNOWN operation after looking its charge up by this operation's id.

        Found: it was sent. Not found before ``quiet`` has passed since the outcome became unknown: it
        stays UNKNOWN and is looked up again then, because a create slower than the client's timeout
        may still land. Not found after that: no request can still be running, so it is PENDING again
        and may be issued once more (decision 0702).
        """
        self._must_be(OperationStatus.UNKNOWN)
        if quiet <= timedelta(0):
            raise InvalidInput("must be longer than any request can run", field="quiet", raw=str(quiet))
        if found:  # the create had gone through: sent, and the lookup is not another attempt
            return attrs.evolve(
                self, status=OperationStatus.SENT, sent_at=now, error=None, next_attempt_at=None, unknown_since=None,
                response=response or self.response,
            )  # fmt: skip
        assert self.unknown_since is not None, self
        settled_by = self.unknown_since + quiet
        if now < settled_by:
            return attrs.evolve(self, next_attempt_at=settled_by)
        return attrs.evolve(self, status=OperationStatus.PENDING, next_attempt_at=None, unknown_since=None)

    def resend(self, at: datetime) -> Operation:
        """A FAILED operation to send again; its request is rebuilt from the current data when it goes (G9)."""
        self._must_be(OperationStatus.FAILED)
        return attrs.evolve(self, status=OperationStatus.PENDING, next_attempt_at=at, error=None)

    def held(self, until: datetime) -> Operation:
        """The same operation, left alone by every worker until ``until`` (a lookup under way, a daily limit)."""
        self._must_be(OperationStatus.PENDING, OperationStatus.UNKNOWN)
        return attrs.evolve(self, next_attempt_at=until)

    def with_request(self, request: str) -> Operation:
        """The same operation recording ``request``, what is about to go out."""
        return attrs.evolve(self, request=request)

    def reversed_locally(self) -> Operation:
        """The same operation, its document reversed in carteira since: the panel flags it (G8)."""
        return attrs.evolve(self, document_reversed=True)

    def _must_be(self, *allowed: OperationStatus) -> None:
        if self.status not in allowed:
            wanted = " or ".join(status.value for status in allowed)
            raise InvalidInput(f"operation {self.id} is {self.status.value}, not {wanted}", field="status")


@attrs.frozen(kw_only=True)
class OperationFilter:
    """Which operations the panel lists (G8); every criterion left ``None`` matches all.

    ``created_from`` and ``created_to`` bound the creation date (both inclusive, in the clock's
    time zone as stored); ``document`` is an installment id; ``limit`` caps the rows, newest first.
    """

    status: OperationStatus | None = attrs.field(
        default=None, validator=instance_field(OperationStatus, "status", optional=True)
    )
    kind: OperationKind | None = attrs.field(
        default=None, validator=instance_field(OperationKind, "kind", optional=True)
    )
    customer_id: str | None = attrs.field(default=None, validator=text_field("customer_id", optional=True))
    document: str | None = attrs.field(default=None, validator=text_field("document", optional=True))
    created_from: datetime | None = attrs.field(default=None, validator=instant_field("created_from", optional=True))
    created_to: datetime | None = attrs.field(default=None, validator=instant_field("created_to", optional=True))
    flagged: bool | None = attrs.field(default=None, validator=flag_field("flagged", optional=True))
    limit: int | None = attrs.field(default=None, validator=attrs.validators.optional(count_field("limit", 1)))

    def matches(self, operation: Operation) -> bool:
        """Whether ``operation`` passes every criterion (what every store's ``find`` must agree with)."""
        return (
            (self.status is None or operation.status is self.status)
            and (self.kind is None or operation.kind is self.kind)
            and (self.customer_id is None or operation.customer_id == self.customer_id)
            and (self.document is None or self.document in operation.documents)
            and (self.created_from is None or operation.created_at >= self.created_from)
            and (self.created_to is None or operation.created_at <= self.created_to)
            and (self.flagged is None or operation.flagged is self.flagged)
        )


class ChargeState(enum.Enum):
    """Where an installment's charge stands at the gateway, as far as carteira made it so or was told."""

    ISSUED = "issued"
    SETTLED = "settled"
    CANCELED = "canceled"
    PAID = "paid"


@attrs.frozen
class GatewayCharge:
    """Which charge at the gateway an installment is: a billet (``charge_id``) or a carnet's ``parcel``.

    ``operation_id`` is the operation that issued it; ``due`` and ``total`` are what the gateway
    answered (a carnet's due dates are compared with the plan, G3).
    """

    installment_id: str = attrs.field(validator=text_field("installment_id", blank=False))
    operation_id: str = attrs.field(validator=text_field("operation_id", blank=False))
    charge_id: str = attrs.field(validator=text_field("charge_id", blank=False))
    due: date = attrs.field(validator=date_field("due"))
    total: Money = attrs.field(validator=money_field("total"))
    state: ChargeState = attrs.field(default=ChargeState.ISSUED, validator=instance_field(ChargeState, "state"))
    carnet_id: str | None = attrs.field(default=None, validator=text_field("carnet_id", optional=True))
    parcel: int | None = attrs.field(default=None, validator=count_field("parcel", 1, optional=True))
    barcode: str = attrs.field(default="", validator=text_field("barcode"))
    link: str | None = attrs.field(default=None, validator=text_field("link", optional=True))
    version: int = attrs.field(default=0, kw_only=True, validator=count_field("version", 0))

    @property
    def in_carnet(self) -> bool:
        """Whether it is a carnet's parcel rather than a billet of its own."""
        return self.carnet_id is not None
