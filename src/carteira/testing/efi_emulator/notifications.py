"""Notification tokens with growing event lists, and the callbacks that announce them (reference §8)."""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from carteira.testing.efi_emulator.clock import Clock
from carteira.testing.efi_emulator.switches import Switches

_log = logging.getLogger("carteira.testing.efi_emulator")

HISTORY_WINDOW = timedelta(days=183)  # `data` holds every change of the last 6 months
TIMESTAMP = "%Y-%m-%d %H:%M:%S"

#: An in-process callback: receives the token Efí would POST and returns the HTTP status it answers
#: (an int; anything else, such as None or ``portfolio.payments.receive``'s Notification, counts as 200).
#: An exception counts as a 500.
CallbackFn = Callable[[str], object]


class NotificationBook:
    """One token per charge or carnê, each with its ordered events. The emulator guards it with its lock."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._serial = itertools.count(1)
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._queried_at: dict[str, datetime] = {}

    def new_token(self) -> str:
        """A fresh opaque token (UUID-shaped, deterministic per emulator)."""
        digest = hashlib.sha256(f"{self._seed}:notification:{next(self._serial)}".encode()).hexdigest()
        token = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        self._events[token] = []
        return token

    def append(self, token: str, event: dict[str, Any]) -> dict[str, Any]:
        """Add `event` under `token`, numbering it 1..n within the token."""
        events = self._events[token]
        numbered = {"id": len(events) + 1, **event}
        events.append(numbered)
        return numbered

    def read(self, token: str, now: datetime) -> list[dict[str, Any]] | None:
        """The events of the last six months, oldest first, or None for an unknown token; marks it queried."""
        events = self._events.get(token)
        if events is None:
            return None
        self._queried_at[token] = now
        oldest = (now - HISTORY_WINDOW).strftime(TIMESTAMP)
        return [dict(e) for e in events if e["created_at"] >= oldest]

    def queried_since(self, token: str, moment: datetime) -> bool:
        """Whether `GET /notification/:token` was called at or after `moment`."""
        queried = self._queried_at.get(token)
        return queried is not None and queried >= moment


@attrs.frozen
class Delivery:
    """A callback waiting to be sent: `attempt` counts from 1; `first_at` starts the re-delivery window."""

    url: str
    token: str
    due_at: datetime
    attempt: int
    first_at: datetime


@attrs.frozen
class DeliveryRecord:
    """One callback POST as sent: emulator time, and the status answered (None when nothing answered)."""

    url: str
    token: str
    attempt: int
    at: datetime
    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Courier:
    """Sends callbacks: to a registered callable, or as an HTTP POST to a loopback URL; schedules re-deliveries.

    Sending happens outside the emulator's lock, so a receiver may call the emulator back.
    """

    def __init__(self, switches: Switches, clock: Clock, book: NotificationBook, book_lock: threading.RLock) -> None:
        self._switches = switches
        self._clock = clock
        self._book = book
        self._book_lock = book_lock
        self._lock = threading.Lock()
        self._pending: list[tuple[datetime, int, Delivery]] = []  # a heap by due time
        self._sequence = itertools.count()
        self._callables: dict[str, CallbackFn] = {}
        self._records: list[DeliveryRecord] = []
        self._http: httpx.Client | None = None
        self.any_host = False

    def register(self, url: str, fn: CallbackFn) -> None:
        """Deliver callbacks for `url` to `fn` instead of over the network."""
        with self._lock:
            self._callables[url] = fn

    def enqueue(self, url: str, token: str) -> None:
        """Queue a first delivery of `token` to `url`, due now."""
        now = self._clock.now()
        self._push(Delivery(url, token, now, 1, now))

    def _push(self, delivery: Delivery) -> None:
        with self._lock:
            heapq.heappush(self._pending, (delivery.due_at, next(self._sequence), delivery))

    @property
    def records(self) -> list[DeliveryRecord]:
        """Every callback sent so far, oldest first."""
        with self._lock:
            return list(self._records)

    @property
    def pending(self) -> list[Delivery]:
        """Callbacks queued and not yet sent (first deliveries and scheduled retries)."""
        with self._lock:
            return [delivery for _, _, delivery in sorted(self._pending)]

    def deliver_due(self) -> int:
        """Send every queued callback whose time has come; return how many POSTs were made."""
        now = self._clock.now()
        due = []
        with self._lock:
            while self._pending and self._pending[0][0] <= now:
                due.append(heapq.heappop(self._pending)[2])
        sent = 0
        for delivery in due:
            sent += self._deliver(delivery, now)
        return sent

    def _deliver(self, delivery: Delivery, now: datetime) -> int:
        if delivery.attempt > 1 and self._switches.callback_policy == "until_queried":
            with self._book_lock:
                if self._book.queried_since(delivery.token, delivery.first_at):
                    return 0
        statuses = [self._post(delivery, now) for _ in range(1 + self._switches.callback_duplicates)]
        if all(s is None for s in statuses):
            return len(statuses)  # nobody can receive this URL here: re-sending would only grow the queue
        retry = self._next_attempt(delivery, now, delivered=any(s is not None and 200 <= s < 300 for s in statuses))
        if retry is not None:
            self._push(retry)
        return len(statuses)

    def _next_attempt(self, delivery: Delivery, now: datetime, *, delivered: bool) -> Delivery | None:
        schedule = self._switches.callback_retry_minutes
        step = min(delivery.attempt, len(schedule)) - 1
        if self._switches.callback_policy == "on_non_2xx":
            if delivered or delivery.attempt > len(schedule):
                return None
        elif now - delivery.first_at >= timedelta(days=self._switches.callback_redelivery_days) or not schedule:
            return None
        due = now + timedelta(minutes=schedule[max(step, 0)])
        return attrs.evolve(delivery, due_at=due, attempt=delivery.attempt + 1)

    def _post(self, delivery: Delivery, now: datetime) -> int | None:
        status: int | None
        error: str | None = None
        with self._lock:
            fn = self._callables.get(delivery.url)
        try:
            if fn is not None:
                answer: object = fn(delivery.token)
                # Only an int is a status: anything else (None, or what a store's receive returns) is a 200.
                status = answer if isinstance(answer, int) and not isinstance(answer, bool) else 200
            elif self.any_host or _is_loopback(delivery.url):
                status = self._http_post(delivery)
            else:
                status, error = None, "not delivered: only loopback URLs and registered callables receive callbacks"
        except Exception as exc:  # the receiver's failure is the receiver's answer, never the emulator's crash
            status = 500 if fn is not None else None
            error = f"{type(exc).__name__}: {exc}"
        _log.debug("callback %s attempt %d -> %s", delivery.url, delivery.attempt, status)
        with self._lock:
            self._records.append(DeliveryRecord(delivery.url, delivery.token, delivery.attempt, now, status, error))
        return status

    def _http_post(self, delivery: Delivery) -> int:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(follow_redirects=False)
            client = self._http
        timeout = self._switches.callback_timeout_s
        if self._switches.callback_content_type == "json":
            response = client.post(delivery.url, json={"notification": delivery.token}, timeout=timeout)
        else:
            response = client.post(delivery.url, data={"notification": delivery.token}, timeout=timeout)
        return response.status_code

    def close(self) -> None:
        """Close the HTTP client used for loopback callbacks."""
        with self._lock:
            client, self._http = self._http, None
        if client is not None:
            client.close()
