"""Options and argument types the command groups share, so each reads and says the same everywhere."""

from __future__ import annotations

import click

__all__ = ["ISO_DATE", "JSON"]

ISO_DATE = click.DateTime(formats=["%Y-%m-%d"])
"""A day as ``YYYY-MM-DD`` (click hands the command a ``datetime`` at midnight)."""

JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead (decision 0604).")
"""``--json``: the command prints one JSON document on stdout instead of lines and tables (decision 0604)."""
