"""Payments by notification (seed 000, SPEC G6, G6a): the gateway's callbacks, kept before anything else.

When a customer pays an Efí billet, Efí calls the ERP back with a notification token. The first duty
is to keep the token, durably, before answering: :meth:`Payments.receive` stores it (or marks a
token seen before as due again, since Efí calls with one token at each change of its charge) in
one unit of work, and the callback endpoint (:mod:`carteira.adapters.callback`) answers 200 only
once it returned.

:meth:`Payments.process` then works from the stored tokens (inline, or in a worker): it claims due
tokens, fetches each token's events from the gateway (never trusting the callback), and records in
one unit every event not seen before, with what it did: a paid charge settles its installment
(D2-D5, the paid value and the bank's date from the event) and posts the entry and the fee
(:func:`~carteira.domain.postings.gateway_postings`); a payment for a charge carteira never issued,
or a ``settled`` carteira did not cause, is flagged for a person. An event's key ``(token, event_id)``
is a unique key of the store, so the same event processed twice, or by two workers at once, changes
nothing more: the second unit gets ``Conflict`` and keeps nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import attrs

from carteira.domain.calendar import BusinessCalendar
from carteira.domain.installment import InstallmentStatus
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent, check_token
from carteira.domain.operations import ChargeState, GatewayAccount, GatewayCharge
from carteira.domain.postings import Posting, gateway_postings
from carteira.domain.settlement import OutcomeKind, Payment, SettlementPolicy, settle
from carteira.domain.validation import require_date, require_instance
from carteira.errors import (
    Conflict,
    GatewayAuthenticationError,
    GatewayError,
    GatewayValidationError,
    InvalidInput,
    NotFound,
)
from carteira.ports.clock import Clock
from carteira.ports.gateway import ChargeStatus, NotificationEvent, PaymentGateway
from carteira.ports.storage import Store, UnitOfWork

__all__ = ["Payments", "ProcessReport"]

_ATTEMPTS = 5
_LEASE = timedelta(minutes=2)
"""How long a worker holds a token it processes: longer than fetching its events and one unit of work."""
_BACKOFF = timedelta(seconds=30)
"""How long a token whose events could not be fetched waits before it is tried again."""


@attrs.frozen
class ProcessReport:
    """What :meth:`Payments.process` did: ``tokens`` processed, new ``events`` recorded, of which ``settled`` paid an
    installment and ``flagged`` wait for a person; ``retrying`` tokens whose fetch failed (tried again later);
    ``refused`` tokens the gateway does not know (kept for a person, not tried again)."""

    tokens: int = 0
    events: int = 0
    settled: int = 0
    flagged: int = 0
    retrying: int = 0
    refused: int = 0

    def __add__(self, other: ProcessReport) -> ProcessReport:
        return ProcessReport(*(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True)))


@attrs.frozen
class _Configured:
    """The gateway account and the settlement policy, read with each claim of tokens rather than once per token: they
    change rarely, and per token they cost two queries of the fifteen a notification costs (decision 0715)."""

    account: GatewayAccount
    policy: SettlementPolicy


def _configured(uow: UnitOfWork) -> _Configured:
    return _Configured(uow.gateway_account.get(), uow.settings.get().policy)


class Payments:
    """The inbound half of the gateway integration over ``store``; build it through ``carteira.Portfolio``."""

    def __init__(
        self, store: Store, *, clock: Clock, calendar: BusinessCalendar, gateway: PaymentGateway | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._gateway = gateway

    def __repr__(self) -> str:
        return f"Payments({self._store!r})"

    def receive(self, token: str) -> Notification:
        """Keep ``token`` durably and return it as stored: new, or seen before and due again (G6a).

        Raises:
            InvalidInput: ``token`` cannot be a notification token (nothing is stored).
            Conflict: five units in a row were beaten by others storing the same token; the caller
                answers the gateway with an error (the endpoint's 503), and the gateway calls again.
        """
        check_token(token)
        for attempt in range(_ATTEMPTS):
            try:
                with self._store.unit_of_work() as uow:
                    try:
                        stored = uow.notifications.put(uow.notifications.get(token).delivered_again())
                    except NotFound:
                        stored = uow.notifications.put(Notification(token, self._clock.now()))
                    uow.commit()
                return stored
            except Conflict:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def pending(self, *, limit: int | None = None) -> list[Notification]:
        """The tokens whose events are still to be processed, newest received first."""
        with self._store.unit_of_work() as uow:
            return uow.notifications.with_status(NotificationStatus.PENDING, limit=limit)

    def process(self, *, limit: int | None = None) -> ProcessReport:
        """Process the tokens due now, a few at a time, until none is left or ``limit`` were taken.

        Raises:
            InvalidInput: the portfolio was built without a gateway to fetch events from.
            GatewayAuthenticationError: the gateway refused the credentials; processing stopped, and the
                tokens it held are due again after the backoff (none is lost).
        """
        gateway = self._required_gateway()
        report, taken, beaten = ProcessReport(), 0, 0
        while limit is None or taken < limit:
            claimed = self._claim(10 if limit is None else min(10, limit - taken))
            if claimed is None and beaten < _ATTEMPTS:  # another worker took one first: take what is left
                beaten += 1
                continue
            if not claimed:
                return report
            taken += len(claimed)
            for done, (notification, configured) in enumerate(claimed):
                try:
                    report += self._process(gateway, notification, configured)
                except GatewayAuthenticationError as error:
                    for held, _ in claimed[done + 1 :]:  # not tried: due again after the backoff, not the lease
                        self._retry_later(held, error)
                    raise
        return report

    def process_token(self, token: str) -> ProcessReport:
        """Process ``token`` now if it is due, as the endpoint's inline setting does once it answered 200.

        A token another worker holds, or one already processed, is left alone (an empty report): whoever
        holds it processes it, and a worker picks it up if this process dies first.

        Raises:
            InvalidInput: the portfolio was built without a gateway to fetch events from.
            NotFound: no such token was ever received.
        """
        gateway = self._required_gateway()
        now = self._clock.now()
        try:
            with self._store.unit_of_work() as uow:
                stored = uow.notifications.get(token)
                if not stored.due(now):
                    return ProcessReport()
                configured = _configured(uow)
                claimed = uow.notifications.put(stored.claimed(now, lease=_LEASE))
                uow.commit()
        except Conflict:  # a worker claimed it between the read and the write: it is theirs
            return ProcessReport()
        return self._process(gateway, claimed, configured)

    def refused(self, *, limit: int | None = None) -> list[Notification]:
        """The tokens the gateway would not give events for (unknown to it), newest first: a person looks at them."""
        with self._store.unit_of_work() as uow:
            return uow.notifications.with_status(NotificationStatus.REFUSED, limit=limit)

    def flagged(self, *, limit: int | None = None) -> list[SeenEvent]:
        """The events recorded for a person (paid or settled outside carteira, not settled), newest first."""
        with self._store.unit_of_work() as uow:
            return uow.seen_events.flagged(limit=limit)

    def _required_gateway(self) -> PaymentGateway:
        if self._gateway is None:
            raise InvalidInput(
                "processing notifications needs the gateway: pass gateway=... to Portfolio", field="gateway"
            )
        return self._gateway

    def _claim(self, size: int) -> list[tuple[Notification, _Configured]] | None:
        """Up to ``size`` due tokens, held for this worker, each with what processing it needs from the portfolio;
        ``None`` when another worker took one of them first."""
        now = self._clock.now()
        try:
            with self._store.unit_of_work() as uow:
                due = uow.notifications.due(now, limit=size)
                if not due:
                    return []
                configured = _configured(uow)
                claimed = [(uow.notifications.put(n.claimed(now, lease=_LEASE)), configured) for n in due]
                uow.commit()
        except Conflict:
            return None
        return claimed

    def _process(self, gateway: PaymentGateway, claimed: Notification, configured: _Configured) -> ProcessReport:
        try:
            events = gateway.notification_events(claimed.token)
        except GatewayAuthenticationError as error:
            # Our credentials, not the token: it waits its backoff and processing stops, as a drain does.
            self._retry_later(claimed, error)
            raise
        except GatewayValidationError as error:  # Efí does not know the token (3500010): asking again is useless
            self._keep(claimed.refused(error.message, at=self._clock.now()))
            return ProcessReport(refused=1)
        except GatewayError as error:
            self._retry_later(claimed, error)
            return ProcessReport(retrying=1)
        now = self._clock.now()
        try:
            with self._store.unit_of_work() as uow:
                seen = {event.event_id for event in uow.seen_events.of_token(claimed.token)}
                new = sorted((e for e in events if e.event_id not in seen), key=lambda e: e.event_id)
                charges = {
                    c.charge_id: c
                    for c in uow.gateway_charges.by_charge_ids(e.charge_id for e in new if e.charge_id is not None)
                }
                records = [self._apply(uow, configured, event, charges, now) for event in new]
                uow.seen_events.add_many(records)
                uow.notifications.put(claimed.processed(now))
                uow.commit()
        except Conflict:  # another worker recorded these events first, or changed what they settle
            return ProcessReport()
        settled = sum(record.settlement_id is not None for record in records)
        return ProcessReport(1, len(records), settled, sum(record.flagged for record in records))

    def _retry_later(self, claimed: Notification, error: GatewayError) -> None:
        self._keep(claimed.failed(error.message, retry_at=self._clock.now() + _BACKOFF))

    def _keep(self, changed: Notification) -> None:
        try:
            with self._store.unit_of_work() as uow:
                uow.notifications.put(changed)
                uow.commit()
        except Conflict:  # taken again meanwhile (a new delivery, another worker): whoever has it now decides
            pass

    def _apply(
        self,
        uow: UnitOfWork,
        configured: _Configured,
        event: NotificationEvent,
        charges: dict[str, GatewayCharge],
        now: datetime,
    ) -> SeenEvent:
        """Do what ``event`` reports, in ``uow``, and say so in the record that marks it seen."""
        seen = SeenEvent(event.token, event.event_id, event.kind_raw, event.status_raw, now, charge_id=event.charge_id)
        charge = charges.get(event.charge_id or "")
        if event.status is ChargeStatus.PAID:
            if charge is None:
                return attrs.evolve(seen, flagged=True, note="paid, but carteira never issued this charge")
            record = self._settle(uow, configured, event, charge, seen)
            if record.settlement_id is not None:  # a later event of this unit sees the charge as paid
                charges[charge.charge_id] = attrs.evolve(charge, state=ChargeState.PAID)
            return record
        if event.status is ChargeStatus.SETTLED and (charge is None or charge.state is not ChargeState.SETTLED):
            return attrs.evolve(seen, flagged=True, note="settled at the gateway, not by carteira: check it by hand")
        return seen

    def _settle(
        self,
        uow: UnitOfWork,
        configured: _Configured,
        event: NotificationEvent,
        charge: GatewayCharge,
        seen: SeenEvent,
    ) -> SeenEvent:
        account = configured.account
        installment = uow.installments.get(charge.installment_id)
        seen = attrs.evolve(seen, installment_id=installment.id)
        if installment.status is InstallmentStatus.SETTLED:
            return attrs.evolve(seen, flagged=True, note="paid at the gateway, but already settled in carteira")
        if charge.state is ChargeState.PAID:  # its settlement was reversed in carteira since (decision 0713)
            return attrs.evolve(seen, flagged=True, note="paid at the gateway again, its first payment was settled")
        if event.paid_value is None or event.paid_value.is_zero():
            return attrs.evolve(seen, flagged=True, note="paid, but the gateway gave no value")
        paid_on = event.paid_on or event.created_at.date()
        outcome = settle(installment, Payment(event.paid_value, paid_on), configured.policy, calendar=self._calendar)
        if outcome.kind is OutcomeKind.REFUSED or outcome.settlement is None:
            return attrs.evolve(seen, flagged=True, note=f"paid, but not settled: {outcome.reason}")
        uow.installments.put(outcome.installment)
        # The receipt under the account's receipt history (G1, G6); a blank code is no code (decision 0346).
        settlement = uow.settlements.put(attrs.evolve(outcome.settlement, history=account.receipt_history or None))
        if outcome.credit_letter is not None:
            uow.credit_letters.put(outcome.credit_letter)
        ids = (uuid.uuid4().hex, uuid.uuid4().hex)
        uow.postings.add_many(gateway_postings(settlement, account, charge_id=charge.charge_id, ids=ids))
        uow.gateway_charges.put(attrs.evolve(charge, state=ChargeState.PAID))
        return attrs.evolve(seen, settlement_id=settlement.id)

    def postings(
        self, *, on_from: date, on_to: date, account: str | None = None, history: str | None = None
    ) -> list[Posting]:
        """The postings dated ``on_from`` to ``on_to`` (both included), of ``account`` and under ``history`` when
        given, ordered by date then id: entries, fees and the reversals that undo them (G1, G6).

        Raises:
            InvalidInput: ``on_to`` is before ``on_from``, or a filter given is blank.
            InvalidType: a date that is not a ``date``, a filter that is not text.
        """
        require_date(on_from, "on_from")
        require_date(on_to, "on_to")
        if on_to < on_from:
            raise InvalidInput(
                f"the period ends ({on_to.isoformat()}) before it starts ({on_from.isoformat()})", field="on_to"
            )
        for name, value in (("account", account), ("history", history)):
            if value is not None and not require_instance(value, str, name).strip():
                raise InvalidInput("must not be blank (leave it out to take every one)", field=name, raw=repr(value))
        with self._store.unit_of_work() as uow:
            return uow.postings.find(on_from=on_from, on_to=on_to, account=account, history=history)
