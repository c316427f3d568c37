"""The clock and notifier fakes behave as the ports say."""

from __future__ import annotations

from datetime import date

from carteira.ports.clock import Clock, SystemClock
from carteira.ports.notifier import Notifier
from carteira.testing.clock import FixedClock, RecordingNotifier


def test_fixed_clock_moves_only_when_told() -> None:
    clock: Clock = FixedClock(date(2025, 3, 10))
    assert clock.today() == date(2025, 3, 10)
    assert clock.now().tzinfo is not None
    assert isinstance(clock, FixedClock)
    clock.advance(days=31)
    assert clock.today() == date(2025, 4, 10)
    clock.set(date(2026, 1, 1))
    assert clock.today() == date(2026, 1, 1)


def test_system_clock_is_timezone_aware() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert SystemClock().today() >= date(2026, 1, 1)


def test_recording_notifier_keeps_what_it_was_told() -> None:
    notifier = RecordingNotifier()
    port: Notifier = notifier
    port.notify(["ana", "bia"], "Efí refused a billet", "customer name needs two words")
    assert [(n.users, n.subject) for n in notifier.sent] == [(("ana", "bia"), "Efí refused a billet")]
