"""docs/explanation/write-a-gateway-adapter.md: the test file it shows runs the contract suite under pytest.

tests/docs/test_docs.py executes the page's blocks, which only defines the classes; here the blocks that
make up the reader's test file (the harness and the subclass, then the subclass again with one test
overridden) are written to a file and run by pytest in a process of its own, as the reader would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

PAGE = ROOT / "docs" / "explanation" / "write-a-gateway-adapter.md"


def test_the_pages_test_file_passes_the_contract_but_the_test_it_skips(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    test_file = [block for block in blocks if "class TestAcmeGateway" in block]
    assert len(test_file) == 2, "the harness and subclass, then the subclass with an override"
    (tmp_path / "test_acme_gateway.py").write_text("\n\n".join(test_file), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "test_acme_gateway.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout + run.stderr
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, summary
    assert int(passed.group(1)) >= 25, summary
    assert "1 skipped" in summary, summary
