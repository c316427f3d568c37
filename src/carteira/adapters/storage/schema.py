"""The versioned schema: which version this library writes, and the SQL of each migration per dialect.

Migrations live next to this module as ``migrations/NNNN_<name>.<dialect>.sql`` (package data,
read with :mod:`importlib.resources`); each file is a list of statements separated by ``;`` at
the end of a line. ``store.migrate()`` applies, in one transaction, those above the version in the
store's ``schema_version`` table.
"""

from __future__ import annotations

import re
from importlib import resources

from carteira.errors import SchemaVersionError

__all__ = ["SCHEMA_VERSION", "check_usable", "migrations", "newer_schema_message"]

SCHEMA_VERSION = 7
"""The schema version this library writes and reads."""

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.(sqlite|postgres)\.sql$")


def _statements(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [statement.strip() for statement in re.split(r";\s*$", "\n".join(lines), flags=re.M) if statement.strip()]


def migrations(dialect: str) -> list[tuple[int, list[str]]]:
    """Every migration of ``dialect`` (``"sqlite"`` or ``"postgres"``) as (version, statements), in order."""
    folder = resources.files("carteira.adapters.storage").joinpath("migrations")
    found: list[tuple[int, list[str]]] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match and match.group(2) == dialect:
            found.append((int(match.group(1)), _statements(entry.read_text(encoding="utf-8"))))
    found.sort()
    return found


def newer_schema_message(where: str, found: int) -> str:
    """What to say when the store's schema is newer than this library."""
    return (
        f"{where} has schema version {found}, newer than the {SCHEMA_VERSION} this carteira understands; "
        "nothing was written. Upgrade carteira to the version that migrated this store"
    )


def check_usable(where: str, found: int | None) -> None:
    """Raise ``SchemaVersionError`` unless the store at ``where`` holds exactly this library's schema version.

    ``found`` is the store's ``schema_version`` (``None`` when it has none).
    """
    if found is None:
        raise SchemaVersionError(f"{where} has no carteira schema; call store.migrate() first", found=None,
                                 supported=SCHEMA_VERSION)  # fmt: skip
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(newer_schema_message(where, found), found=found, supported=SCHEMA_VERSION)
    if found < SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where} has schema version {found}, older than the {SCHEMA_VERSION} this carteira uses; "
            "call store.migrate() to upgrade it",
            found=found,
            supported=SCHEMA_VERSION,
        )
