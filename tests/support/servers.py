"""The gRPC server under test, started and stopped on the tests' event loop."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catapult_server.config import Settings
from catapult_server.server import CatapultServer
from tests.support.paths import CATAPULT
from tests.support.polling import poll_until
from tests.support.ports import free_port, refusing_port
from tests.support.stack import START_WITHIN, cli_env

TEST_PEPPER = "test-pepper-not-a-secret-0123456789"

# Longer than any stop the tests ask for (grace ≤ 10 s, then the pool and the key flush).
STOP_WITHIN = 30.0


async def stop_server(server: CatapultServer, grace: float | None = None) -> None:
    """`server.stop(grace)`, failing the test (rather than hanging it until pytest-timeout) if
    the server does not stop within STOP_WITHIN seconds."""
    try:
        async with asyncio.timeout(STOP_WITHIN):
            await server.stop(grace)
    except TimeoutError:
        raise AssertionError(f"CatapultServer.stop() did not finish within {STOP_WITHIN} s") from None


@asynccontextmanager
async def running_server(settings: Settings) -> AsyncIterator[CatapultServer]:
    """A CatapultServer started for the block and stopped after it (no grace: the test is over)."""
    server = CatapultServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await stop_server(server, grace=0)


@asynccontextmanager
async def server_without_database() -> AsyncIterator[CatapultServer]:
    """A server whose PostgreSQL is down (its address refuses connections): it starts, reports
    NOT_SERVING and answers UNAVAILABLE."""
    with refusing_port() as port:
        settings = Settings(
            database_url=f"postgresql://catapult@127.0.0.1:{port}/catapult",
            key_pepper=TEST_PEPPER,
            page_token_secret=TEST_PEPPER,
            grpc_port=0,
            health_probe_seconds=0.2,
        )
        async with running_server(settings) as server:
            yield server


class ServeProcess:
    """`catapult serve` as production runs it, in a process of its own on `database_url` (a
    replica: run several on one database), on a port of its own that it keeps across restarts.
    `settings` become CATAPULT_<NAME> variables; the log of every start goes to `log`."""

    def __init__(self, database_url: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.log = log
        self.env = cli_env(
            CATAPULT_DATABASE_URL=database_url,
            CATAPULT_KEY_PEPPER=TEST_PEPPER,
            CATAPULT_PAGE_TOKEN_SECRET=TEST_PEPPER,
            **{f"CATAPULT_{name.upper()}": value for name, value in settings.items()},
        )
        self.process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, wait: bool = True) -> None:
        """Start it and return once its health says SERVING (or at once, without `wait`)."""
        with self.log.open("a") as output:
            self.process = await asyncio.create_subprocess_exec(
                CATAPULT,
                "serve",
                "--host",
                "127.0.0.1",
                "--grpc-port",
                str(self.port),
                "--workers",
                "1",  # one process per replica
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        if wait:
            await self.serving()

    async def serving(self) -> None:
        """Until its health says SERVING; fails the test if it exits, or after START_WITHIN s."""
        process = self.process
        assert process is not None, "not started"

        async def says_serving() -> bool | None:
            if process.returncode is not None:
                raise AssertionError(f"`catapult serve` exited:\n{self.log.read_text()}")
            async with grpc.aio.insecure_channel(self.address) as channel:
                try:
                    reply = await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                except grpc.aio.AioRpcError:
                    return None
            return True if reply.status == health_pb2.HealthCheckResponse.SERVING else None

        await poll_until(says_serving, within=START_WITHIN, interval=0.2)

    def kill(self) -> None:
        """SIGKILL: no drain, the calls in flight are cut off."""
        assert self.process is not None, "not started"
        self.process.kill()

    def terminate(self) -> None:
        """SIGTERM: the server drains (stop() waits for it to exit)."""
        assert self.process is not None, "not started"
        self.process.terminate()

    async def exited(self) -> int:
        """Wait for the process to exit (within STOP_WITHIN s); its exit status."""
        assert self.process is not None, "not started"
        async with asyncio.timeout(STOP_WITHIN):
            return await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait, SIGKILL if it takes longer than STOP_WITHIN s; nothing if not running."""
        if not self.running:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            await self.exited()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def serve_process(database_url: str, log: Path, **settings: str) -> AsyncIterator[int]:
    """A ServeProcess for the block; yields its gRPC port, and is stopped (SIGTERM) after it."""
    replica = ServeProcess(database_url, log, **settings)
    try:
        await replica.start()
        yield replica.port
    finally:
        await replica.stop()


@asynccontextmanager
async def replicas(
    database_url: str, logs: Path, count: int, **settings: str
) -> AsyncIterator[list[ServeProcess]]:
    """`count` ServeProcesses on one database for the block, started together; every one still
    running is stopped after it. Their logs are replica-N.log in `logs`."""
    started = [ServeProcess(database_url, logs / f"replica-{n}.log", **settings) for n in range(1, count + 1)]
    try:
        await asyncio.gather(*(replica.start() for replica in started))
        yield started
    finally:
        await asyncio.gather(*(replica.stop() for replica in started))
