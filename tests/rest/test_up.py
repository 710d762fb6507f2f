"""`catapult up` starts Envoy in front of its server: REST on --http-port, the base URL in its
banner, and Envoy gone when the stack stops (Ctrl-C) or is killed."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.support.paths import CATAPULT
from tests.support.polling import wait_until
from tests.support.ports import free_port
from tests.support.stack import Stack, Stacks, alive, cli_env


def test_up_serves_rest_through_envoy_and_stops_it(tmp_path: Path, stacks: Stacks) -> None:
    stack = stacks.start(Stack(tmp_path / "stack"))
    assert f"http://127.0.0.1:{stack.http_port}/api/v1" in stack.output()
    assert f"http://127.0.0.1:{stack.http_port}/api/openapi.json" in stack.output()
    key = stack.admin_key
    assert stack.get("/api/health")[0] == 200, stack.context()
    status, body = stack.get("/api/v1/models", key)
    assert (status, body) == (200, {"models": [], "next_page_token": ""}), stack.context()
    assert stack.get("/api/v1/models")[0] == 401, stack.context()
    pid = stack.envoy_pid()
    assert alive(pid), stack.context()

    assert stack.stop() == 0, stack.context()  # Ctrl-C
    assert not alive(pid), f"Envoy outlived `catapult up`:\n{stack.context()}"


def test_a_killed_stack_takes_envoy_with_it(tmp_path: Path, stacks: Stacks) -> None:
    stack = stacks.start(Stack(tmp_path / "stack"))
    pid = stack.envoy_pid()
    stack.kill()
    wait_until(lambda: not alive(pid), 10, "Envoy outlived a killed `catapult up`")
    # The embedded PostgreSQL a killed stack cannot stop is the fixture's to stop.


def test_a_taken_http_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["--data-dir", str(tmp_path / "s"), "--grpc-port", str(free_port()), "--http-port", str(port)]
        result = subprocess.run(
            [CATAPULT, "up", *args],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=120,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--http-port" in result.stderr
