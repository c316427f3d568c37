"""Every documented ``carteira`` example runs, or at least parses (decision 0611).

An example is a ``carteira ...`` command in the docs and the README (a ``$`` line of a console block, a
line of a shell or systemd block, an inline code span in prose) or in the Example section of a
command's own ``--help``. Each one must parse: click resolves its subcommands and converts its options
and arguments as it would before running it. The ones that only read (lists, shows, the account) then
run against the demo's month, with the page's ids standing for the month's, and must exit 0; a console
block that shows what such a command prints must show lines it prints. What the session tests of a
how-to page already run (its console blocks, command by command, output compared) is not run twice here.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import attrs
import click
import pytest
from click.testing import CliRunner

from carteira.adapters.cli.app import root
from tests.support import ROOT

SESSION_PAGES = {
    "how-to/reconcile-from-the-command-line.md": "tests/adapters/cli/test_how_to.py",
    "how-to/run-the-operations-panel-from-the-command-line.md": "tests/adapters/cli/test_ops_how_to.py",
    "how-to/list-postings-from-the-command-line.md": "tests/adapters/cli/test_postings_how_to.py",
}
"""Pages whose console blocks a session test runs and compares; their other examples are parsed here."""

READ_ONLY = {
    ("returns", "list"), ("returns", "show"), ("ops", "list"), ("ops", "show"), ("ops", "account"),
    ("postings", "list"), ("payments", "pending"), ("payments", "flagged"),
}  # fmt: skip
"""Commands that only read the store: they run against the demo's month."""

BATCH_ID = re.compile(r"^B[0-9a-f]{16}$")
OPERATION_ID = re.compile(r"^[0-9a-f]{32}$")
SAMPLE_BATCH = "B5f0c2a91d3e4b7a8"
METAVARIABLES = {"ID": "4ca79d1bc67545c6b052055f677e2fae", "PATH": "carteira.db"}
"""Placeholders prose uses for a value; ``...`` and ``COMMAND`` stand for the rest of a command."""
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SHELL_FENCES = {"console", "bash", "sh", "shell", "ini", "text"}


@attrs.frozen
class Example:
    """One documented command: where it is written, its words after ``carteira``, what the page shows it printing."""

    where: str
    args: tuple[str, ...]
    shown: str = ""
    partial: bool = False
    """The text leaves the rest of the command to the reader (``...``): only the named groups must exist."""
    named: bool = False
    """An inline span in prose, which may name a command without the arguments it needs to run."""
    synopsis: bool = False
    """A usage line (``[--json]``, ``YYYY-MM-DD``): its commands must exist and each option it names."""

    def __str__(self) -> str:
        return f"{self.where}: carteira {shlex.join(self.args)}"


def _args(line: str) -> tuple[tuple[str, ...], bool] | None:
    """The words after ``carteira`` in a shell ``line`` (``x=$(...)``, ``env -u X``, a path to the script,
    a trailing comment or ``&`` understood), and whether the line leaves the rest to the reader; None if
    ``line`` runs no carteira."""
    line = re.sub(r"^\w+=\$\((.*)\)$", r"\1", line.strip().removeprefix("$ ").removeprefix("ExecStart="))
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return None
    starts = [i for i, word in enumerate(words) if re.fullmatch(r"(?:[\w.-]*/)*carteira", word)]
    if not starts:
        return None
    args: list[str] = []
    for word in words[starts[0] + 1 :]:
        if word in {"&", "|", "&&", ";", ">", "2>"}:
            break
        if word in {"...", "…", "COMMAND"} or word.endswith("..."):
            return (*args, "--help"), True
        args.append(SAMPLE_BATCH if re.fullmatch(r"\$\w+", word) else METAVARIABLES.get(word, word))
    return tuple(args), False


def _from_page(page: Path) -> Iterator[Example]:
    name = page.relative_to(ROOT / "docs").as_posix() if page.is_relative_to(ROOT / "docs") else page.name
    text = page.read_text(encoding="utf-8")
    for fence in FENCE.finditer(text):
        kind, body = fence.groups()
        body = body.replace("\\\n", " ")  # a command continued on the next line is one command
        if kind not in SHELL_FENCES or (kind == "console" and name in SESSION_PAGES):
            continue
        steps = re.split(r"^(?=\$ )", body, flags=re.M) if kind == "console" else body.splitlines()
        for step in steps:
            command, _, shown = step.partition("\n") if kind == "console" else (step, "", "")
            found = _args(command) if kind != "console" or command.startswith("$ ") else None
            if found is not None:
                yield Example(name, found[0], shown, found[1])
    prose = FENCE.sub("", text)
    for span in re.findall(r"`(?:\$ )?(carteira [^`]+)`", prose):
        found = _args(span)
        if found is not None:
            synopsis = "[" in span or "YYYY" in span
            yield Example(name, found[0], "", found[1], named=True, synopsis=synopsis)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def _from_help() -> Iterator[Example]:
    runner = CliRunner()
    for path in _commands(root):
        result = runner.invoke(root, [*path, "--help"], prog_name="carteira")
        assert result.exit_code == 0, result.output
        section = result.output.split("Example", 1)[1].split("\nOptions:", 1)[0]
        for line in section.replace("\\\n", " ").splitlines():
            found = _args(line)
            if found is not None:
                yield Example(" ".join(("carteira", *path, "--help")), found[0], "", found[1])


PAGES = [page for page in sorted((ROOT / "docs").rglob("*.md")) if page.parent.name != "decisions"] + [
    ROOT / "README.md"
]
"""The decisions are records of their day, whose command lines are synopses (``[--json]``), not examples."""
EXAMPLES = [example for page in PAGES for example in _from_page(page)] + list(_from_help())


def _parse(args: tuple[str, ...]) -> tuple[str, ...]:
    """The command path of ``args`` after click has parsed every level as it would to run it."""
    ctx = root.make_context("carteira", list(args))
    command: click.Command = root
    path: list[str] = []
    while isinstance(command, click.Group):
        name, found, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert name is not None
        assert found is not None
        path.append(name)
        ctx = found.make_context(name, rest, parent=ctx)
        command = found
    return tuple(path)


def _options(words: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """The options a synopsis names, and those its command (and the groups above it) has."""
    command: click.Command = root
    known: set[str] = set()
    for word in words:
        known |= {name for param in command.params for name in param.opts + param.secondary_opts}
        if isinstance(command, click.Group) and word in command.commands:
            command = command.commands[word]
    known |= {name for param in command.params for name in param.opts + param.secondary_opts}
    named = {match for word in words for match in re.findall(r"--[\w-]+", word)}
    return named, known


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_example_parses(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if example.synopsis:
        named, known = _options(example.args)
        assert named <= known, f"{example}: no option {sorted(named - known)}"
        return
    monkeypatch.chdir(tmp_path)
    for word in example.args:  # a file the example imports is the reader's; here it only has to exist
        if word.endswith((".ret", ".rem")):
            (tmp_path / word).touch()
    assert _refusal(example) is None, f"{example}\n{_refusal(example)}"


def _refusal(example: Example) -> str | None:
    """Why click refuses ``example``, or None when it parses (or names a command in a sentence)."""
    try:
        _parse(example.args)
    except click.exceptions.Exit as done:  # --help, shown
        return None if done.exit_code == 0 else f"help exits {done.exit_code}"
    except (click.MissingParameter, click.exceptions.NoArgsIsHelpError) as error:  # `carteira ops` in prose
        return None if example.named else error.format_message()
    except click.ClickException as error:
        return error.format_message()
    return None


def test_examples_are_found_everywhere() -> None:
    places = {example.where for example in EXAMPLES}
    assert {"README.md", "tutorial/the-demo-month.md", "how-to/receive-efi-notifications.md"} <= places
    assert "carteira ops configure --help" in places  # a continued line, joined
    assert any(example.partial for example in EXAMPLES)
    assert len(EXAMPLES) > 60


@pytest.mark.parametrize(("page", "test"), SESSION_PAGES.items())
def test_the_skipped_console_blocks_are_run_by_their_page_test(page: str, test: str) -> None:
    assert f'"{page.split("/")[-1]}"' in (ROOT / test).read_text(encoding="utf-8")
    assert "```console" in (ROOT / "docs" / page).read_text(encoding="utf-8")


@attrs.frozen
class Month:
    """The demo's month in a SQLite file, and the ids a reader's would have in their place."""

    database: Path
    batch_id: str
    operation_id: str


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    folder = tmp_path_factory.mktemp("month")
    result = CliRunner().invoke(root, ["demo", "--folder", str(folder), "--json"], prog_name="carteira")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    return Month(folder / "carteira.db", summary["batch_id"], summary["fixed_operation"])


def _runnable(example: Example) -> bool:
    if example.partial or example.synopsis or "--help" in example.args:
        return False
    try:
        return _parse(example.args) in READ_ONLY
    except (click.exceptions.Exit, click.ClickException):
        return False


RUNNABLE = [example for example in EXAMPLES if _runnable(example)]


def _in_month(args: tuple[str, ...], month: Month) -> list[str]:
    """``args`` against the month: its store in place of the example's, its ids in place of the page's."""
    words = list(args)
    if words[:1] == ["--store"]:
        words = words[2:]
    ids = [month.batch_id if BATCH_ID.match(w) else month.operation_id if OPERATION_ID.match(w) else w for w in words]
    return ["--store", str(month.database), *ids]


@pytest.mark.parametrize("example", RUNNABLE, ids=str)
def test_the_reading_example_runs_against_the_demo_month(example: Example, month: Month) -> None:
    result = CliRunner().invoke(root, _in_month(example.args, month), prog_name="carteira", env={"COLUMNS": "120"})
    assert result.exit_code == 0, f"{example}\n{result.output}"
    shown = [line.strip() for line in example.shown.splitlines() if line.strip() not in {"", "..."}]
    printed = result.output
    for line in shown:
        words = [word for word in line.split() if not BATCH_ID.match(word) and not OPERATION_ID.match(word)]
        assert all(word in printed for word in words), f"{example}: shows {line!r}, printed\n{printed}"


def test_some_examples_run() -> None:
    assert {_parse(example.args) for example in RUNNABLE} == READ_ONLY


@pytest.mark.parametrize(
    "line",
    ["carteira ops list --flaged", "carteira returns shw B5f0c2a91d3e4b7a8", "carteira postings list --from 2026-13-01",
     "carteira --stor x returns list"],
)  # fmt: skip
def test_a_wrong_example_would_fail(line: str) -> None:
    found = _args(line)
    assert found is not None
    with pytest.raises(click.UsageError):
        _parse(found[0])


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("$ carteira --store postgres://db/carteira ops list", ("--store", "postgres://db/carteira", "ops", "list")),
        ('batch=$(carteira returns import r.ret --quiet)', ("returns", "import", "r.ret", "--quiet")),
        ('carteira returns confirm "$batch"  # the night job', ("returns", "confirm", SAMPLE_BATCH)),
        ("ExecStart=/srv/erp/.venv/bin/carteira worker", ("worker",)),
        ("env -u CARTEIRA_EFI_CLIENT_SECRET carteira ops drain &", ("ops", "drain")),
        ("python -m carteira.testing.efi_emulator --port 8080", None),
    ],
)  # fmt: skip
def test_a_shell_line_gives_the_words_after_carteira(line: str, args: tuple[str, ...] | None) -> None:
    found = _args(line)
    assert (found[0] if found is not None else None) == args
