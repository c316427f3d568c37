"""Every ```python block in docs/ runs as written; blocks of one page share a namespace, in order.

A block that cannot run on its own (it needs a server, a file of yours) is fenced as ```py instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

PAGES = sorted((ROOT / "docs").rglob("*.md"))
RUNNABLE = [page for page in PAGES if "```python\n" in page.read_text(encoding="utf-8")]


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(ROOT / "docs")) for p in RUNNABLE])
def test_the_page_runs(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for number, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S), 1):
        exec(compile(block, f"{page.name}#block{number}", "exec"), namespace)


def test_the_docs_have_runnable_pages() -> None:
    assert any(page.parent.name == "tutorial" for page in RUNNABLE)
