"""What the storage contracts build their records from: instants in several zones, text a store must keep whole.

Shared by the outbox, notification and payments contracts, so that every store is held to the same
instants (with microseconds, in zones with odd offsets) and the same text (anything but NUL).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["BASE", "BRASILIA", "EXAMPLES", "T0", "TEXT", "TICK", "ZONES", "moments"]

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.differing_executors],
)
"""The property tests' settings: a store is slow to make, so few examples, each on a fresh store."""

BRASILIA = timezone(timedelta(hours=-3))
"""Brasília's offset, as an ERP's clock hands it over."""
ZONES = (UTC, BRASILIA, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3, seconds=-7)))
"""Zones an ERP may hand over, one of them with seconds in its offset: a store keeps the instant."""
BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
"""The first of the generated instants."""
TICK = timedelta(seconds=1, microseconds=250_001)
"""The step between generated instants, with microseconds, so that a store that drops them fails."""
T0 = datetime(2025, 3, 1, 9, 30, 15, 123_456, tzinfo=BRASILIA)
"""A fixed instant with microseconds, in Brasília."""
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
"""Any text but NUL (which PostgreSQL's text cannot hold) and lone surrogates (which UTF-8 cannot)."""


def moments(steps: int = 8) -> st.SearchStrategy[datetime]:
    """One of ``steps + 1`` instants (so that some are equal), each in any of :data:`ZONES`."""
    return st.builds(lambda n, zone: (BASE + n * TICK).astimezone(zone), st.integers(0, steps), st.sampled_from(ZONES))
