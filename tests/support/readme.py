"""The fenced code blocks of a Markdown document, in document order, each with the `<!-- not run:
REASON -->` comment that may stand on the line before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO

# An opening fence (at any indent, so blocks in list items count too), its body, its closing fence.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.MULTILINE | re.DOTALL
)
_NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str  # the first word after the fence, "" when there is none
    code: str
    not_run: str | None  # the reason the comment before it gives, None when there is none

    @property
    def where(self) -> str:
        path = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
        return f"{path}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text()
    blocks = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        previous = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.match(previous)
        indent = match.group("indent")
        code = "".join(
            row[len(indent) :] if row.startswith(indent) else row
            for row in match.group("body").splitlines(keepends=True)
        )
        blocks.append(
            Block(
                path=path,
                line=line,
                language=(match.group("info").split() or [""])[0],
                code=code,
                not_run=marker.group("reason") if marker else None,
            )
        )
    return blocks
