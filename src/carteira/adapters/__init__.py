"""Adapters: the outside world (calendar, CNAB files, the Efí gateway, storage, the command line) around the ports."""

# The submodules, one per concept; import the one you need (``from carteira.adapters import calendar``).
__all__ = [
    "calendar",
    "cli",
    "cnab",
    "efi",
    "notifier",
    "storage",
]
