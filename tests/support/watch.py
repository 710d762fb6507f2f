"""Following a watch stream from a test: the events arrive in the background while the test
writes, and the test waits for what it expects with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from catapult.v1 import change_pb2, change_service_pb2, deployment_service_pb2
from tests.support.api import Stubs, auth


class Watching:
    """The events of one watch call, read as they come; its heartbeats (batches with no change)
    kept apart."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.events: list[change_pb2.ChangeEvent] = []
        self.heartbeats: list[change_pb2.ChangeBatch] = []
        self.batches = 0  # messages with changes
        # When each event arrived (time.monotonic()), index for index with `events`.
        self.arrived: list[float] = []
        self.error: grpc.aio.AioRpcError | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for batch in self.call:
                if batch.events:
                    assert batch.cursor == batch.events[-1].cursor, "a batch's cursor is its last change's"
                    self.batches += 1
                    self.events.extend(batch.events)
                    self.arrived.extend([time.monotonic()] * len(batch.events))
                else:
                    self.heartbeats.append(batch)
                self._changed.set()
        except grpc.aio.AioRpcError as error:
            self.error = error
        self._changed.set()

    async def until(
        self, done: Callable[[Watching], bool], within: float = 5.0, what: str = "events"
    ) -> None:
        """Wait until `done(self)`, failing after `within` s with what arrived."""
        deadline = time.monotonic() + within
        while not done(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._task.done() and not done(self)):
                raise AssertionError(
                    f"{what}: not within {within} s; got {[(e.type, e.resource_type) for e in self.events]}"
                    f", error {self.error and self.error.code()}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()

    async def count(self, n: int, within: float = 5.0) -> list[change_pb2.ChangeEvent]:
        await self.until(lambda w: len(w.events) >= n, within, f"{n} events")
        return self.events[:n]

    async def ended(self, within: float = 5.0) -> grpc.aio.AioRpcError:
        """The error that ended the stream."""
        await self.until(lambda w: w._task.done(), within, "the stream's end")
        assert self.error is not None, "the stream ended without an error"
        return self.error

    @property
    def cursor(self) -> str:
        return self.events[-1].cursor

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@asynccontextmanager
async def watching(call: Any) -> AsyncIterator[Watching]:
    """A Watching of `call` for the block, cancelled after it."""
    watch = Watching(call)
    try:
        yield watch
    finally:
        await watch.close()


async def started(watch: Watching) -> Watching:
    """Wait until the server has admitted the stream (its initial metadata arrived), so that
    what the test writes next is after the watch began."""
    await watch.call.initial_metadata()
    return watch


def watch_changes(stubs: Stubs, key: str, **request: Any) -> Any:
    """A WatchChanges call with `key`."""
    return stubs.changes.WatchChanges(change_service_pb2.WatchChangesRequest(**request), metadata=auth(key))


def watch_deployments(stubs: Stubs, key: str, **request: Any) -> Any:
    """A WatchDeployments call with `key`."""
    return stubs.deployments.WatchDeployments(
        deployment_service_pb2.WatchDeploymentsRequest(**request), metadata=auth(key)
    )
