"""``carteira returns ... --json``: one JSON document on stdout in the words of decision 0604, for night jobs.

A script imports, reads the batch, links by hand, confirms and undoes, parsing stdout with a JSON reader
alone: amounts are texts, dates ISO, enums by stored value, the storage version left out. Errors stay an
``error:`` line on stderr with stdout empty.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from carteira import InstallmentStatus, Money
from carteira.adapters.cli import ExitCode
from carteira.domain import SettlementPolicy, Tolerance

from .conftest import DUE, TODAY, Bench, a_file, installment, paid, seed


def _json(bench: Bench, *args: str) -> Any:
    """Run ``carteira ARGS --json``; it must succeed with one JSON document and a newline on stdout."""
    result = bench.run(*args, "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1
    return json.loads(result.stdout)


@pytest.fixture
def seeded(bench: Bench) -> Bench:
    seed(bench.store, installment("i1", "111"), installment("i2", "222"), installment("i3", "333", customer="c2"))
    return bench


def _import(bench: Bench, data: bytes, *args: str) -> Any:
    return _json(bench, "returns", "import", bench.write("r.ret", data), "--description", "BB March",
                 "--date", "2026-03-12", *args)  # fmt: skip


def test_import_json_is_the_batch_and_what_auto_link_did(seeded: Bench) -> None:
    found = _import(seeded, a_file([paid("111", "100.00"), paid("222", "100.00"), paid("999", "80.00")]))
    batch = found["batch"]
    assert batch["status"] == "imported"
    assert (batch["description"], batch["process_date"], batch["source"]) == ("BB March", "2026-03-12", "r.ret")
    assert (batch["layout_id"], batch["bank_code"], batch["agreement"], batch["file_sequence"]) == (
        "bb-240", "001", "123456", 1,
    )  # fmt: skip
    assert batch["record_count"] == 3
    assert batch["warnings"] == []
    assert "version" not in batch
    assert found["auto_link"]["linked"] == 2
    [left] = found["auto_link"]["left_open"]
    assert set(left) == {"line", "reason"}
    assert isinstance(left["line"], int)
    assert left["reason"]
    assert _import(seeded, a_file([], sequence=2), "--no-link")["auto_link"] is None


def test_list_and_show_json_read_as_the_tables_do(seeded: Bench) -> None:
    batch_id = _import(seeded, a_file([paid("111", "100.50"), paid("222", "100.00")]))["batch"]["id"]
    [listed] = _json(seeded, "returns", "list")
    assert listed["id"] == batch_id
    shown = _json(seeded, "returns", "show", batch_id)
    assert shown["batch"] == listed
    rows = {row["record"]["bank_title_number"]: row for row in shown["records"]}
    first = rows["111"]
    record = first["record"]
    assert (record["paid"], record["due_date"], record["links"], record["origin"]) == (
        "100.50", DUE.isoformat(), ["i1"], "auto",
    )  # fmt: skip
    assert (record["state"], record["is_settlement"], record["awaits_acknowledgement"]) == ("linked", True, False)
    assert (first["corrected"], first["difference"], first["flagged"]) == ("100.00", "0.50", True)
    assert rows["222"]["flagged"] is False
    assert "version" not in record
    opened = _json(seeded, "returns", "show", batch_id, "--open")
    assert opened["records"] == []


def test_link_unlink_and_confirm_json(seeded: Bench) -> None:
    batch_id = _import(seeded, a_file([paid("111", "100.00"), paid("999", "100.00")]))["batch"]["id"]
    rows = _json(seeded, "returns", "show", batch_id)["records"]
    line = next(row["record"]["line"] for row in rows if row["record"]["bank_title_number"] == "999")
    linked = _json(seeded, "returns", "link", batch_id, str(line), "i3")
    assert (linked["line"], linked["links"], linked["origin"], linked["state"]) == (line, ["i3"], "manual", "linked")
    unlinked = _json(seeded, "returns", "unlink", batch_id, str(line))
    assert (unlinked["links"], unlinked["origin"], unlinked["state"]) == ([], None, "open")
    confirmed = _json(seeded, "returns", "confirm", batch_id)
    assert confirmed == {
        "batch_id": batch_id, "settled": 1, "refused": [], "status": "pending", "anticipations": [], "observations": 0,
    }  # fmt: skip
    settled = _json(seeded, "returns", "show", batch_id)["records"]
    assert [row["record"]["state"] for row in settled] == ["settled", "open"]
    assert len(settled[0]["record"]["settlement_ids"]) == 1


def test_confirm_json_lists_refusals_by_line(bench: Bench) -> None:
    strict = SettlementPolicy(over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")),
                              settle_beyond_tolerance=False)  # fmt: skip
    seed(bench.store, installment("i1", "111"), installment("i2", "222"), policy=strict)
    batch_id = _import(bench, a_file([paid("111", "90.00"), paid("222", "100.00")]))["batch"]["id"]
    confirmed = _json(bench, "returns", "confirm", batch_id)
    [refused] = confirmed["refused"]
    assert refused["reason"] == "underpaid 10.00, limit 0.50"
    assert (confirmed["settled"], confirmed["status"]) == (1, "pending")
    assert bench.get("i1").status is InstallmentStatus.OPEN


def test_acknowledge_reactivate_and_delete_json(seeded: Bench) -> None:
    batch_id = _import(seeded, a_file([paid("111", "100.00", face="99.50"), paid("222", "100.00")]))["batch"]["id"]
    flagged = _json(seeded, "returns", "show", batch_id, "--flagged")["records"]
    [record] = [row["record"] for row in flagged]
    assert (record["flags"], record["awaits_acknowledgement"]) == (["sum:paid"], True)
    [acknowledged] = _json(seeded, "returns", "acknowledge", batch_id, str(record["line"]), "--by", "ana")
    assert (acknowledged["acknowledged_by"], acknowledged["awaits_acknowledgement"]) == ("ana", False)
    assert acknowledged["acknowledged_at"].endswith("-03:00")  # the command's clock: Brasília
    assert _json(seeded, "returns", "confirm", batch_id)["settled"] == 2

    asked = seeded.run("returns", "reactivate", "i1", "--json")
    assert (asked.exit_code, asked.stdout) == (ExitCode.NEEDS_YES, "")  # the warning stays on stderr
    done = _json(seeded, "returns", "reactivate", "i1", "--yes", "--date", TODAY.isoformat())
    assert done == {"reactivated": ["i1"], "batch_id": batch_id, "line": record["line"]}
    assert _json(seeded, "returns", "delete", batch_id, "--yes") == {"deleted": batch_id}
    assert _json(seeded, "returns", "list") == []


def test_an_error_with_json_is_still_one_line_on_stderr_and_nothing_on_stdout(seeded: Bench) -> None:
    result = seeded.run("returns", "show", "B0000000000000000", "--json")
    assert result.exit_code == ExitCode.REFUSED
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
