"""`catapult up` starts Envoy in front of its server: REST on --http-port, the base URL in its
banner, and Envoy gone when the stack stops (Ctrl-C) or is killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CATAPULT = str(Path(sys.executable).parent / "catapult")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


class Stack:
    def __init__(self, data_dir: Path, grpc_port: int, http_port: int) -> None:
        self.data_dir, self.http_port = data_dir, http_port
        self.log = data_dir.parent / f"up-{grpc_port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
        self.proc = subprocess.Popen(
            [
                CATAPULT,
                "up",
                "--data-dir",
                str(data_dir),
                "--grpc-port",
                str(grpc_port),
                "--http-port",
                str(http_port),
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        wait_until(lambda: "is up" in self.output() or self.proc.poll() is not None, 90, "no banner")
        assert self.proc.poll() is None, self.context()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def context(self) -> str:
        """What to show when an assertion fails: the stack's output and Envoy's log."""
        envoy_log = self.data_dir / "envoy.log"
        return (
            self.output()
            + "\n--- envoy.log ---\n"
            + (envoy_log.read_text()[-3000:] if envoy_log.exists() else "")
        )

    def envoy_pid(self) -> int:
        return int((self.data_dir / "envoy.pid").read_text())

    def get(self, path: str, key: str = "") -> tuple[int, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}")
        if key:
            request.add_header("X-API-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)


def test_up_serves_rest_through_envoy_and_stops_it(tmp_path: Path) -> None:
    http_port = free_port()
    stack = Stack(tmp_path / "stack", free_port(), http_port)
    try:
        assert f"http://127.0.0.1:{http_port}/api/v1" in stack.output()
        assert f"http://127.0.0.1:{http_port}/api/openapi.json" in stack.output()
        key = (tmp_path / "stack" / "admin-key").read_text().strip()
        assert stack.get("/api/health")[0] == 200, stack.context()
        status, body = stack.get("/api/v1/models", key)
        assert (status, body) == (200, {"models": [], "next_page_token": ""}), stack.context()
        assert stack.get("/api/v1/models")[0] == 401, stack.context()
        pid = stack.envoy_pid()
        assert alive(pid), stack.context()

        stack.proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert stack.proc.wait(timeout=60) == 0, stack.context()
        assert not alive(pid), f"Envoy outlived `catapult up`:\n{stack.context()}"
    finally:
        if stack.proc.poll() is None:
            stack.proc.kill()
            stack.proc.wait()


def test_a_killed_stack_takes_envoy_with_it(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "stack", free_port(), free_port())
    postgres = tmp_path / "stack" / "postgres" / "postmaster.pid"
    try:
        pid = stack.envoy_pid()
        stack.proc.kill()
        stack.proc.wait()
        wait_until(lambda: not alive(pid), 10, "Envoy outlived a killed `catapult up`")
    finally:
        if stack.proc.poll() is None:
            stack.proc.kill()
            stack.proc.wait()
        # A killed stack cannot stop its embedded PostgreSQL: stop it here (fast shutdown).
        if postgres.exists():
            postmaster = int(postgres.read_text().split()[0])
            os.kill(postmaster, signal.SIGINT)
            wait_until(lambda: not alive(postmaster), 30, "PostgreSQL did not stop")


def test_a_taken_http_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
        result = subprocess.run(
            [
                CATAPULT,
                "up",
                "--data-dir",
                str(tmp_path / "s"),
                "--grpc-port",
                str(free_port()),
                "--http-port",
                str(port),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--http-port" in result.stderr
