"""Ports: the typing.Protocol interfaces the services drive (storage, gateway, return files, clock)."""

# The submodules, one per concept; import the one you need (``from carteira.ports import clock``).
__all__ = [
    "clock",
    "gateway",
    "notifier",
    "return_files",
    "storage",
]
