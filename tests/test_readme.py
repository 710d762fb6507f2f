"""README.md's examples run as written: its ```bash and ```python blocks, in document order, pasted
into one shell session against a fresh `make run` (a `catapult up` with a new data dir). Then the
Python SDK README's examples run in the same stack, as a user who read both would run them.

What differs from a user's machine is explicit: the stack's ports (free ones, so other stacks on
this machine are left alone; `localhost:50051` and `localhost:8080` in the blocks are rewritten to
them) and the checkout the blocks run in (a temporary directory linking to this repository's
entries, whose `.catapult` is the stack's own data dir). Blocks that cannot run here carry a
`<!-- not run: REASON -->` comment on the line before them; ```text blocks are figures."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO, VENV_BIN
from tests.support.readme import Block, fenced_blocks
from tests.support.stack import Stack, Stacks, cli_env

README = REPO / "README.md"
SDK_README = REPO / "clients" / "python" / "README.md"
RUNNABLE = {"bash", "python"}
FIGURES = {"text"}
# The addresses `make run` serves on, as the blocks spell them; the test's stack has its own ports.
GRPC_ADDRESS, REST_ADDRESS = "localhost:50051", "localhost:8080"
PYTHON_END = "END_OF_README_PYTHON_BLOCK"
# A user sees an HTTP error's JSON body on the terminal; the session needs a failing exit status for it.
PREAMBLE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


def runnable(path: Path) -> list[Block]:
    """The blocks of `path` to run; fails on a block that is neither runnable, a figure nor marked."""
    blocks, unmarked = [], []
    for block in fenced_blocks(path):
        if block.not_run is not None or block.language in FIGURES:
            continue
        if block.language in RUNNABLE:
            blocks.append(block)
        else:
            unmarked.append(f"{block.where} ```{block.language}")
    assert not unmarked, (
        "blocks neither runnable (```bash, ```python), a figure (```text) nor marked "
        "`<!-- not run: REASON -->` on the line before them: " + ", ".join(unmarked)
    )
    return blocks


def test_every_block_runs_or_says_why_not() -> None:
    blocks = runnable(README)
    assert any(block.language == "bash" for block in blocks)
    for block in blocks:
        rest = block.code.replace(GRPC_ADDRESS, "").replace(REST_ADDRESS, "")
        for port in (":50051", ":8080"):
            # Another spelling (127.0.0.1:50051, …) would escape the test's rewrite and reach
            # whatever listens on this machine's default ports.
            assert port not in rest, f"{block.where}: write {GRPC_ADDRESS} / {REST_ADDRESS}"
    skipped = [block for block in fenced_blocks(README) if block.not_run is not None]
    assert all(block.not_run for block in skipped), "each `not run` marker gives its reason"


def session_script(blocks: list[Block], grpc_port: int, http_port: int) -> str:
    """One bash script of the blocks in order, each announced on a line of its own on stderr (to
    tell which one failed)."""
    parts = []
    for block in blocks:
        code = block.code.replace(GRPC_ADDRESS, f"localhost:{grpc_port}")
        code = code.replace(REST_ADDRESS, f"localhost:{http_port}")
        parts.append(f"printf '\\n>>> %s\\n' '{block.where} ({block.language})' >&2\n")
        if block.language == "python":
            assert PYTHON_END not in code
            parts.append(f"{VENV_BIN / 'python'} - <<'{PYTHON_END}'\n{code}{PYTHON_END}\n")
        else:
            parts.append(code)
    return "".join(parts)


def checkout(tmp_path: Path) -> Path:
    """A directory that looks like this repository (each entry a link to it) but has no .catapult."""
    root = tmp_path / "catapult"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name != ".catapult":
            (root / entry.name).symlink_to(entry)
    return root


@pytest.mark.timeout(900)  # a first `go mod tidy` / `go run` may fetch and build the gRPC modules
def test_the_readmes_run_as_written_in_a_fresh_stack(tmp_path: Path, stacks: Stacks) -> None:
    for tool in ("curl", "jq", "go"):  # what the README asks of a fresh machine beyond `make install`
        assert shutil.which(tool), f"README.md's examples need {tool} on the PATH"
    cwd = checkout(tmp_path)
    stack = stacks.start(Stack(cwd / ".catapult", cwd=cwd))
    readme, sdk_readme = runnable(README), runnable(SDK_README)
    blocks = readme + sdk_readme
    script = (
        PREAMBLE
        + session_script(readme, stack.grpc_port, stack.http_port)
        # The SDK README's examples expect CATAPULT_ADDR and CATAPULT_API_KEY in the environment.
        + f"export CATAPULT_ADDR=localhost:{stack.grpc_port} CATAPULT_API_KEY=$(cat .catapult/admin-key)\n"
        + session_script(sdk_readme, stack.grpc_port, stack.http_port)
    )

    # Its own process group, so that a session that overruns is killed with everything it started.
    session = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=cli_env(TMPDIR=str(tmp_path)),  # what the blocks make with mktemp goes with the test
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = session.communicate(timeout=840)
    finally:
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
            session.wait()
    ran = [line.removeprefix(">>> ") for line in output.splitlines() if line.startswith(">>> ")]
    code = session.returncode
    assert code == 0, f"the block at {ran[-1] if ran else '?'} failed (exit {code}):\n{output[-6000:]}"
    assert ran == [f"{block.where} ({block.language})" for block in blocks], output[-3000:]
