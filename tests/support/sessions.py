"""Long-lived bash and Python processes that run code blocks one after another, as a person pastes
them into one terminal and one Python prompt: what a block defines (a variable, a function, an
import), the blocks after it can use.

Blocks reach the process through a pipe of its own, not its stdin, so a command in a block cannot
swallow the blocks after it (the commands' stdin is /dev/null). After each block the process
prints DONE and the block's status on a line of its own; the output before that line is the
block's."""

from __future__ import annotations

import base64
import contextlib
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

DONE = "__CODE_BLOCK_DONE__"

# Reads blocks from the fd in argv[1] ("WHERE SIZE\n" then SIZE characters of code) and runs each
# in one namespace, as a Python prompt would.
_PYTHON_DRIVER = f"""
import os, sys, traceback
blocks = os.fdopen(int(sys.argv[1]), encoding="utf-8")
namespace = {{"__name__": "__main__"}}
while header := blocks.readline():
    where, size = header.rsplit(" ", 1)
    code = blocks.read(int(size))
    try:
        exec(compile(code, where, "exec"), namespace)
        status = 0
    except SystemExit as stop:
        status = 0 if stop.code in (None, 0) else 1
    except BaseException:
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    print("\\n{DONE}", status, flush=True)
"""


class Session:
    def __init__(self, command: Callable[[int], list[str]], cwd: Path, env: Mapping[str, str]) -> None:
        """`command(fd)`: the command line of a process that reads its blocks from `fd`."""
        read_end, self._blocks = os.pipe()
        self.process = subprocess.Popen(
            command(read_end),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            pass_fds=(read_end,),
            start_new_session=True,  # a process group: close() ends it with all it started
        )
        os.close(read_end)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.decode(errors="replace"))
        self._lines.put(None)

    def _send(self, payload: str, timeout: float) -> tuple[bool, str]:
        """Write `payload`; (whether it ended with status 0, its output)."""
        os.write(self._blocks, payload.encode())
        output: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                return False, "".join(output) + f"\n[no end after {timeout} s]"
            if line is None:
                return False, "".join(output) + f"\n[exited with {self.process.wait()}]"
            if line.startswith(DONE):
                return line.split()[1] == "0", "".join(output)
            output.append(line)

    def close(self) -> None:
        """End of input; whatever is still running a moment later is killed, with its children."""
        os.close(self._blocks)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Shell(Session):
    """bash, reading its script from the pipe: `set -euo pipefail`, so a failing command ends it."""

    def __init__(self, cwd: Path, env: Mapping[str, str], preamble: str = "") -> None:
        super().__init__(lambda fd: ["bash", "--noprofile", "--norc", f"/dev/fd/{fd}"], cwd, env)
        ok, output = self.run(f"set -euo pipefail\n{preamble}")
        assert ok, output

    def run(self, code: str, timeout: float = 600) -> tuple[bool, str]:
        return self._send(f"{code}\nprintf '\\n%s %s\\n' {DONE} \"$?\"\n", timeout)

    def environment(self) -> dict[str, str]:
        """The variables the session exports now, and its working directory as PWD."""
        ok, output = self.run("export PWD; env -0 | base64 -w0; echo")
        assert ok, output
        pairs = base64.b64decode(output.strip().splitlines()[-1]).decode().split("\0")
        return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


class Python(Session):
    """A Python prompt: each block runs in one namespace; an exception fails the block."""

    def __init__(self, python: str, cwd: Path, env: Mapping[str, str]) -> None:
        super().__init__(lambda fd: [python, "-u", "-c", _PYTHON_DRIVER, str(fd)], cwd, env)

    def run(self, code: str, where: str = "<block>", timeout: float = 600) -> tuple[bool, str]:
        return self._send(f"{where} {len(code)}\n{code}", timeout)
