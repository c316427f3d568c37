"""Every Python block in docs/ runs as written; blocks of one page share a namespace, in order.

There is no exemption: a block that needs a file builds it (``carteira.testing.return_files``), and a
block that needs PostgreSQL uses the server the suite uses (skipped without one, failed under CI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import POSTGRES_DSN, ROOT, unavailable

PAGES = sorted((ROOT / "docs").rglob("*.md"))
RUNNABLE = [page for page in PAGES if "```python\n" in page.read_text(encoding="utf-8")]
DOCS_SCHEMA = "carteira_howto"
"""The schema the PostgreSQL how-to writes to; dropped before and after its page runs."""


def _drop_docs_schema() -> None:
    try:
        with psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {DOCS_SCHEMA} CASCADE")
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_DSN} is needed by this page ({exc})")


@pytest.fixture
def server_for(request: pytest.FixtureRequest) -> Iterator[None]:
    page: Path = request.node.callspec.params["page"]
    needs_postgres = "PostgresStore(" in page.read_text(encoding="utf-8")
    if needs_postgres:
        _drop_docs_schema()
    yield
    if needs_postgres:
        _drop_docs_schema()


@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(ROOT / "docs")) for p in RUNNABLE])
@pytest.mark.usefixtures("server_for")
def test_the_page_runs(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for number, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S), 1):
        exec(compile(block, f"{page.name}#block{number}", "exec"), namespace)


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.name)
def test_no_python_block_is_exempt(page: Path) -> None:
    fences = re.findall(r"^```(\w+)$", page.read_text(encoding="utf-8"), re.M)
    assert "py" not in fences, f"{page.name}: fence Python as ```python so that it runs as a test"


def test_the_docs_have_runnable_pages() -> None:
    assert any(page.parent.name == "tutorial" for page in RUNNABLE)
