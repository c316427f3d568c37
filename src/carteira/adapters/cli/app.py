"""The root of the ``carteira`` command: ``--store``, ``--debug``, one-line errors with exit codes, ``migrate``.

Every subcommand group is added here (``demo``, ``returns``, ``ops``, ``postings``, ``payments`` and ``worker``).
A :class:`~carteira.errors.CarteiraError` ends the command with ``error: …`` on stderr and the code
of :func:`~carteira.adapters.cli.exit_codes.exit_code_for`; the traceback is printed only with ``--debug``.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from carteira.adapters.cli.demo import demo
from carteira.adapters.cli.exit_codes import ExitCode, exit_code_for
from carteira.adapters.cli.ops import ops
from carteira.adapters.cli.payments import payments
from carteira.adapters.cli.postings import postings
from carteira.adapters.cli.returns import returns
from carteira.adapters.cli.session import Session, session
from carteira.adapters.cli.wiring import DEFAULT_LOCATION, Wiring
from carteira.adapters.cli.worker import worker
from carteira.adapters.storage import SCHEMA_VERSION
from carteira.errors import SchemaVersionError

__all__ = ["root", "run"]


class _Root(click.Group):
    """The root group: turns what a command raises into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors (exit 2) and explicit exits
        except (Exception, KeyboardInterrupt) as error:
            _fail(ctx, error)


def _fail(ctx: click.Context, error: BaseException) -> NoReturn:
    code = exit_code_for(error)
    if ctx.params.get("debug"):
        traceback.print_exception(error)
    click.echo(f"error: {_one_line(error, code)}", err=True)
    ctx.exit(code)


def _one_line(error: BaseException, code: ExitCode) -> str:
    text = " ".join(str(error).split())
    if code is ExitCode.INTERRUPTED:
        return "interrupted; what was committed stays (confirm again to settle the rest)"
    if code is ExitCode.INTERNAL:
        return f"internal error ({type(error).__name__}: {text}); rerun with --debug to see the traceback"
    if isinstance(error, SchemaVersionError) and (error.found is None or error.found < error.supported):
        return f"{text} (from the command line: carteira --store ... migrate)"
    return text


@click.group(
    "carteira",
    cls=_Root,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 done, 1 refused (bad input or a business rule), 2 usage, 3 store unavailable, "
    "4 needs --yes, 5 missing extra, 6 conflict (run again), 70 internal error, 130 interrupted.",
)
@click.option(
    "--store",
    "location",
    default=DEFAULT_LOCATION,
    show_default=True,
    envvar="CARTEIRA_STORE",
    metavar="LOCATION",
    help="A SQLite file, or a PostgreSQL DSN (postgresql://... or key=value); also read from CARTEIRA_STORE, "
    "the place for a DSN with a password (a command line is visible to other users).",
)
@click.option("--debug", is_flag=True, help="Print the traceback of an error.")
@click.pass_context
def root(ctx: click.Context, location: str, debug: bool) -> None:
    """carteira: reconcile a Brazilian receivables portfolio from scripts and night jobs.

    \b
    Example:
      carteira demo
      carteira returns import retorno.ret --description "BB 2026-03-12"
      carteira --store postgresql://erp@db/erp returns list
      carteira ops list --flagged
      carteira postings list --from 2026-03-01 --to 2026-03-31
    """
    wiring = ctx.obj if isinstance(ctx.obj, Wiring) else Wiring()
    ctx.obj = Session(wiring, location, debug)


@root.command()
def migrate() -> None:
    """Create the store (a new SQLite file) or upgrade its schema; safe to run at every deployment.

    \b
    Example:
      carteira --store carteira.db migrate
    """
    store = session().store(create=True)
    store.migrate()
    click.echo(f"schema version {SCHEMA_VERSION}: {store!r}")


root.add_command(demo)
root.add_command(returns)
root.add_command(ops)
root.add_command(postings)
root.add_command(payments)
root.add_command(worker)


def run(args: Sequence[str] | None = None, *, wiring: Wiring | None = None) -> NoReturn:
    """Run the command with ``args`` (default: the process's), over ``wiring``, and exit with its code."""
    root.main(args=list(args) if args is not None else None, prog_name="carteira", obj=wiring)
    raise AssertionError("click's main exits")  # pragma: no cover
