"""The gateway integration, outbound (seed 000; SPEC G1-G5, G7-G11): every document operation goes to the gateway.

An ERP reaches it as ``portfolio.gateway``. Each verb checks its input, changes what it changes in
the store and writes the operation PENDING in the same unit of work (so a crash loses neither),
then sends it after the commit unless told not to (``send=False`` leaves it to a worker's
:meth:`GatewayIntegration.drain`). Bad input (an unknown installment, one not on the gateway's
agreement, an inactive account, a due date not after today, a resend of a settled billet) raises a
typed error and writes nothing. What the gateway refuses is an outcome on the operation, shown in
the panel (:meth:`GatewayIntegration.operations`) and told to the account's users.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.carnet import CarnetPlan, plan_carnet
from carteira.domain.installment import Installment, InstallmentStatus
from carteira.domain.notifications import SeenEvent
from carteira.domain.operations import (
    ChargeState,
    GatewayAccount,
    Operation,
    OperationError,
    OperationFilter,
    OperationKind,
    OperationStatus,
)
from carteira.domain.settlement import OutcomeKind, Payment, RefusalReason, SettlementOutcome, settle
from carteira.errors import InactiveAccount, InvalidInput, InvalidType, NotFound, RuleViolation
from carteira.ports.clock import Clock
from carteira.ports.gateway import PaymentGateway
from carteira.ports.notifier import Notifier
from carteira.ports.storage import Store, UnitOfWork
from carteira.services.outbox import DrainReport, Outbox, OutboxTiming, Progress

__all__ = [
    "DAILY_LIMIT",
    "BillingRun",
    "CarnetIssue",
    "DrainReport",
    "GatewayIntegration",
    "ManualSettlement",
    "OutboxTiming",
    "events_of",
]

DAILY_LIMIT = 15_000
"""Requests per endpoint per application in 24 hours at Efí (G11); a billing run defers what would exceed it."""


@attrs.frozen
class BillingRun:
    """What a billing run did: the operations it wrote (one per installment, in order), how they went, and how many
    wait for tomorrow's quota (``deferred``, G11)."""

    operation_ids: tuple[str, ...]
    report: DrainReport
    deferred: int = 0


@attrs.frozen
class CarnetIssue:
    """How a series went out (G3): the plan (carnets and billets, with why) and the operations written for it."""

    plan: CarnetPlan
    operation_ids: tuple[str, ...]
    report: DrainReport


@attrs.frozen
class ManualSettlement:
    """A settlement made by hand (G5): the domain's outcome, and the operation settling the charge, if one was due."""

    outcome: SettlementOutcome
    operation: Operation | None


class GatewayIntegration:
    """The outbound gateway integration of one portfolio (see the module); build it through ``carteira.Portfolio``."""

    def __init__(
        self,
        store: Store,
        gateway: PaymentGateway,
        *,
        clock: Clock,
        calendar: BusinessCalendar,
        notifier: Notifier | None = None,
        timing: OutboxTiming | None = None,
        notification_url: str | None = None,
        daily_limit: int = DAILY_LIMIT,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._calendar = calendar
        self._daily_limit = daily_limit
        self._outbox = Outbox(
            store,
            gateway,
            clock=clock,
            notifier=notifier,
            timing=timing or OutboxTiming(),
            notification_url=notification_url,
        )

    def __repr__(self) -> str:
        return f"GatewayIntegration({self._store!r}, {type(self._gateway).__name__})"

    # -- the account (G1) -------------------------------------------------------------------------

    def configure(self, account: GatewayAccount) -> GatewayAccount:
        """Store ``account`` as the portfolio's one gateway account, replacing the one before; returns it as stored.

        The secret is not part of it: the ERP gives it to the gateway adapter at start-up (decision 0703).
        """
        if not isinstance(account, GatewayAccount):
            raise InvalidType(f"account must be a GatewayAccount, not {type(account).__name__}", field="account")
        with self._store.unit_of_work() as uow:
            try:
                version = uow.gateway_account.get().version
            except NotFound:
                version = 0
            stored = uow.gateway_account.put(attrs.evolve(account, version=version))
            uow.commit()
        return stored

    def account(self) -> GatewayAccount:
        """The stored account; raises ``NotFound`` when none was configured."""
        with self._store.unit_of_work() as uow:
            return uow.gateway_account.get()

    # -- issuing (G2, G3, G11) --------------------------------------------------------------------

    def issue_billets(
        self,
        installment_ids: Sequence[str],
        *,
        concurrency: int = 8,
        progress: Progress | None = None,
        send: bool = True,
    ) -> BillingRun:
        """A billing run: one billet per installment, sent ``concurrency`` at a time with ``progress(done, total)``.

        The operations are written in one unit first. A refusal by the gateway (a one-word name, a bad
        CPF/CNPJ, a total under R$ 5,00) is the outcome of its operation; the rest of the run goes on.
        Installments beyond the gateway's daily limit wait until the window has room (``deferred``).
        """
        ids = _ids(installment_ids)
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            account = self._active(uow, "issue billets")
            installments = self._issuable(uow, account, ids)
            room = max(
                0,
                self._daily_limit
                - uow.operations.count_sent_since(OperationKind.ISSUE_BILLET, now - timedelta(days=1)),
            )
            operations = [self._new(OperationKind.ISSUE_BILLET, i, now) for i in installments]
            deferred = max(0, len(operations) - room)
            operations[room:] = [op.held(now + timedelta(days=1)) for op in operations[room:]]
            uow.operations.put_many(operations)
            uow.commit()
        return BillingRun(
            tuple(op.id for op in operations), self._send(operations[:room], send, concurrency, progress), deferred
        )

    def issue_carnet(self, installment_ids: Sequence[str], *, send: bool = True) -> CarnetIssue:
        """Send a customer's series as carnets where the gateway allows, billets otherwise (D9, G3).

        A first parcel that differs (a pro-rata first month) goes as a billet and the carnet starts at
        the second. The due dates the gateway answers are compared with the plan; a difference is a
        warning on the operation, which the panel flags.
        """
        ids = _ids(installment_ids)
        now = self._clock.now()
        with self._store.unit_of_work() as uow:
            account = self._active(uow, "issue a carnet")
            installments = {i.id: i for i in self._issuable(uow, account, ids)}
            if len({i.customer_id for i in installments.values()}) > 1:
                raise InvalidInput(
                    "a carnet is one customer's series; these installments belong to several", field="installment_ids"
                )
            series = sorted(installments.values(), key=lambda i: (i.due, i.id))
            plan = plan_carnet(series, self._gateway.carnet_limits)
            operations = [self._new(OperationKind.ISSUE_BILLET, installments[billet], now) for billet in plan.billets]
            operations += [
                self._new(OperationKind.ISSUE_CARNET, carnet.parcel_ids, now, customer_id=series[0].customer_id)
                for carnet in plan.carnets
            ]
            uow.operations.put_many(operations)
            uow.commit()
        return CarnetIssue(plan, tuple(op.id for op in operations), self._send(operations, send, 8, None))

    # -- changes to issued documents (G4, G5, G7) -------------------------------------------------

    def change_due_date(self, installment_id: str, due: date, *, send: bool = True) -> Operation | None:
        """Move an installment's due date here and at the gateway together (G4).

        A date on or before today is refused and nothing changes. Returns the operation written, or
        ``None`` when the charge has not gone out yet (its request will carry the new date).
        """
        if not isinstance(due, date) or isinstance(due, datetime):
            raise InvalidType(f"due must be a date, not {type(due).__name__}", field="due")
        today = self._clock.today()
        if due <= today:
            raise InvalidInput(
                f"must be after today ({today.isoformat()}): the gateway refuses a due date on or before today",
                field="due",
                raw=due.isoformat(),
            )
        with self._store.unit_of_work() as uow:
            self._active(uow, "change a due date")
            installment = _open(uow, installment_id, "change the due date of")
            uow.installments.put(attrs.evolve(installment, due=due))
            operation = None
            if self._on_gateway(uow, installment_id, waiting_issue_carries_changes=True):
                operation = self._new(
                    OperationKind.CHANGE_DUE_DATE,
                    (installment_id,),
                    _after_earlier(uow, installment_id, self._clock.now()),
                    customer_id=installment.customer_id,
                    arguments={"due": due.isoformat()},
                )
                uow.operations.put(operation)
            uow.commit()
        return self._send_one(operation, send)

    def settle(self, installment_id: str, payment: Payment, *, send: bool = True) -> ManualSettlement:
        """Settle an installment by hand (D2-D5, under the stored policy) and, once settled, its charge (G5).

        A refused payment raises ``RuleViolation`` (``ClosedPeriod`` for a date before the closing
        date) and changes nothing. A partial settlement leaves the charge open at the gateway.
        """
        with self._store.unit_of_work() as uow:
            self._active(uow, "settle at the gateway")
            installment = _open(uow, installment_id, "settle")
            outcome = settle(installment, payment, uow.settings.get().policy, calendar=self._calendar)
            if outcome.kind is OutcomeKind.REFUSED:
                rule = "D7" if outcome.refusal is RefusalReason.CLOSED_PERIOD else "D3"
                raise RuleViolation(
                    f"cannot settle {installment_id}: {outcome.reason}", rule=rule, subject=installment_id
                )
            uow.installments.put(outcome.installment)
            if outcome.settlement is not None:
                uow.settlements.put(outcome.settlement)
            if outcome.credit_letter is not None:
                uow.credit_letters.put(outcome.credit_letter)
            operation = None
            if outcome.installment.status is InstallmentStatus.SETTLED and self._on_gateway(uow, installment_id):
                operation = self._new(
                    OperationKind.SETTLE,
                    (installment_id,),
                    _after_earlier(uow, installment_id, self._clock.now()),
                    customer_id=installment.customer_id,
                )
                uow.operations.put(operation)
            uow.commit()
        return ManualSettlement(outcome, self._send_one(operation, send))

    def cancel(self, installment_id: str, *, send: bool = True) -> Operation | None:
        """Reverse a document in carteira (estorno) and cancel its charge at the gateway (G5).

        Its issuing operations are flagged in the panel from then on. A settled installment is
        refused: reverse its settlements first. Returns the cancel operation, or ``None`` when no
        charge went or is going out.
        """
        with self._store.unit_of_work() as uow:
            self._active(uow, "cancel at the gateway")
            installment = _open(uow, installment_id, "cancel")
            if installment.status is not InstallmentStatus.OPEN:
                raise RuleViolation(
                    f"installment {installment_id} is partly settled: reverse its settlements "
                    "before cancelling its charge",
                    rule="G5",
                    subject=installment_id,
                )
            now = self._clock.now()
            issues = [op for op in uow.operations.of_documents([installment_id]) if op.kind.creates]
            uow.operations.put_many([_reversed(op, now) for op in issues if not op.document_reversed])
            operation = None
            if self._on_gateway(uow, installment_id):
                operation = self._new(
                    OperationKind.CANCEL,
                    (installment_id,),
                    _after_earlier(uow, installment_id, self._clock.now()),
                    customer_id=installment.customer_id,
                )
                uow.operations.put(operation)
            uow.commit()
        return self._send_one(operation, send)

    def resend_email(
        self, installment_id: str, *, email: str | None = None, whole_carnet: bool = False, send: bool = True
    ) -> Operation:
        """Ask the gateway to e-mail a billet, a carnet parcel, or the whole carnet again (G7).

        ``email`` defaults to the customer's as it stands when the operation is sent. A settled
        installment is refused: there is nothing left to pay.
        """
        with self._store.unit_of_work() as uow:
            self._active(uow, "resend by e-mail")
            installment = _open(uow, installment_id, "resend the billet of")
            if not self._on_gateway(uow, installment_id):
                raise RuleViolation(
                    f"installment {installment_id} has no charge at the gateway to resend",
                    rule="G7",
                    subject=installment_id,
                )
            if email is None and not uow.customers.get(installment.customer_id).email:
                raise InvalidInput("the customer has no e-mail: give one", field="email")
            arguments = {"email": email} if email else {}
            if whole_carnet:
                arguments["scope"] = "carnet"
            operation = self._new(
                OperationKind.RESEND,
                (installment_id,),
                _after_earlier(uow, installment_id, self._clock.now()),
                customer_id=installment.customer_id,
                arguments=arguments,
            )
            uow.operations.put(operation)
            uow.commit()
        sent = self._send_one(operation, send)
        assert sent is not None
        return sent

    # -- the panel and the outbox (G8, G9) --------------------------------------------------------

    def operations(self, criteria: OperationFilter | None = None) -> list[Operation]:
        """The operations log as the panel lists it, newest first, filtered by ``criteria`` (G8)."""
        with self._store.unit_of_work() as uow:
            return uow.operations.find(criteria or OperationFilter())

    def operation(self, operation_id: str) -> Operation:
        """One operation; raises ``NotFound`` when there is none."""
        with self._store.unit_of_work() as uow:
            return uow.operations.get(operation_id)

    def notifications(self, operation_id: str) -> list[SeenEvent]:
        """The gateway's events about operation ``operation_id``'s documents, as notifications brought them (G8).

        An event concerns an operation when it is about the charge of one of its documents; each says
        what carteira did with it (the settlement it made, or why it was flagged). Raises ``NotFound``
        when there is no such operation.
        """
        with self._store.unit_of_work() as uow:
            return events_of(uow, uow.operations.get(operation_id))

    def resend(self, operation_id: str, *, send: bool = True) -> Operation:
        """Send a FAILED operation again, its request rebuilt from the current data (G9): fix, then resend.

        Only a failed operation is resent (a pending or unknown one is the outbox's to finish), and
        not a billet or carnet whose installment was settled meanwhile.
        """
        with self._store.unit_of_work() as uow:
            self._active(uow, "resend an operation")
            operation = uow.operations.get(operation_id)
            if operation.status is not OperationStatus.FAILED:
                raise RuleViolation(
                    f"operation {operation_id} is {operation.status.value}: only a failed operation is resent",
                    rule="G9",
                    subject=operation_id,
                )
            if operation.document_reversed:
                raise RuleViolation(
                    f"operation {operation_id}'s document was reversed in carteira: it is not sent again",
                    rule="G9",
                    subject=operation_id,
                )
            if operation.kind.creates:
                for installment in uow.installments.get_many(operation.documents).values():
                    if installment.status is InstallmentStatus.SETTLED:
                        raise RuleViolation(
                            f"installment {installment.id} is settled: its billet is not sent again",
                            rule="G9",
                            subject=installment.id,
                        )
            again = uow.operations.put(operation.resend(self._clock.now()))
            uow.commit()
        sent = self._send_one(again, send)
        assert sent is not None
        return sent

    def drain(self, *, concurrency: int = 8, limit: int | None = None, progress: Progress | None = None) -> DrainReport:
        """Send (or look up) every operation due now; what a worker runs, on any number of processes (G8)."""
        return self._outbox.drain(concurrency=concurrency, limit=limit, progress=progress)

    def next_due(self) -> datetime | None:
        """When the next unfinished operation becomes due, so a worker knows how long to sleep (``None``: none)."""
        return self._outbox.next_due()

    # -- helpers ----------------------------------------------------------------------------------

    def _new(
        self,
        kind: OperationKind,
        documents: Iterable[str] | Installment,
        now: datetime,
        *,
        customer_id: str | None = None,
        arguments: dict[str, str] | None = None,
    ) -> Operation:
        if isinstance(documents, Installment):
            customer_id, documents = documents.customer_id, (documents.id,)
        return Operation(
            uuid.uuid4().hex, kind, tuple(documents), now, customer_id=customer_id, arguments=arguments or {}
        )

    def _active(self, uow: UnitOfWork, action: str) -> GatewayAccount:
        try:
            account = uow.gateway_account.get()
        except NotFound:
            raise RuleViolation(
                f"cannot {action}: no gateway account is configured (portfolio.gateway.configure)",
                rule="G1",
                subject="gateway account",
            ) from None
        if not account.active:
            raise InactiveAccount(action)
        return account

    def _issuable(self, uow: UnitOfWork, account: GatewayAccount, ids: Sequence[str]) -> list[Installment]:
        """The installments ``ids`` in order, each open, on the account's agreement and not issued yet."""
        found = uow.installments.get_many(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("installment", missing[0])
        issued = {
            op.documents[i]
            for op in uow.operations.of_documents(ids)
            if op.kind.creates and not op.document_reversed
            for i in range(len(op.documents))
        }
        charges = uow.gateway_charges.get_many(ids)
        contracts: dict[str, str | None] = {}
        for installment_id in ids:
            installment = found[installment_id]
            if installment.status is InstallmentStatus.SETTLED:
                raise RuleViolation(
                    f"installment {installment_id} is settled: nothing to charge", rule="G2", subject=installment_id
                )
            if _agreement(uow, installment, contracts) != account.agreement_id:
                raise RuleViolation(
                    f"installment {installment_id} is not on the gateway's agreement {account.agreement_id!r}",
                    rule="G2",
                    subject=installment_id,
                )
            charge = charges.get(installment_id)
            if installment_id in issued or (charge is not None and charge.state is not ChargeState.CANCELED):
                raise RuleViolation(
                    f"installment {installment_id} was already sent to the gateway; resend its "
                    "operation from the panel instead",
                    rule="G2",
                    subject=installment_id,
                )
        return [found[i] for i in ids]

    def _on_gateway(self, uow: UnitOfWork, installment_id: str, *, waiting_issue_carries_changes: bool = False) -> bool:
        """Whether the installment has a live charge, or one on its way (an issue PENDING or in flight)."""
        charge = uow.gateway_charges.get_many([installment_id]).get(installment_id)
        if charge is not None:
            return charge.state is not ChargeState.CANCELED
        for op in uow.operations.of_documents([installment_id]):
            if not op.kind.creates or op.document_reversed:
                continue
            if op.status is OperationStatus.UNKNOWN or (
                op.status is OperationStatus.PENDING and not waiting_issue_carries_changes
            ):
                return True
            # A PENDING issue builds its request from the data when it goes: it will carry the change.
        return False

    def _send(
        self, operations: Sequence[Operation], send: bool, concurrency: int, progress: Progress | None
    ) -> DrainReport:
        if not send or not operations:
            return DrainReport()
        return self._outbox.send([op.id for op in operations], concurrency=concurrency, progress=progress)

    def _send_one(self, operation: Operation | None, send: bool) -> Operation | None:
        if operation is None:
            return None
        self._send([operation], send, 1, None)
        return self.operation(operation.id)


def _ids(installment_ids: Sequence[str]) -> list[str]:
    if isinstance(installment_ids, str) or not all(isinstance(i, str) for i in installment_ids):
        raise InvalidType("installment_ids must be a sequence of installment ids (str)", field="installment_ids")
    ids = list(installment_ids)
    if not ids:
        raise InvalidInput("name at least one installment", field="installment_ids")
    if len(set(ids)) != len(ids):
        raise InvalidInput("an installment appears twice", field="installment_ids")
    return ids


def _reversed(issue: Operation, now: datetime) -> Operation:
    """An issuing operation whose document was reversed: flagged; a billet not sent yet will not be sent at all."""
    if issue.status is OperationStatus.PENDING and len(issue.documents) == 1:
        reason = OperationError("the document was reversed in carteira before its charge went out")
        return issue.failed(reason, now).reversed_locally()
    return issue.reversed_locally()


def _after_earlier(uow: UnitOfWork, installment_id: str, now: datetime) -> datetime:
    """``now``, or just after the document's latest operation: its operations go out in the order written, even
    when the clock gives two of them the same instant (or goes back)."""
    latest = max((op.created_at for op in uow.operations.of_documents([installment_id])), default=None)
    return now if latest is None or latest < now else latest + timedelta(microseconds=1)


def _open(uow: UnitOfWork, installment_id: str, action: str) -> Installment:
    installment = uow.installments.get(installment_id)
    if installment.status is InstallmentStatus.SETTLED:
        raise RuleViolation(
            f"cannot {action} installment {installment_id}: it is settled", rule="G5", subject=installment_id
        )
    return installment


def _agreement(uow: UnitOfWork, installment: Installment, contracts: dict[str, str | None]) -> str | None:
    """The collection agreement an installment is on: its own, else its contract's (D11)."""
    if installment.bank_contract is not None or installment.contract_id is None:
        return installment.bank_contract
    if installment.contract_id not in contracts:
        contracts[installment.contract_id] = uow.contracts.get(installment.contract_id).bank_contract
    return contracts[installment.contract_id]


def events_of(uow: UnitOfWork, operation: Operation) -> list[SeenEvent]:
    """The recorded events about the charges of ``operation``'s documents, ordered by (token, event id)."""
    charges = uow.gateway_charges.get_many(operation.documents)
    return uow.seen_events.of_charges(charge.charge_id for charge in charges.values())
