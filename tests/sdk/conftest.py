"""Fixtures for the client SDK tests: clients of the live `server` fixture, blocking and asyncio.
Tests written against `AsyncClient` run once with each client through the `connect` fixture (the
blocking one wrapped in tests.support.sdk.ThreadedClient)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

import catapult
from catapult_server.server import CatapultServer
from tests.support.sdk import ConnectFn, ThreadedClient


@pytest.fixture
def target(server: CatapultServer) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Which client a test runs with: the blocking Client ("sync") or AsyncClient ("async")."""
    value: str = request.param
    return value


@pytest.fixture
async def connect(target: str, flavour: str) -> AsyncIterator[ConnectFn]:
    """connect(api_key, target=None, **options) -> a client of the live server (or of `target`),
    of the test's flavour, typed as AsyncClient (the blocking one is wrapped in ThreadedClient);
    closed after the test."""
    opened: list[Any] = []

    def make(api_key: str | None = None, *, target: str = target, **options: Any) -> catapult.AsyncClient:
        client: Any
        if flavour == "sync":
            client = ThreadedClient(catapult.Client(target, api_key=api_key, **options))
        else:
            client = catapult.AsyncClient(target, api_key=api_key, **options)
        opened.append(client)
        return cast(catapult.AsyncClient, client)

    yield make
    for client in opened:
        await client.close()


@pytest.fixture
def client(connect: ConnectFn, writer_key: str) -> catapult.AsyncClient:
    """A client with a writer key."""
    return connect(writer_key)


@pytest.fixture
def admin(connect: ConnectFn, admin_key: str) -> catapult.AsyncClient:
    """A client with an admin key."""
    return connect(admin_key)
