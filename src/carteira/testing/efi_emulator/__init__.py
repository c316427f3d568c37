"""An emulator of Efí's (ex-Gerencianet) charges API, in-process or over loopback HTTP (SPEC G12).

Written from reference gateway-efi.md alone and sharing no code with `carteira.adapters.efi`, so a wire-format
mistake in the adapter cannot hide behind an emulator that makes the same one::

    emu = EfiEmulator("cid", "csecret", today=date(2026, 1, 10))
    with httpx.Client(transport=emu.transport(), base_url="https://cobrancas-h.api.efipay.com.br") as client:
        ...

or ``python -m carteira.testing.efi_emulator --port 8990 --client-id cid --client-secret csecret``.
"""

from carteira.testing.efi_emulator.emulator import EfiEmulator, Reply
from carteira.testing.efi_emulator.faults import FaultRates
from carteira.testing.efi_emulator.ledger import PaymentRefused
from carteira.testing.efi_emulator.notifications import DeliveryRecord
from carteira.testing.efi_emulator.server import EmulatorServer, serve
from carteira.testing.efi_emulator.switches import Switches
from carteira.testing.efi_emulator.transport import EmulatorTransport

__all__ = [
    "DeliveryRecord",
    "EfiEmulator",
    "EmulatorServer",
    "EmulatorTransport",
    "FaultRates",
    "PaymentRefused",
    "Reply",
    "Switches",
    "serve",
]
