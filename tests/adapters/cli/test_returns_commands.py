"""Every ``carteira returns`` command through click's runner: what it prints, what it changes, its exit code."""

from __future__ import annotations

import re
from datetime import date

import pytest

from carteira import InstallmentStatus, Money
from carteira.adapters.cli import ExitCode
from carteira.domain import SettlementPolicy, Tolerance

from .conftest import DUE, TODAY, Bench, a_file, installment, paid, seed

BATCH_ID = re.compile(r"\bB[0-9a-f]{16}\b")


def imported(bench: Bench, *args: str, data: bytes | None = None) -> str:
    """Import a file (by default one paying i1 and i2, and one title nobody owns) and return the batch id."""
    data = data or a_file([paid("111", "100.00"), paid("222", "100.00"), paid("999", "80.00")])
    result = bench.run("returns", "import", bench.write("retorno.ret", data), "--description", "BB March", *args)
    assert result.exit_code == 0, result.output
    found = BATCH_ID.search(result.stdout)
    assert found is not None, result.stdout
    return found.group()


@pytest.fixture
def seeded(bench: Bench) -> Bench:
    seed(bench.store, installment("i1", "111"), installment("i2", "222"), installment("i3", "333", customer="c2"))
    return bench


def test_import_prints_the_batch_and_why_each_record_stayed_open(seeded: Bench) -> None:
    data = a_file([paid("111", "100.00"), paid("222", "100.00"), paid("999", "80.00")])
    result = seeded.run("returns", "import", seeded.write("r.ret", data), "--description", "BB March",
                        "--date", "2026-03-12")  # fmt: skip
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"batch B[0-9a-f]{16}: 3 records, IMPORTED, processed 2026-03-12 \(BB March\)", lines[0])
    assert lines[1] == "auto-link: 2 linked, 1 left open"
    assert re.fullmatch(r"  line \d+: .+", lines[2])
    assert len(lines) == 3
    assert result.stderr == ""


def test_import_without_a_date_takes_today_and_no_link_leaves_every_record_open(seeded: Bench) -> None:
    batch = imported(seeded, "--no-link")
    listed = seeded.run("returns", "list")
    assert TODAY.isoformat() in listed.stdout
    opened = seeded.run("returns", "show", batch, "--open")
    assert [row.split()[-1] for row in _table_rows(opened.stdout)] == ["OPEN", "OPEN", "OPEN"]
    assert "auto-link" not in seeded.run("returns", "import", seeded.write("s.ret", a_file([], sequence=2)),
                                         "--description", "empty", "--no-link").stdout  # fmt: skip


def test_quiet_import_prints_only_the_id_for_scripts(seeded: Bench) -> None:
    result = seeded.run("returns", "import", seeded.write("r.ret", a_file([paid("111", "100.00")])),
                        "--description", "BB", "--quiet")  # fmt: skip
    assert BATCH_ID.fullmatch(result.stdout.strip())
    shown = seeded.run("returns", "show", result.stdout.strip(), "--auto")
    assert "i1" in shown.stdout  # quiet still auto-links


def test_list_shows_each_batch_with_its_status_and_records(seeded: Bench) -> None:
    first = imported(seeded, "--date", "2026-03-12")
    second = seeded.run("returns", "import", seeded.write("b.ret", a_file([paid("333", "100.00")], sequence=2)),
                        "--description", "BB 13", "--date", "2026-03-13", "--quiet").stdout.strip()  # fmt: skip
    seeded.run("returns", "confirm", second)
    rows = _table_rows(seeded.run("returns", "list").stdout)
    assert [row.split() for row in rows] == [
        [second, "BB", "13", "2026-03-13", "COMPLETED", "1"],
        [first, "BB", "March", "2026-03-12", "IMPORTED", "3"],
    ]


def test_show_marks_a_difference_and_settled_records(seeded: Bench) -> None:
    late = date(2026, 4, 9)  # 30 days late: 2.00 fine and 1.00 interest are due, the payer paid the face value
    batch = imported(seeded, data=a_file([paid("111", "100.00", on=late), paid("222", "100.00")]))
    seeded.run("returns", "confirm", batch, "--line", _line_of(seeded, batch, "222"))
    rows = {row.split()[2]: row for row in _table_rows(seeded.run("returns", "show", batch).stdout)}
    assert "103.00" in rows["111"]
    assert "-3.00 !" in rows["111"]  # the difference stands out without colour too
    assert "LINKED" in rows["111"]
    assert "SETTLED" in rows["222"]
    assert "!" not in rows["222"]
    coloured = _coloured_show(seeded, batch)
    assert re.search(r"\x1b\[1;31m *-3\.00 !\x1b\[0m", coloured), "a flagged difference prints bold red on a terminal"


def _coloured_show(bench: Bench, batch: str) -> str:
    bench.env["FORCE_COLOR"] = "1"
    try:
        return bench.run("returns", "show", batch).stdout
    finally:
        del bench.env["FORCE_COLOR"]


def test_show_filters_open_manual_and_auto_records(seeded: Bench) -> None:
    batch = imported(seeded)
    open_line = _line_of(seeded, batch, "999")
    seeded.run("returns", "link", batch, _line_of(seeded, batch, "222"), "i2")  # by hand now
    titles = {
        flag: [row.split()[2] for row in _table_rows(seeded.run("returns", "show", batch, flag).stdout)]
        for flag in ("--open", "--manual", "--auto")
    }
    assert titles == {"--open": ["999"], "--manual": ["222"], "--auto": ["111"]}
    assert open_line in seeded.run("returns", "show", batch, "--open").stdout


def test_link_and_unlink_by_hand(seeded: Bench) -> None:
    batch = imported(seeded)
    line = _line_of(seeded, batch, "999")
    linked = seeded.run("returns", "link", batch, line, "i3")
    assert (linked.exit_code, linked.stdout) == (0, f"line {line} linked to i3 (MANUAL)\n")
    row = _row(seeded, batch, "999")
    assert "i3" in row
    assert "MANUAL" in row
    unlinked = seeded.run("returns", "unlink", batch, line)
    assert (unlinked.exit_code, unlinked.stdout) == (0, f"line {line} unlinked\n")
    assert _row(seeded, batch, "999").split()[-1] == "OPEN"


def test_linking_an_installment_that_is_not_open_is_one_error_line(seeded: Bench) -> None:
    batch = imported(seeded)
    seeded.run("returns", "confirm", batch)
    refused = seeded.run("returns", "link", batch, _line_of(seeded, batch, "999"), "i1")
    assert refused.exit_code == ExitCode.REFUSED
    assert refused.stderr == "error: installment i1 is already settled; only open installments are linked\n"
    missing = seeded.run("returns", "link", batch, _line_of(seeded, batch, "999"), "nope")
    assert (missing.exit_code, missing.stderr) == (ExitCode.REFUSED, "error: installment_ids: no installment nope\n")


def test_confirm_settles_prints_the_outcome_and_feeds_a_progress_bar(seeded: Bench) -> None:
    batch = imported(seeded)
    result = seeded.run("returns", "confirm", batch, "--chunk-size", "1")
    assert result.exit_code == 0
    assert result.stdout == f"settled 2, refused 0\nbatch {batch}: PENDING\n"  # line 999 is still open
    assert "confirming" in result.stderr
    assert "2/2" in result.stderr
    assert seeded.get("i1").status is InstallmentStatus.SETTLED
    assert seeded.get("i2").status is InstallmentStatus.SETTLED
    assert seeded.get("i3").status is InstallmentStatus.OPEN


def test_confirm_a_subset_of_lines_then_the_rest(seeded: Bench) -> None:
    batch = imported(seeded, data=a_file([paid("111", "100.00"), paid("222", "100.00")]))
    first = seeded.run("returns", "confirm", batch, "--line", _line_of(seeded, batch, "111"))
    assert first.stdout == f"settled 1, refused 0\nbatch {batch}: PENDING\n"
    assert seeded.get("i2").status is InstallmentStatus.OPEN
    rest = seeded.run("returns", "confirm", batch)
    assert rest.stdout == f"settled 1, refused 0\nbatch {batch}: COMPLETED\n"


def test_confirm_lists_refused_records_with_their_reasons_and_still_exits_0(bench: Bench) -> None:
    strict = SettlementPolicy(over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")),
                              settle_beyond_tolerance=False)  # fmt: skip
    seed(bench.store, installment("i1", "111"), installment("i2", "222"), policy=strict)
    # The file's face value is what was paid (its own sums hold): the installment of 100.00 is underpaid.
    batch = imported(bench, data=a_file([paid("111", "90.00"), paid("222", "100.00")]))
    result = bench.run("returns", "confirm", batch)
    assert result.exit_code == ExitCode.OK
    lines = result.stdout.splitlines()
    assert lines[0] == "settled 1, refused 1"
    assert lines[1] == f"  line {_line_of(bench, batch, '111')}: underpaid 10.00, limit 0.50"
    assert lines[2] == f"batch {batch}: PENDING"
    assert bench.get("i1").status is InstallmentStatus.OPEN


def test_reactivate_needs_yes_for_a_batch_settlement(seeded: Bench) -> None:
    batch = imported(seeded)
    seeded.run("returns", "confirm", batch)
    asked = seeded.run("returns", "reactivate", "i1")
    assert asked.exit_code == ExitCode.NEEDS_YES == 4
    assert asked.stdout == ""
    assert asked.stderr.startswith(f"warning: installment i1 was settled by return batch {batch}, line ")
    assert asked.stderr.endswith("; rerun with --yes to reactivate\n")
    assert "acknowledge" not in asked.stderr
    assert seeded.get("i1").status is InstallmentStatus.SETTLED
    done = seeded.run("returns", "reactivate", "i1", "--yes", "--date", TODAY.isoformat())
    assert done.exit_code == 0
    line = _line_of(seeded, batch, "111")
    assert done.stdout.splitlines() == [
        "reactivated i1",
        f"batch {batch} line {line} is open again: confirm it again, or change its links",
    ]
    assert seeded.get("i1").status is InstallmentStatus.OPEN
    assert "PENDING" in seeded.run("returns", "list").stdout


def test_reactivating_an_installment_with_no_settlement_is_refused(seeded: Bench) -> None:
    result = seeded.run("returns", "reactivate", "i1", "--yes")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stderr == "error: installment i1 has no settlement to reverse\n"


def test_delete_needs_yes_then_restores_every_installment(seeded: Bench) -> None:
    batch = imported(seeded)
    seeded.run("returns", "confirm", batch)
    asked = seeded.run("returns", "delete", batch)
    assert asked.exit_code == ExitCode.NEEDS_YES
    assert asked.stderr == (
        f"warning: deleting batch {batch} (BB March, PENDING) reverses the settlements of 2 of its 3 records "
        "and removes it; rerun with --yes to delete\n"
    )
    assert batch in seeded.run("returns", "list").stdout
    done = seeded.run("returns", "delete", batch, "--yes")
    assert (done.exit_code, done.stdout) == (0, f"batch {batch} deleted\n")
    assert batch not in seeded.run("returns", "list").stdout
    assert [seeded.get(i).status for i in ("i1", "i2")] == [InstallmentStatus.OPEN] * 2
    assert seeded.get("i1").due == DUE


def _table_rows(text: str) -> list[str]:
    """The body rows of a table the command printed (after the header's rule)."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) <= {"─", " "} and line.strip())
    return [line for line in lines[rule + 1 :] if line.strip()]


def _line_of(bench: Bench, batch: str, title: str) -> str:
    """The file line of the record of ``title`` in ``batch``, read from the store."""
    with bench.store.unit_of_work() as uow:
        (line,) = [r.line for r in uow.return_batches.records(batch) if r.bank_title_number == title]
    return str(line)


def _row(bench: Bench, batch: str, title: str) -> str:
    """The table row ``show`` prints for the record of ``title``."""
    line = _line_of(bench, batch, title)
    rows = [row for row in _table_rows(bench.run("returns", "show", batch).stdout) if row.split()[0] == line]
    assert len(rows) == 1, rows
    return rows[0]


def test_a_flagged_record_is_shown_refused_until_acknowledged_then_settles(
    seeded: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file says face 99.50 and paid 100.00 with nothing between: its own sum flags the record 'sum:paid'.
    batch = imported(seeded, data=a_file([paid("111", "100.00", face="99.50"), paid("222", "100.00")]))
    line = _line_of(seeded, batch, "111")
    assert "sum:paid !" in _row(seeded, batch, "111")
    assert [row.split()[2] for row in _table_rows(seeded.run("returns", "show", batch, "--flagged").stdout)] == ["111"]
    first = seeded.run("returns", "confirm", batch)
    assert first.stdout.splitlines()[:2] == [
        "settled 1, refused 1",
        f"  line {line}: flagged sum:paid: acknowledge first",
    ]
    assert seeded.get("i1").status is InstallmentStatus.OPEN

    monkeypatch.setattr("getpass.getuser", lambda: "ana")  # who runs the command, when --by is not given
    done = seeded.run("returns", "acknowledge", batch, line)
    assert (done.exit_code, done.stdout) == (ExitCode.OK, f"line {line}: sum:paid acknowledged by ana\n")
    again = seeded.run("returns", "acknowledge", batch, line, "--by", "bruno")
    assert again.stdout == f"line {line}: sum:paid acknowledged by ana\n"  # the first acknowledgement stays
    assert "sum:paid (ack. ana)" in _row(seeded, batch, "111")
    second = seeded.run("returns", "confirm", batch)
    assert second.stdout.splitlines()[0] == "settled 1, refused 0"
    assert seeded.get("i1").status is InstallmentStatus.SETTLED


def test_acknowledge_refuses_a_line_without_flags_or_record_by_name(seeded: Bench) -> None:
    batch = imported(seeded)
    clean = _line_of(seeded, batch, "111")
    refused = seeded.run("returns", "acknowledge", batch, clean, "--by", "ana")
    assert refused.exit_code == ExitCode.REFUSED
    assert f"line {clean} has no flags" in refused.stderr
    missing = seeded.run("returns", "acknowledge", batch, "99", "--by", "ana")
    assert missing.exit_code == ExitCode.REFUSED
    assert "no record on line 99" in missing.stderr
    assert seeded.run("returns", "acknowledge", batch).exit_code == ExitCode.USAGE  # name a line
