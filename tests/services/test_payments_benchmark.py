"""``benchmarks/notifications.py --quick`` runs end to end, so that the benchmark of issue #13 cannot rot unnoticed.

Tiny sizes (20 notifications, 1 ms of latency, 1 and 2 worker processes, one store round and the
round-trip count): the figures mean nothing here; what is checked is that every part runs, that
the run's own audit found each payment settled once (it exits non-zero otherwise), and that it
prints each figure the performance page quotes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support import POSTGRES_DSN, ROOT

pytestmark = pytest.mark.postgres


def test_the_notifications_benchmark_runs_in_quick_mode(postgres_schema: str) -> None:
    # postgres_schema: skips (or fails under CI) when the server is absent; the benchmark makes its own schemas.
    env = {**os.environ, "CARTEIRA_TEST_POSTGRES": POSTGRES_DSN, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "notifications.py"), "--quick"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"1 worker\(s\): .* notifications/s +speed-up 1\.00x", out), out
    assert re.search(r"2 worker\(s\): .* notifications/s +speed-up \d+\.\d\dx", out), out
    assert re.search(r"bare driver \d+\.\d\d ms; \d+\.\d\dx", out), out
    trips = re.search(r"round trips per notification: library (\d+\.\d), bare driver (\d+\.\d)", out)
    assert trips is not None, out
    assert 0 < float(trips[2]) < float(trips[1]), out  # both counted; the library never beats the bare statements
