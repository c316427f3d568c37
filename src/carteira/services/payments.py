"""Payments by notification (seed 000, SPEC G6, G6a): the gateway's callbacks, kept before anything else.

When a customer pays an Efí billet, Efí calls the ERP back with a notification token. The first duty
is to keep the token, durably, before answering: :meth:`Payments.receive` stores it (or marks a
token seen before as due again, since Efí calls with one token at each change of its charge) in
one unit of work, and the callback endpoint (:mod:`carteira.adapters.callback`) answers 200 only
once it returned. Fetching the token's events and settling what they report is done from the
stored tokens, by the endpoint inline or by a worker.
"""

from __future__ import annotations

from carteira.domain.notifications import Notification, NotificationStatus, check_token
from carteira.errors import Conflict, NotFound
from carteira.ports.clock import Clock
from carteira.ports.storage import Store

__all__ = ["Payments"]

_ATTEMPTS = 5


class Payments:
    """The inbound half of the gateway integration over ``store``; build it through ``carteira.Portfolio``."""

    def __init__(self, store: Store, *, clock: Clock) -> None:
        self._store = store
        self._clock = clock

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
