"""Write catapult/_client.py (the blocking Client) from catapult/_async_client.py (AsyncClient).

The two clients differ only in `async`/`await` and in their transport, so one is written by hand
and the other derived from it token by token (as httpcore and elasticsearch-py do), then sorted
and formatted with the repository's ruff settings. tests/sdk/test_generated.py fails when the
committed _client.py differs from what this script writes.

    python clients/python/scripts/unasync.py          # rewrite catapult/_client.py
    python clients/python/scripts/unasync.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "catapult"
SOURCE = PACKAGE / "_async_client.py"
TARGET = PACKAGE / "_client.py"

HEADER = '''"""The blocking client. Generated from _async_client.py by clients/python/scripts/unasync.py:
do not edit; edit _async_client.py and run clients/python/generate.sh."""
'''

# Order matters: longer names first.
REPLACEMENTS = [
    ("for asyncio code", "for blocking code"),
    ("AsyncIterator", "Iterator"),
    ("AsyncTransport", "SyncTransport"),
    ("AsyncWatch", "Watch"),
    ("AsyncClient", "Client"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    ("async def ", "def "),
    ("async for ", "for "),
    ("async with ", "with "),
    ("await ", ""),
]


def _ruff() -> str:
    """The ruff next to this Python (the repo's .venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if not found:
        raise SystemExit("ruff not found: install the dev dependencies (make install)")
    return found


def _ruff_stdin(args: list[str], source: str) -> str:
    result = subprocess.run(
        [_ruff(), *args, "--stdin-filename", str(TARGET), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent.parent.parent,  # the repository root, whose pyproject.toml configures ruff
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout:
        raise SystemExit(f"ruff {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def render() -> str:
    """The text _client.py must have."""
    source = SOURCE.read_text()
    docstring = re.match(r'"""(?:.|\n)*?"""\n', source)
    if docstring is None:
        raise SystemExit(f"{SOURCE} must start with a docstring")
    text = HEADER + source[docstring.end() :]
    # The async file's exemption from ASYNC109 (and its reason) has no meaning in blocking code.
    text = re.sub(r"(?m)^# A per-call `timeout`.*\n(?:#.*\n)*?# ruff: noqa: ASYNC109\n", "", text)
    for old, new in REPLACEMENTS:
        text = text.replace(old, new)
    # An async generator cannot `yield from`; a generator should (ruff UP028).
    text = re.sub(r"for item in (.+):\n\s+yield item\n", r"yield from \1\n", text)
    leftover = re.search(r"\basync\b|\bawait\b|\baio\b", text)
    if leftover:
        line = text.count("\n", 0, leftover.start()) + 1
        raise SystemExit(f"{SOURCE}: {leftover.group()!r} survives the translation (output line {line})")
    text = _ruff_stdin(["check", "--fix", "--select", "I,F401", "--quiet"], text)
    return _ruff_stdin(["format", "--quiet"], text)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run clients/python/generate.sh")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
