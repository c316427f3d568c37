"""The built-in layouts, shipped as TOML data files in ``carteira/adapters/cnab/layouts/``.

They are read with the same :meth:`Layout.from_toml` a user's layout goes through, so a built-in
layout is nothing a user could not write (or start from, with :meth:`Layout.to_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

from carteira.adapters.cnab.layout import Layout

__all__ = ["LAYOUTS"]


def _load() -> Mapping[str, Layout]:
    folder = resources.files("carteira.adapters.cnab").joinpath("layouts")
    found: dict[str, Layout] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            layout = Layout.from_toml(entry.read_text(encoding="utf-8"), source=f"layouts/{entry.name}")
            found[layout.id] = layout
    return MappingProxyType(found)


LAYOUTS: Mapping[str, Layout] = _load()
"""Every built-in layout by id (``"itau-400"``, ``"bb-400-cbr643"``, ``"febraban-240"``...); read-only."""
