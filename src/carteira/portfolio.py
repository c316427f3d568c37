"""The composition root: the one object an ERP builds at start-up, and the one place that names default adapters.

``Portfolio`` wires a store, the business calendar, a clock and a return-file parser into the use
cases; it holds nothing else, so one instance can be shared by every thread of a worker, and any
number of workers can each build their own over the same database.
"""

from __future__ import annotations

from carteira.adapters.calendar import BrazilBankingCalendar
from carteira.adapters.cnab import CnabParser
from carteira.domain.calendar import BusinessCalendar
from carteira.errors import InvalidInput
from carteira.ports.clock import Clock, SystemClock
from carteira.ports.gateway import PaymentGateway
from carteira.ports.notifier import Notifier
from carteira.ports.return_files import ReturnFileParser
from carteira.ports.storage import Store
from carteira.services.gateway import GatewayIntegration
from carteira.services.outbox import OutboxTiming
from carteira.services.payments import Payments
from carteira.services.returns import ReturnBatches

__all__ = ["Portfolio"]


class Portfolio:
    """A receivables portfolio over ``store``: its use cases as attributes (``portfolio.returns``).

    Args:
        store: a migrated store (``SqliteStore``, ``PostgresStore``, ``MemoryStore``).
        calendar: the business calendar for charges and on-time payments; the Brazilian banking
            calendar unless the ERP gives its own (D2a).
        clock: where "today" comes from; Brasília time unless given (tests pass a ``FixedClock``).
        parser: reads return files; CNAB 240/400 with the layout detected from the header unless given.
        gateway: the payment gateway adapter (``EfiGateway`` built with the account's secret, or a
            fake); without one, ``portfolio.gateway`` is not available.
        notifier: tells the account's users of failed operations (G10); none by default.
        timing: the outbox's lease, quiet period and backoff (:class:`~carteira.services.outbox.OutboxTiming`).
        notification_url: where the gateway calls back when a charge changes (the payments endpoint).
    """

    def __init__(
        self,
        store: Store,
        *,
        calendar: BusinessCalendar | None = None,
        clock: Clock | None = None,
        parser: ReturnFileParser | None = None,
        gateway: PaymentGateway | None = None,
        notifier: Notifier | None = None,
        timing: OutboxTiming | None = None,
        notification_url: str | None = None,
    ) -> None:
        self.store = store
        self.calendar: BusinessCalendar = calendar if calendar is not None else BrazilBankingCalendar()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.returns = ReturnBatches(
            store, parser=parser if parser is not None else CnabParser(), calendar=self.calendar, clock=self.clock
        )
        """Return batches (B2-B11): import, auto-link, review, link, confirm, reactivate, delete."""
        self.payments = Payments(store, clock=self.clock, calendar=self.calendar, gateway=gateway)
        """Payments by notification (G6, G6a): ``receive`` keeps each token the gateway calls back with."""
        self._gateway = (
            None
            if gateway is None
            else GatewayIntegration(
                store,
                gateway,
                clock=self.clock,
                calendar=self.calendar,
                notifier=notifier,
                timing=timing,
                notification_url=notification_url,
            )
        )

    @property
    def gateway(self) -> GatewayIntegration:
        """The gateway integration (G1-G11): the account, billing runs, carnets, changes, the operations panel."""
        if self._gateway is None:
            raise InvalidInput(
                "this portfolio was built without a gateway: pass gateway=... to Portfolio", field="gateway"
            )
        return self._gateway

    def __repr__(self) -> str:
        return f"Portfolio({self.store!r})"
