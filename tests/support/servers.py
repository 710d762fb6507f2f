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


@asynccontextmanager
async def serve_process(database_url: str, log: Path, **settings: str) -> AsyncIterator[int]:
    """`catapult serve` as production runs it, in a process of its own on `database_url` (a
    replica: run two on one database); yields its gRPC port, and is stopped (SIGTERM) after the
    block. `settings` become CATAPULT_<NAME> variables."""
    port = free_port()
    env = cli_env(
        CATAPULT_DATABASE_URL=database_url,
        CATAPULT_KEY_PEPPER=TEST_PEPPER,
        CATAPULT_PAGE_TOKEN_SECRET=TEST_PEPPER,
        **{f"CATAPULT_{name.upper()}": value for name, value in settings.items()},
    )
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            CATAPULT,
            "serve",
            "--host",
            "127.0.0.1",
            "--grpc-port",
            str(port),
            "--workers",
            "1",  # one process per replica
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )

    async def serving() -> bool | None:
        if process.returncode is not None:
            raise AssertionError(f"`catapult serve` exited:\n{log.read_text()}")  # noqa: ASYNC240
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            except grpc.aio.AioRpcError:
                return None
        return True if reply.status == health_pb2.HealthCheckResponse.SERVING else None

    try:
        await poll_until(serving, within=START_WITHIN, interval=0.2)
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_WITHIN):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
