"""The exit codes of the ``carteira`` command: what a script can rely on (decision 0601).

Kept apart from the command itself so that a program can read them without the ``[cli]`` extra.
"""

from __future__ import annotations

import enum

from carteira.errors import (
    CarteiraError,
    Conflict,
    MissingExtra,
    SchemaVersionError,
    StoreUnavailable,
)

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(enum.IntEnum):
    """Why ``carteira`` ended; ``OK`` is the only zero."""

    OK = 0
    """It did what was asked (refusals inside a batch are outcomes on its records, printed, not failures)."""
    REFUSED = 1
    """Refused: a malformed file, a duplicate import, a closed period, no such batch."""
    USAGE = 2
    """The command line itself was wrong: an unknown option, a missing argument, a date not YYYY-MM-DD."""
    STORE_UNAVAILABLE = 3
    """The store cannot be used: no database at the path, not a carteira database, unreachable, an old schema."""
    NEEDS_YES = 4
    """An undoing step (reactivate, delete) was asked without ``--yes``: the warning was printed, nothing done."""
    MISSING_EXTRA = 5
    """An optional part is not installed (the ``cli`` or ``postgres`` extra); the message names the pip command."""
    CONFLICT = 6
    """Another process changed the same records at the same time; nothing of this run was kept: run it again."""
    INTERNAL = 70
    """A bug in carteira (an unexpected exception); ``--debug`` prints its traceback."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C; what was committed before stays (a ``confirm`` resumes where it stopped)."""


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for ``error`` raised by a command."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if not isinstance(error, CarteiraError):
        return ExitCode.INTERNAL
    if isinstance(error, MissingExtra):
        return ExitCode.MISSING_EXTRA
    if isinstance(error, StoreUnavailable | SchemaVersionError):
        return ExitCode.STORE_UNAVAILABLE
    if isinstance(error, Conflict):
        return ExitCode.CONFLICT
    return ExitCode.REFUSED
