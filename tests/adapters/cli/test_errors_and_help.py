"""What a script can rely on: one ``error:`` line on stderr, the documented exit codes, help with an example."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import click
import pytest

from carteira.adapters.cli import ExitCode
from carteira.adapters.cli.app import root
from carteira.adapters.cli.exit_codes import exit_code_for
from carteira.adapters.cli.wiring import Wiring, is_postgres_dsn, open_store
from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.errors import (
    ClosedPeriod,
    Conflict,
    DuplicateImport,
    InvalidInput,
    MissingExtra,
    NotFound,
    SchemaVersionError,
    StoreUnavailable,
)
from carteira.ports.storage import Store
from carteira.testing import FixedClock

from .conftest import TODAY, Bench, a_file, installment, paid, seed


def test_an_unknown_batch_is_one_line_and_exit_1(bench: Bench) -> None:
    result = bench.run("returns", "show", "B0000000000000000")
    assert result.exit_code == ExitCode.REFUSED == 1
    assert result.stderr == "error: return batch 'B0000000000000000' does not exist\n"
    assert result.stdout == ""


def test_debug_adds_the_traceback_before_the_same_line(bench: Bench) -> None:
    result = bench.run("--debug", "returns", "show", "B0000000000000000")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "carteira.errors.NotFound" in result.stderr
    assert result.stderr.endswith("error: return batch 'B0000000000000000' does not exist\n")


def test_the_same_file_twice_names_the_earlier_batch(bench: Bench) -> None:
    seed(bench.store, installment("i1", "111"))
    name = bench.write("r.ret", a_file([paid("111", "100.00")]))
    first = bench.run("returns", "import", name, "--description", "one", "--quiet").stdout.strip()
    again = bench.run("returns", "import", name, "--description", "two")
    assert again.exit_code == ExitCode.REFUSED
    assert again.stderr.count("\n") == 1
    assert again.stderr.startswith("error: ")
    assert first in again.stderr


def test_a_malformed_file_names_its_line_and_nothing_is_stored(bench: Bench) -> None:
    lines = a_file([paid("111", "100.00")]).split(b"\n")
    lines[3] = lines[3][:77] + b"00000X" + lines[3][83:]  # the U segment's paid amount
    result = bench.run("returns", "import", bench.write("bad.ret", b"\n".join(lines)), "--description", "bad")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("error: bad.ret:4: ")
    assert result.stderr.count("\n") == 1
    assert re.search(r"B[0-9a-f]{16}", bench.run("returns", "list").stdout) is None


@pytest.mark.parametrize(
    "args",
    [
        ["returns", "import", "r.ret"],  # no --description
        ["returns", "import", "r.ret", "--description", "x", "--date", "12/03/2026"],
        ["returns", "import", "missing.ret", "--description", "x"],
        ["returns", "link", "B1", "seven", "i1"],
        ["returns", "link", "B1", "7"],  # no installment
        ["returns", "show", "B1", "--everything"],
        ["returns", "confirm", "B1", "--chunk-size", "0"],
        ["nothing"],
    ],
)
def test_usage_errors_exit_2(bench: Bench, args: list[str]) -> None:
    bench.write("r.ret", a_file([paid("111", "100.00")]))
    result = bench.run(*args)
    assert result.exit_code == ExitCode.USAGE == 2
    assert "Error:" in result.stderr


def test_no_database_at_the_default_path_is_exit_3_and_creates_nothing(tmp_path: Path) -> None:
    result = _sqlite_bench(tmp_path).run("returns", "list")
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE == 3
    assert result.stderr == (
        "error: no carteira database at 'carteira.db'; give --store (or CARTEIRA_STORE) a SQLite file or a "
        "PostgreSQL DSN, or create the file with: carteira --store PATH migrate\n"
    )
    assert not (tmp_path / "carteira.db").exists()


def _sqlite_bench(tmp_path: Path) -> Bench:
    return Bench(tmp_path, Wiring(clock=FixedClock(TODAY)), store=None, kind="sqlite")  # type: ignore[arg-type]


def test_a_file_that_is_not_a_database_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n" * 200)
    result = _sqlite_bench(tmp_path).run("--store", "notes.txt", "returns", "list")
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE
    assert result.stderr.startswith("error: SQLite database 'notes.txt' cannot be used")


def test_a_database_without_the_schema_says_to_migrate_and_migrate_makes_it(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "erp.db").close()
    bench = _sqlite_bench(tmp_path)
    before = bench.run("--store", "erp.db", "returns", "list")
    assert before.exit_code == ExitCode.STORE_UNAVAILABLE
    assert before.stderr.endswith("call store.migrate() first (from the command line: carteira --store ... migrate)\n")
    made = bench.run("--store", "new.db", "migrate")
    assert made.exit_code == ExitCode.OK
    assert made.stdout.startswith("schema version ")
    SqliteStore(tmp_path / "new.db").unit_of_work().__enter__()  # the schema is there: entering a unit checks it


def test_the_store_location_also_comes_from_the_environment(tmp_path: Path) -> None:
    bench = _sqlite_bench(tmp_path)
    bench.env["CARTEIRA_STORE"] = "from-env.db"
    assert bench.run("migrate").exit_code == ExitCode.OK
    assert (tmp_path / "from-env.db").is_file()


def test_a_dsn_never_shows_its_password_and_an_unreachable_server_is_exit_3(tmp_path: Path) -> None:
    result = _sqlite_bench(tmp_path).run("--debug", "--store", "postgresql://postgres:s3cr3t@127.0.0.1:1/test",
                                         "returns", "list")  # fmt: skip
    assert result.exit_code == ExitCode.STORE_UNAVAILABLE
    assert "password=***" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout


def test_a_malformed_dsn_is_bad_input(tmp_path: Path) -> None:
    result = _sqlite_bench(tmp_path).run("--store", "host=db dbname", "returns", "list")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr.startswith("error: dsn: is not a PostgreSQL connection string")


class _Failing:
    """An opener that raises ``error``: how the root reports what no test store raises on demand."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __call__(self, location: str, *, create: bool = False) -> Store:
        raise self.error


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (RuntimeError("boom"), ExitCode.INTERNAL,
         "error: internal error (RuntimeError: boom); rerun with --debug to see the traceback\n"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED,
         "error: interrupted; what was committed stays (confirm again to settle the rest)\n"),
        (Conflict("return batch", "B1", expected_version=2), ExitCode.CONFLICT, None),
        (MissingExtra("PostgresStore", "postgres"), ExitCode.MISSING_EXTRA,
         "error: PostgresStore needs the 'postgres' extra: pip install 'carteira[postgres]'\n"),
    ],
)  # fmt: skip
def test_each_kind_of_failure_has_its_exit_code(
    bench: Bench, error: BaseException, code: ExitCode, line: str | None
) -> None:
    result = bench.run("returns", "list", wiring=Wiring(open_store=_Failing(error)))
    assert result.exit_code == code
    assert result.stderr == (line or f"error: {error}\n")
    assert "Traceback" not in result.stderr


def test_an_internal_error_shows_its_traceback_with_debug(bench: Bench) -> None:
    result = bench.run("--debug", "returns", "list", wiring=Wiring(open_store=_Failing(RuntimeError("boom"))))
    assert result.exit_code == ExitCode.INTERNAL == 70
    assert "Traceback (most recent call last):" in result.stderr
    assert 'raise self.error\nRuntimeError: boom' in result.stderr.replace("    ", "")


def test_every_error_class_maps_to_its_documented_code() -> None:
    on = TODAY
    assert exit_code_for(InvalidInput("bad", field="x")) is ExitCode.REFUSED
    assert exit_code_for(DuplicateImport("again", earlier_batch_id="B1")) is ExitCode.REFUSED
    assert exit_code_for(ClosedPeriod(subject="s", on=on, closing_date=on)) is ExitCode.REFUSED
    assert exit_code_for(NotFound("return batch", "B1")) is ExitCode.REFUSED
    assert exit_code_for(StoreUnavailable("down")) is ExitCode.STORE_UNAVAILABLE
    assert exit_code_for(SchemaVersionError("old", found=1, supported=2)) is ExitCode.STORE_UNAVAILABLE
    assert exit_code_for(ValueError("a bug")) is ExitCode.INTERNAL
    assert sorted(int(code) for code in ExitCode) == [0, 1, 2, 3, 4, 5, 6, 70, 130]


@pytest.mark.parametrize(
    ("location", "postgres"),
    [
        ("postgresql://erp@db:5432/erp", True),
        ("postgres://erp@db/erp", True),
        ("host=db dbname=erp user=carteira", True),
        (" dbname = erp", True),
        ("carteira.db", False),
        ("/var/lib/erp/carteira.db", False),
        ("./host=odd.db", False),
        ("C:\\erp\\carteira.db", False),
    ],
)
def test_a_location_is_a_dsn_or_a_sqlite_path(location: str, postgres: bool) -> None:
    assert is_postgres_dsn(location) is postgres


def test_open_store_names_the_store_class(tmp_path: Path) -> None:
    assert isinstance(open_store("postgresql://erp@db/erp"), PostgresStore)
    assert isinstance(open_store(str(tmp_path / "new.db"), create=True), SqliteStore)
    with pytest.raises(StoreUnavailable):
        open_store(str(tmp_path / "missing.db"))


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(root), ids=lambda c: " ".join(c) or "carteira")
def test_every_command_has_help_with_an_example(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = _sqlite_bench(tmp_path).run(*command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(" ".join(("Usage: carteira", *command, "")))
    assert "Example" in result.stdout
    assert "carteira " in result.stdout.split("Example", 1)[1]
    assert not (tmp_path / "carteira.db").exists()  # help opens no store
