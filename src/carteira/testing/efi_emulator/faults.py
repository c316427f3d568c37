"""Fault injection: failures on demand for the next calls, or drawn at random, under a small lock of their own."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from typing import Literal

import attrs

Before = Literal["timeout"] | tuple[int, int] | None
Drawn = Literal["fail", "timeout", "lost", "slow"] | None


def _rate(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a probability from 0 to 1, not {value!r}")


def _routes(names: Iterable[str]) -> frozenset[str]:
    if isinstance(names, str):
        raise ValueError(f"routes must be a collection of route names, not the text {names!r}")
    return frozenset(names)


@attrs.frozen(kw_only=True)
class FaultRates:
    """Faults drawn at random for each API call (seeded, so a run replays), one at most per call.

    ``fail``: answer 500 with Efí's internal-error code 3500000, doing nothing. ``timeout``: never
    answer, doing nothing. ``lost``: do the work, then lose the answer. ``slow``: wait ``slow_s``,
    then do the work and answer; over loopback HTTP a client whose timeout is shorter has given up
    by then, so the work lands after it (in-process the caller simply waits). ``routes`` limits the
    faults to those route names (``"POST /charge/one-step"``, ``"GET /charges"``); empty: every API route.
    """

    seed: int = 0
    fail: float = attrs.field(default=0.0, validator=_rate)
    timeout: float = attrs.field(default=0.0, validator=_rate)
    lost: float = attrs.field(default=0.0, validator=_rate)
    slow: float = attrs.field(default=0.0, validator=_rate)
    slow_s: float = 0.0
    routes: frozenset[str] = attrs.field(default=frozenset(), converter=_routes)

    def __attrs_post_init__(self) -> None:
        if self.fail + self.timeout + self.lost + self.slow > 1.0:
            raise ValueError("fail + timeout + lost + slow must not exceed 1 (one fault at most per call)")
        if self.slow_s < 0:
            raise ValueError(f"slow_s must not be negative, not {self.slow_s!r}")


class Faults:
    """Queued faults for the next non-auth API calls, consumed in the order the calls arrive, then random ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[tuple[int, int]] = []
        self._timeouts = 0
        self._lost = 0
        self._rates: FaultRates | None = None
        self._random = random.Random(0)

    def fail_next(self, n: int, status: int, code: int) -> None:
        """The next `n` calls answer `status` with an Efí error body of `code`, doing nothing."""
        with self._lock:
            self._failures.extend([(status, code)] * n)

    def timeout_next(self, n: int) -> None:
        """The next `n` calls never answer and do nothing."""
        with self._lock:
            self._timeouts += n

    def lose_next_response(self, n: int) -> None:
        """The next `n` calls do their work, then their answer is lost."""
        with self._lock:
            self._lost += n

    def at_random(self, rates: FaultRates | None) -> None:
        """Draw faults with `rates` from now on (its seed restarts the draws); None stops drawing."""
        with self._lock:
            self._rates = rates
            self._random = random.Random(0 if rates is None else rates.seed)

    @property
    def rates(self) -> FaultRates | None:
        """The random faults in force, if any."""
        return self._rates

    def before(self) -> Before:
        """Take the fault (if any) that strikes before the work: a timeout, or a (status, code) failure."""
        with self._lock:
            if self._timeouts:
                self._timeouts -= 1
                return "timeout"
            if self._failures:
                return self._failures.pop(0)
        return None

    def draw(self, route: str) -> Drawn:
        """The random fault for one call to `route` (None: none, or no random faults in force)."""
        with self._lock:
            rates = self._rates
            if rates is None or (rates.routes and route not in rates.routes):
                return None
            point = self._random.random()
        kinds: tuple[tuple[Drawn, float], ...] = (
            ("fail", rates.fail),
            ("timeout", rates.timeout),
            ("lost", rates.lost),
            ("slow", rates.slow),
        )
        for kind, rate in kinds:
            if point < rate:
                return kind
            point -= rate
        return None

    def after(self) -> bool:
        """Take a "response lost" fault, if one is queued."""
        with self._lock:
            if self._lost:
                self._lost -= 1
                return True
        return False

    def clear(self) -> None:
        """Drop every queued fault and stop drawing random ones."""
        with self._lock:
            self._failures.clear()
            self._timeouts = self._lost = 0
            self._rates = None
