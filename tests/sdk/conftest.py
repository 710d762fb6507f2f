"""Fixtures for the client SDK tests: clients of the live `server` fixture, blocking and asyncio.

The server under test runs on the tests' event loop, so the blocking `catapult.Client` must not
run on it: `ThreadedClient` drives it from the loop with every call (and every step of a listing)
in a worker thread. Tests written against `AsyncClient` run once with each client through the
`connect` fixture."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import pytest

import catapult
from catapult_server.server import CatapultServer

ConnectFn = Callable[..., catapult.AsyncClient]

_END = object()


class _ThreadedIterator:
    """An async iterator over a blocking iterator, each `next` in a worker thread (so lazily)."""

    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator = iterator

    def __aiter__(self) -> _ThreadedIterator:
        return self

    async def __anext__(self) -> Any:
        item = await asyncio.to_thread(next, self._iterator, _END)
        if item is _END:
            raise StopAsyncIteration
        return item


class ThreadedClient:
    """A blocking `catapult.Client` with AsyncClient's shape: each method call runs the Client's
    method in a worker thread; `list_*` iterators advance in worker threads."""

    def __init__(self, client: catapult.Client) -> None:
        self.sync = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.sync, name)
        if not callable(attribute):
            return attribute
        if name.startswith("list_"):
            return lambda *args, **kwargs: _ThreadedIterator(attribute(*args, **kwargs))

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(attribute, *args, **kwargs)

        return call

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]
