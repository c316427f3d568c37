"""The ``carteira`` command for scripts and night jobs (needs the ``[cli]`` extra: click and rich).

``carteira [--store LOCATION] [--debug] returns import|list|show|link|unlink|confirm|reactivate|delete`` and
``carteira ops list|show|resend|drain|configure|account``, ``carteira postings list``; see ``carteira --help``,
docs/how-to/reconcile-from-the-command-line.md, docs/how-to/run-the-operations-panel-from-the-command-line.md
and docs/how-to/list-postings-from-the-command-line.md. The command is thin: it parses arguments, calls
``Portfolio.returns``, ``Portfolio.gateway`` or ``Portfolio.payments`` and prints.
This package's ``__init__`` imports neither click nor rich, so :func:`main` can say which extra is missing
instead of failing with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from carteira.adapters.cli.exit_codes import ExitCode
from carteira.errors import MissingExtra

__all__ = ["ExitCode", "main"]

_EXTRA_MODULES = ("click", "rich")


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``carteira`` command (the console script's entry point) and exit with its code.

    Without the ``[cli]`` extra it prints one line naming ``pip install 'carteira[cli]'`` and exits 5.
    """
    try:
        from carteira.adapters.cli.app import run
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _EXTRA_MODULES:
            raise
        print(f"error: {MissingExtra('the carteira command', 'cli')}", file=sys.stderr)  # noqa: T201
        sys.exit(ExitCode.MISSING_EXTRA)
    run(args)
