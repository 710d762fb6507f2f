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
    """`server.stop(grace)`, made unable to hang.

    CatapultServer.stop() cancels its background tasks (the database health probe, …) once and waits
    for them to end. On Python 3.11, asyncio.wait_for (which the probe's ping runs in) swallows a
    cancellation that lands just as the ping completes (fixed in 3.12), so the probe carried on and
    stop() waited for ever: a fixture teardown hung until pytest-timeout. Cancel them again until
    they end, and fail, naming what hung, after STOP_WITHIN seconds."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.ensure_future(server.stop(grace))
    deadline = loop.time() + STOP_WITHIN
    while not (await asyncio.wait({stopping}, timeout=0.5))[0]:
        for task in _background_tasks(server):
            if not task.done():
                task.cancel()
        if loop.time() > deadline:
            stopping.cancel()
            raise AssertionError(f"CatapultServer.stop() did not finish within {STOP_WITHIN} s")
    stopping.result()


def _background_tasks(server: CatapultServer) -> list[asyncio.Task[None]]:
    """The server's own tasks (private attributes: this works around a server bug, see above)."""
    tasks: list[asyncio.Task[None]] = list(getattr(server, "_background", []))
    probe: asyncio.Task[None] | None = getattr(server, "_probe", None)
    return [*tasks, probe] if probe is not None else tasks


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
