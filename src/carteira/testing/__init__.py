"""The public test kit: fakes, strategies, contract suites and the Efí emulator, for users' own tests.

- ``FakeGateway``: an in-memory ``PaymentGateway`` no kinder than Efí.
- ``FixedClock`` and ``RecordingNotifier``: fakes for the clock and notifier ports.
- ``EfiEmulator`` and ``serve``: the Efí charges API in-process (an httpx transport) or on loopback.
- ``carteira.testing.strategies``: hypothesis strategies (needs hypothesis).
- ``carteira.testing.contracts``: the suites every adapter of a port must pass (needs pytest).
"""

from carteira.testing.clock import FixedClock, RecordingNotifier, SentNotice
from carteira.testing.efi_emulator import EfiEmulator, serve
from carteira.testing.fake_gateway import FakeGateway

__all__ = [
    "EfiEmulator",
    "FakeGateway",
    "FixedClock",
    "RecordingNotifier",
    "SentNotice",
    "serve",
]
