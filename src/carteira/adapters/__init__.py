"""Adapters: the outside world (calendar, callback endpoint, CNAB, Efí, storage, command line) around the ports."""

# The submodules, one per concept; import the one you need (``from carteira.adapters import calendar``).
__all__ = [
    "calendar",
    "callback",
    "cli",
    "cnab",
    "efi",
    "notifier",
    "storage",
]
