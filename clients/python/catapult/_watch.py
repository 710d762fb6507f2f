"""A watch (WatchDeployments, WatchChanges) as an iterator of its events that resumes by itself:
blocking over ``grpc`` (:class:`Watch`) and asyncio over ``grpc.aio`` (:class:`AsyncWatch`).

A watch stream never ends by itself: it ends with an error. When the error says the server went
away (UNAVAILABLE: it is shutting down, or the connection was lost) or cut the stream off because it
was read too slowly (RESOURCE_EXHAUSTED ``WATCHER_TOO_SLOW``, whose metadata names the cursor to
resume from), the watch opens a new stream from the cursor of the last event it received, after a
backoff of its client's :class:`~catapult.RetryPolicy`: no change is missed and none comes twice.
An event or a heartbeat received resets the count; after ``max_attempts`` streams in a row that
end so before receiving anything, the error is raised. Any other error is raised at once.

The server sends the changes in batches (:class:`catapult.v1.change_pb2.ChangeBatch`); the watch
yields them one by one, and its cursor moves with each event yielded. A batch with no change (a
stream's first message, and an idle stream's heartbeat) moves the cursor and yields nothing. No
deadline applies unless the watch was given a ``timeout``, which then bounds the whole watch,
reconnections included.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, Self

import grpc
from google.protobuf.message import Message

from catapult._retry import RetryPolicy, log
from catapult._rpcs import Rpc
from catapult.errors import CatapultError, ResourceExhaustedError, UnavailableError, from_rpc_error
from catapult.v1 import change_pb2

__all__ = ["AsyncWatch", "Watch"]

ChangeEvent = change_pb2.ChangeEvent
ChangeBatch = change_pb2.ChangeBatch


class WatchState:
    """What both watches keep across streams: the request, the cursor, the attempts without
    progress and the deadline; and the decision to resume after an error."""

    def __init__(
        self, rpc: Rpc[Any, ChangeBatch], request: Message, policy: RetryPolicy, timeout: float | None
    ) -> None:
        self.rpc = rpc
        self._request = request
        self.policy = policy
        self.cursor: str = getattr(request, "cursor")  # noqa: B009 -- every watch request has a cursor
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.failures = 0

    def request(self) -> Message:
        """The request for the next stream: the first one's filters, from the cursor reached."""
        request = type(self._request)()
        request.CopyFrom(self._request)
        setattr(request, "cursor", self.cursor)  # noqa: B010
        return request

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def received(self, batch: ChangeBatch) -> list[ChangeEvent]:
        """The events of a batch, to yield one by one; a batch without any (the stream's first, a
        heartbeat) moves the cursor at once."""
        self.failures = 0
        if not batch.events and batch.cursor:
            self.cursor = batch.cursor
        return list(batch.events)

    def yielded(self, event: ChangeEvent) -> ChangeEvent:
        self.cursor = event.cursor
        return event

    def delay(self, error: CatapultError) -> float | None:
        """Seconds to wait before resuming after ``error``, or None when it is to be raised."""
        if isinstance(error, ResourceExhaustedError) and error.reason == "WATCHER_TOO_SLOW":
            self.cursor = error.metadata.get("cursor") or self.cursor
        elif not isinstance(error, UnavailableError):
            return None
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            return None
        delay = self.policy.backoff(self.failures)
        if self.deadline is not None and time.monotonic() + delay >= self.deadline:
            return None
        if self.cursor:
            log.warning(
                "catapult: %s stream ended (%s); attempt %d of %d, resuming after cursor %s in %.2f s",
                self.rpc.name,
                error,
                self.failures,
                self.policy.max_attempts,
                self.cursor,
                delay,
            )
        else:
            log.warning(
                "catapult: %s stream ended (%s) before its first message, so without a cursor: "
                "attempt %d of %d, resuming from now in %.2f s (what commits meanwhile is not "
                "delivered)",
                self.rpc.name,
                error,
                self.failures,
                self.policy.max_attempts,
                delay,
            )
        return delay


def _ended(rpc: Rpc[Any, Any]) -> UnavailableError:
    """The error of a stream the server ended without one (a proxy may): resumed like a lost connection."""
    return UnavailableError(f"the server ended the {rpc.name} stream", code=grpc.StatusCode.UNAVAILABLE)


class _Stream:
    """What both watches hold: the channel's callable, the call's metadata, the state kept across
    streams and the stream open now (None between two)."""

    def __init__(self, method: Any, metadata: Any, state: WatchState) -> None:
        self._method = method
        self._metadata = metadata
        self._state = state
        self._call: Any = None
        self._pending: deque[ChangeEvent] = deque()  # events of the last batch not yet yielded

    @property
    def cursor(self) -> str:
        """Where the watch stands: the cursor of the last event or heartbeat received (or the one it
        started from; ``""`` before any). Give it as ``cursor=`` to a later watch to receive every
        change after it."""
        return self._state.cursor

    def _new_call(self) -> Any:
        return self._method(self._state.request(), timeout=self._state.remaining(), metadata=self._metadata)

    def __del__(self) -> None:
        # A loop left by `break` drops the watch, not always its call (grpc.aio's is held in a
        # reference cycle until a garbage collection): cancel the stream now.
        call = getattr(self, "_call", None)
        if call is not None:
            call.cancel()


class Watch(_Stream):
    """The events of one watch, blocking: iterate over it (``for event in watch``), each event a
    :class:`catapult.ChangeEvent`; it resumes by itself after a lost connection (see
    :meth:`catapult.Client.watch_deployments`).

    ``with watch:`` opens the stream and returns once the server has it in place, so every change
    that commits in the block is delivered, and closes it after the block. Breaking out of a loop
    over a watch no one else holds closes it too (when it is garbage collected); :meth:`close`
    closes it at once, from any thread: an iteration waiting for an event then stops.
    """

    def __init__(self, method: Any, metadata: Any, state: WatchState) -> None:
        super().__init__(method, metadata, state)
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def close(self) -> None:
        """Cancel the stream; the iteration ends (an iteration waiting in another thread stops)."""
        with self._lock:
            self._closed.set()
            call, self._call = self._call, None
        if call is not None:
            call.cancel()

    def __enter__(self) -> Self:
        call = self._open()
        if call is not None:
            call.initial_metadata()  # the server has the stream in place (or ended it at once)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> ChangeEvent:
        while not self._pending:
            call = self._open()
            if call is None:
                raise StopIteration
            try:
                batch: ChangeBatch = next(call)
            except StopIteration:
                self._recover(call, _ended(self._state.rpc), None)
                continue
            except grpc.RpcError as err:
                self._recover(call, from_rpc_error(err), err)
                continue
            self._pending.extend(self._state.received(batch))
        return self._state.yielded(self._pending.popleft())

    def _open(self) -> Any:
        """The current stream, opened from the cursor if there is none; None once closed."""
        with self._lock:
            if self._closed.is_set():
                return None
            if self._call is None:
                self._call = self._new_call()
            return self._call

    def _recover(self, call: Any, error: CatapultError, cause: grpc.RpcError | None) -> None:
        """After ``call`` ended: wait to resume, or raise its error (StopIteration once closed)."""
        with self._lock:
            if self._call is call:
                self._call = None
        if self._closed.is_set():
            raise StopIteration
        delay = self._state.delay(error)
        if delay is None:
            self.close()
            raise error from cause
        if self._closed.wait(delay):
            raise StopIteration


class AsyncWatch(_Stream):
    """The events of one watch, for asyncio: iterate over it (``async for event in watch``), each
    event a :class:`catapult.ChangeEvent`; it resumes by itself after a lost connection (see
    :meth:`catapult.AsyncClient.watch_deployments`).

    ``async with watch:`` opens the stream and returns once the server has it in place, so every
    change that commits in the block is delivered, and closes it after the block. Breaking out of a
    loop over a watch no one else holds closes it too (when it is garbage collected);
    :meth:`close` closes it at once: an iteration waiting in another task then stops.
    """

    def __init__(self, method: Any, metadata: Any, state: WatchState) -> None:
        super().__init__(method, metadata, state)
        self._closed = asyncio.Event()

    async def close(self) -> None:
        """Cancel the stream; the iteration ends (one waiting in another task stops)."""
        self._closed.set()
        call, self._call = self._call, None
        if call is not None:
            call.cancel()

    async def __aenter__(self) -> Self:
        call = self._open()
        if call is not None:
            await call.initial_metadata()  # the server has the stream in place (or ended it at once)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChangeEvent:
        while not self._pending:
            call = self._open()
            if call is None:
                raise StopAsyncIteration
            try:
                batch = await call.read()
            except asyncio.CancelledError:
                self._forget(call)
                task = asyncio.current_task()
                if self._closed.is_set() and (task is None or not task.cancelling()):
                    raise StopAsyncIteration from None  # close() cancelled the call we waited on
                raise
            except grpc.RpcError as err:
                await self._recover(call, from_rpc_error(err), err)
                continue
            if batch is grpc.aio.EOF:
                await self._recover(call, _ended(self._state.rpc), None)
                continue
            self._pending.extend(self._state.received(batch))
        return self._state.yielded(self._pending.popleft())

    def _open(self) -> Any:
        """The current stream, opened from the cursor if there is none; None once closed."""
        if self._closed.is_set():
            return None
        if self._call is None:
            self._call = self._new_call()
        return self._call

    def _forget(self, call: Any) -> None:
        if self._call is call:
            self._call = None

    async def _recover(self, call: Any, error: CatapultError, cause: grpc.RpcError | None) -> None:
        """After ``call`` ended: wait to resume, or raise its error (StopAsyncIteration once closed)."""
        self._forget(call)
        if self._closed.is_set():
            raise StopAsyncIteration
        delay = self._state.delay(error)
        if delay is None:
            await self.close()
            raise error from cause
        try:
            async with asyncio.timeout(delay):
                await self._closed.wait()
        except TimeoutError:
            return
        raise StopAsyncIteration
