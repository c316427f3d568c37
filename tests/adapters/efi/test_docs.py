"""The how-to on Efí runs as written: its python blocks, in order, in one namespace."""

from __future__ import annotations

import re

from tests.support import ROOT


def test_the_efi_how_to_runs() -> None:
    text = (ROOT / "docs" / "how-to" / "sync-with-efi.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "how_to"}
    for block in blocks:
        exec(compile(block, "sync-with-efi.md", "exec"), namespace)
    assert namespace["failed"] == []
