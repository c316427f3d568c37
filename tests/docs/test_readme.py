"""The README's tour runs as written."""

from __future__ import annotations

import re

from tests.support import ROOT


def test_the_readme_tour_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README has no python block"
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in blocks:  # one namespace: the tour's blocks build on each other
        exec(compile(block, "README.md", "exec"), namespace)
