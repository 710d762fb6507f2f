"""README.md's examples run as written: its ```bash and ```python blocks, in document order, as a
person pastes them into one terminal and one Python prompt beside it, against a fresh `make run`
(a `catapult up` with a new data dir). Then the Python SDK README's examples run in the same stack,
as a user who read both would run them.

What differs from a user's machine is explicit: the stack's ports (free ones, so other stacks on
this machine are left alone: `localhost:50051` and `localhost:8080` in the blocks are rewritten to
them, and CATAPULT_ADDR names the gRPC one for the scripts and commands whose default is
localhost:50051); the checkout the blocks run in (a temporary directory linking to this
repository's entries, whose `.catapult` is the stack's own data dir); and where `go install` puts
commands (a GOPATH of the test's, so the machine's $(go env GOPATH)/bin is left alone). Blocks that
cannot run here carry a `<!-- not run: REASON -->` comment on the line before them; ```text blocks
are figures."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.paths import REPO, VENV_BIN
from tests.support.readme import Block, fenced_blocks
from tests.support.sessions import Python, Shell
from tests.support.stack import Stack, Stacks, cli_env

README = REPO / "README.md"
SDK_README = REPO / "clients" / "python" / "README.md"
RUNNABLE = {"bash", "python"}
FIGURES = {"text"}
# The addresses `make run` serves on, as the blocks spell them; the test's stack has its own ports.
GRPC_ADDRESS, REST_ADDRESS = "localhost:50051", "localhost:8080"
# A person sees an HTTP error's JSON body on the terminal; the session needs a failing exit status
# for it. (Unless the command asks for --fail itself: curl takes only one of the two.)
CURL_FAILS_ON_HTTP_ERRORS = """
curl() {
  local arg
  for arg in "$@"; do
    case $arg in --fail | --fail-with-body | -[!-]*f*) command curl "$@"; return ;; esac
  done
  command curl --fail-with-body "$@"
}
"""


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
    for path in (README, SDK_README):
        blocks = runnable(path)
        assert blocks
        for block in blocks:
            rest = block.code.replace(GRPC_ADDRESS, "").replace(REST_ADDRESS, "")
            for port in (":50051", ":8080"):
                # Another spelling (127.0.0.1:50051, …) would escape the test's rewrite and reach
                # whatever listens on this machine's default ports.
                assert port not in rest, f"{block.where}: write {GRPC_ADDRESS} / {REST_ADDRESS}"
        skipped = [block for block in fenced_blocks(path) if block.not_run is not None]
        assert all(block.not_run for block in skipped), "each `not run` marker gives its reason"


def go_env(name: str) -> str:
    return subprocess.run(["go", "env", name], capture_output=True, text=True, check=True).stdout.strip()


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

    def as_here(code: str) -> str:
        return code.replace(GRPC_ADDRESS, f"localhost:{stack.grpc_port}").replace(
            REST_ADDRESS, f"localhost:{stack.http_port}"
        )

    environment = cli_env(
        CATAPULT_ADDR=as_here(GRPC_ADDRESS),
        GOPATH=str(tmp_path / "go"),
        GOMODCACHE=go_env("GOMODCACHE"),  # the machine's module cache all the same: nothing to fetch again
        TMPDIR=str(tmp_path),  # what the blocks make with mktemp goes with the test
    )
    with ExitStack() as sessions:
        shell = Shell(cwd, environment, preamble=CURL_FAILS_ON_HTTP_ERRORS)
        sessions.callback(shell.close)
        for document in (README, SDK_README):
            if document == SDK_README:
                # Its examples expect CATAPULT_ADDR and CATAPULT_API_KEY in the environment.
                ok, output = shell.run("export CATAPULT_API_KEY=$(cat .catapult/admin-key)")
                assert ok, output
            python: Python | None = None  # a Python prompt per document, opened by its first block
            for block in runnable(document):
                if block.language == "bash":
                    ok, output = shell.run(as_here(block.code))
                else:
                    if python is None:
                        environment = shell.environment()  # started from the terminal, as it is now
                        python = Python(str(VENV_BIN / "python"), Path(environment["PWD"]), environment)
                        sessions.callback(python.close)
                    ok, output = python.run(as_here(block.code), block.where)
                assert ok, f"the block at {block.where} failed:\n{output[-6000:]}"
