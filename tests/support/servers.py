"""The gRPC server under test, started and stopped on the tests' event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from catapult_server.config import Settings
from catapult_server.server import CatapultServer
from tests.support.ports import refusing_port

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
