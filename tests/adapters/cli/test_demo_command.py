"""``carteira demo``: the month runs end to end, its summary agrees with the SQLite file it leaves, and a seed fixes it.

The totals are read back with ``sqlite3`` alone, not through carteira's store, so a mistake in how the
demo adds them up cannot hide behind the same mistake in the code that reads them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from carteira.adapters.cli.app import root

ROOT = Path(__file__).resolve().parents[3]
_LABELS = {"billed": "billed", "received via Efí": "efi", "received via bank": "bank", "fees": "fees", "open": "open"}


def _summary_totals(output: str) -> dict[str, Decimal]:
    """The amounts of the summary's totals table, by short name."""
    found = {}
    for label, name in _LABELS.items():
        match = re.search(rf"^{re.escape(label)}\s+(-?\d+\.\d\d)\s", output, re.MULTILINE)
        assert match is not None, f"no {label!r} total in:\n{output}"
        found[name] = Decimal(match.group(1))
    settlements = re.search(r"^settlements\s+(\d+)\s", output, re.MULTILINE)
    assert settlements is not None, output
    found["settlements"] = Decimal(settlements.group(1))
    return found


def _store_totals(database: Path) -> dict[str, Decimal]:
    """The same totals recomputed from the file's tables."""
    with sqlite3.connect(database) as db:
        month = "due BETWEEN '2026-03-01' AND '2026-03-31'"
        billed, open_ = db.execute(
            f"SELECT sum(amount_cents), sum(principal_open_cents + fine_open_cents + interest_open_cents) "
            f"FROM installments WHERE {month}"
        ).fetchone()
        efi, bank, count = db.execute(
            "SELECT sum(CASE WHEN batch_id IS NULL THEN paid_cents END), "
            "sum(CASE WHEN batch_id IS NOT NULL THEN paid_cents END), count(*) "
            "FROM settlements WHERE reversed_on IS NULL"
        ).fetchone()
        (fees,) = db.execute(
            "SELECT sum(CASE WHEN reverses IS NULL THEN amount_cents ELSE -amount_cents END) "
            "FROM postings WHERE kind = 'fee'"
        ).fetchone()
    cents = {"billed": billed, "efi": efi, "bank": bank, "fees": fees, "open": open_}
    totals = {name: Decimal(value or 0).scaleb(-2) for name, value in cents.items()}
    totals["settlements"] = Decimal(count)
    return totals


def _carteira() -> list[str]:
    """The installed ``carteira`` script beside this interpreter (CI installs it), else the package's ``-m`` way in."""
    script = Path(sys.executable).with_name("carteira")
    return [str(script)] if script.exists() else [sys.executable, "-m", "carteira.adapters.cli"]


def test_the_demo_exits_0_and_its_summary_agrees_with_the_store_it_leaves(tmp_path: Path) -> None:
    # The installed command's way in, in a process of its own, as the README runs it.
    folder = tmp_path / "month"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    done = subprocess.run(
        [*_carteira(), "demo", "--customers", "30", "--seed", "1", "--folder", str(folder)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    database = folder / "carteira.db"
    summary = _summary_totals(done.stdout)
    assert summary == _store_totals(database)
    # The month did what it says: money came in both ways, Efí charged its fee, and some is still owed.
    assert all(summary[name] > 0 for name in ("efi", "bank", "fees", "open"))
    assert f"carteira --store {database} returns show B" in done.stdout
    assert "FAILED !" in done.stdout  # the panel's bad CPFs
    assert re.search(r"-\d+\.\d\d !", done.stdout)  # the review's differences: a short payment at least
    assert "reactivating it reopens the record" in done.stdout


def test_the_same_seed_gives_the_same_month_and_another_seed_another(tmp_path: Path) -> None:
    def totals(seed: int, name: str) -> dict[str, object]:
        result = CliRunner().invoke(
            root, ["demo", "--customers", "30", "--seed", str(seed), "--folder", str(tmp_path / name), "--json"]
        )
        assert result.exit_code == 0, result.output
        month = json.loads(result.output)
        assert month["database"] == str(tmp_path / name / "carteira.db")
        assert len(month["failed"]) == 2  # the two bad CPFs, at fixed positions
        found: dict[str, object] = month["totals"]
        return found

    first = totals(1, "a")
    assert totals(1, "b") == first
    assert totals(2, "c") != first


def test_the_demo_never_writes_over_a_store(tmp_path: Path) -> None:
    (tmp_path / "carteira.db").write_bytes(b"the ERP's own")
    result = CliRunner().invoke(root, ["demo", "--customers", "20", "--folder", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert (tmp_path / "carteira.db").read_bytes() == b"the ERP's own"
