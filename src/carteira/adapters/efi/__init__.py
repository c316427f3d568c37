"""The Efí (ex-Gerencianet) charges API behind the PaymentGateway port.

``EfiGateway`` is the client and ``EfiAuth`` its token flow; its wire format lives in
:mod:`carteira.adapters.efi.wire`, its error mapping in :mod:`carteira.adapters.efi.errors` and the
checks made before sending in :mod:`carteira.adapters.efi.rules` (with ``EFI_CARNET_LIMITS``, the
2 to 12 parcels an ``EfiGateway`` issues unless configured otherwise).
"""

from carteira.adapters.efi.auth import EfiAuth
from carteira.adapters.efi.gateway import BASE_URLS, EfiGateway, Environment, RetryPolicy, brasilia_today
from carteira.adapters.efi.rules import EFI_CARNET_LIMITS

__all__ = ["BASE_URLS", "EFI_CARNET_LIMITS", "EfiAuth", "EfiGateway", "Environment", "RetryPolicy", "brasilia_today"]
