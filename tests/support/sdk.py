"""The Python SDK under test: the blocking `catapult.Client` driven from the tests' event loop,
with AsyncClient's shape.

The server under test runs on the tests' event loop, so the blocking Client must not run on it:
`ThreadedClient` runs every call (and every step of a listing or a watch) in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import catapult

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


class _ThreadedWatch(_ThreadedIterator):
    """A blocking `catapult.Watch` with AsyncWatch's shape: entering it, each `next` and closing it
    run in worker threads (so `close` reaches a `next` waiting in another thread, as a blocking
    program's other thread would)."""

    def __init__(self, watch: catapult.Watch) -> None:
        super().__init__(watch)
        self.sync = watch

    @property
    def cursor(self) -> str:
        return self.sync.cursor

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> _ThreadedWatch:
        await asyncio.to_thread(self.sync.__enter__)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class ThreadedClient:
    """A blocking `catapult.Client` with AsyncClient's shape: each method call runs the Client's
    method in a worker thread; `list_*` iterators and `watch_*` watches advance in worker threads."""

    def __init__(self, client: catapult.Client) -> None:
        self.sync = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.sync, name)
        if not callable(attribute):
            return attribute
        if name.startswith("list_"):
            return lambda *args, **kwargs: _ThreadedIterator(attribute(*args, **kwargs))
        if name.startswith("watch_"):  # a Watch opens nothing until entered or iterated
            return lambda *args, **kwargs: _ThreadedWatch(attribute(*args, **kwargs))

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(attribute, *args, **kwargs)

        return call

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]
