"""`catapult up` starts Envoy in front of its server: REST on --http-port, the base URL in its
banner, Envoy restarted when it dies, and gone when the stack stops (Ctrl-C) or is killed."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.support.polling import wait_until
from tests.support.ports import free_port
from tests.support.stack import Stack, Stacks, alive, run_catapult


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


def healthcheck_http(stack: Stack) -> subprocess.CompletedProcess[str]:
    return run_catapult("healthcheck", "--http", f"127.0.0.1:{stack.http_port}", "--timeout", "5")


def test_a_killed_envoy_is_restarted(tmp_path: Path, stacks: Stacks) -> None:
    stack = stacks.start(Stack(tmp_path / "stack", "--workers", "2"))
    healthy = healthcheck_http(stack)
    assert (healthy.returncode, healthy.stdout) == (0, f"http://127.0.0.1:{stack.http_port}/api/health: ok\n")
    first = stack.envoy_pid()
    subprocess.run(["kill", "-KILL", str(first)], check=True)

    def answers() -> bool:
        try:
            return stack.get("/api/v1/models", stack.admin_key)[0] == 200
        except OSError:  # refused while Envoy is down
            return False

    wait_until(answers, 10, f"REST did not answer again within 10 s:\n{stack.context()}", interval=0.1)
    assert "Envoy died (signal 9); restarting in 1 s" in stack.output()
    wait_until(lambda: "Envoy restarted" in stack.output(), 10, stack.context())
    second = stack.envoy_pid()
    assert second != first and not alive(first)
    assert healthcheck_http(stack).returncode == 0
    assert stack.stop() == 0, stack.context()
    assert not alive(second)


def test_an_envoy_that_keeps_dying_stops_up(tmp_path: Path, stacks: Stacks) -> None:
    stack = stacks.start(Stack(tmp_path / "stack", "--workers", "2"))
    started = stack.started_pids()
    with socket.socket() as thief:
        # Envoy killed, and its port taken before the restart: every restart fails to bind.
        subprocess.run(["kill", "-KILL", str(stack.envoy_pid())], check=True)
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        wait_until(lambda: _bound(thief, stack.http_port), 5, "the HTTP port stayed taken")
        thief.listen()
        # Restarts after 1 + 2 + 4 + 8 s, each failing at once; the fifth death is too many.
        status = stack.process.wait(timeout=60)
    assert status == 1, stack.context()
    assert "catapult: Envoy died 5 times within 60 s" in stack.output(), stack.output()
    assert str(tmp_path / "stack" / "envoy.log") in stack.output()
    wait_until(lambda: not any(alive(pid) for pid in started), 10, "`up` left processes behind")
    down = healthcheck_http(stack)
    assert down.returncode == 1 and f"127.0.0.1:{stack.http_port}/api/health" in down.stderr


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:  # Envoy's listener not closed yet
        return False
    return True


def test_a_taken_http_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "s"
        result = run_catapult(
            "up", "--data-dir", str(data_dir), "--grpc-port", str(free_port()), "--http-port", str(port)
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{port} is already in use" in result.stderr and "--http-port" in result.stderr
    assert not data_dir.exists(), "nothing is started or written before the check"
