"""The Efí (ex-Gerencianet) charges API behind the PaymentGateway port.

``EfiGateway`` is the client; its wire format lives in :mod:`carteira.adapters.efi.wire`, its error
mapping in :mod:`carteira.adapters.efi.errors` and the checks made before sending in
:mod:`carteira.adapters.efi.rules`.
"""

from carteira.adapters.efi.gateway import BASE_URLS, EfiGateway, Environment, RetryPolicy, brasilia_today

__all__ = ["BASE_URLS", "EfiGateway", "Environment", "RetryPolicy", "brasilia_today"]
