"""What the command pages' tests share: ids are random, so the page's ids stand for the run's, in order of
appearance, and a page's output is compared with the run's line by line, ids and ``loose`` parts aside."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
"""An operation's or a posting's id as the commands print it."""


@attrs.define
class PageIds:
    """The map from the page's ids to the run's, learnt as the page's commands print them."""

    noun: str  # what an id names ("operation", "posting", "batch"), for the failures
    loose: Callable[[str], str] = lambda line: line  # what else may differ in a line (elapsed times)
    pattern: re.Pattern[str] = HEX_ID  # how the commands print an id
    ids: dict[str, str] = attrs.field(factory=dict)

    def substitute(self, command: str) -> str:
        """``command`` with the page's ids replaced by the run's."""
        for page_id, run_id in self.ids.items():
            command = command.replace(page_id, run_id)
        return command

    def expect(self, shown: str, printed: str, command: str) -> None:
        """Compare what the page shows with what the run printed, learning which id is which."""
        page_ids, run_ids = self._ids(shown), self._ids(printed)
        assert len(page_ids) == len(run_ids), f"$ {command}\n{printed}"
        for page_id, run_id in zip(page_ids, run_ids, strict=True):
            assert self.ids.setdefault(page_id, run_id) == run_id, f"$ {command}: {page_id} stands for two {self.noun}s"
            assert list(self.ids.values()).count(run_id) == 1, f"$ {command}: two of the page's ids for {run_id}"
        assert self._lines(shown) == self._lines(printed), f"$ {command}\n{printed}"

    def _lines(self, text: str) -> list[str]:
        lines = [self.loose(self.pattern.sub("ID…", line)).rstrip() for line in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def _ids(self, text: str) -> list[str]:
        return list(dict.fromkeys(self.pattern.findall(text)))
