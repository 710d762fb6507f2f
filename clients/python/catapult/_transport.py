"""One unary call with the API key, a deadline, typed errors and retries on UNAVAILABLE, or one
watch (a server-streaming call that resumes by itself, catapult._watch): blocking over ``grpc``
(SyncTransport) and asyncio over ``grpc.aio`` (AsyncTransport)."""

# `timeout` is the gRPC deadline of a call (as in grpc.aio's own API): it is sent to the server
# and bounds the retries, which asyncio.timeout could not do.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, cast

import grpc

from catapult._channel import IDEMPOTENCY_KEY, auth_metadata, channel_options, check_target, credentials
from catapult._retry import RetryPolicy, log_retry
from catapult._rpcs import REQUEST_ID, Req, Resp, Rpc
from catapult._watch import AsyncWatch, ChangeBatch, Watch, WatchState
from catapult.errors import CatapultError, UnavailableError, from_rpc_error

_DEFAULT_POLICY = RetryPolicy()


class _Base:
    channel: Any  # a grpc.Channel or a grpc.aio.Channel: the same methods

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None,
        timeout: float | None,
        retry: RetryPolicy | None,
    ) -> None:
        self.target = check_target(target)
        self.timeout = timeout
        self.retry = _DEFAULT_POLICY if retry is None else retry
        self.metadata = auth_metadata(api_key)
        self._callables: dict[str, Any] = {}

    def deadline(self, timeout: float | None) -> float | None:
        """The monotonic time the whole call (all attempts) must end by, or None."""
        seconds = self.timeout if timeout is None else timeout
        return None if seconds is None else time.monotonic() + seconds

    def call_metadata(self, rpc: Rpc[Any, Any], request: Any) -> tuple[tuple[str, str], ...]:
        """The API key; for a create with a request_id, the id again as ``idempotency-key``: a
        proxy cannot read the request, and retries a create on another server only with it."""
        request_id = getattr(request, REQUEST_ID) if rpc.takes_request_id else ""
        return (*self.metadata, (IDEMPOTENCY_KEY, request_id)) if request_id else self.metadata

    @staticmethod
    def remaining(deadline: float | None) -> float | None:
        return None if deadline is None else max(deadline - time.monotonic(), 0.0)

    def next_delay(
        self, rpc: Rpc[Any, Any], error: CatapultError, attempt: int, deadline: float | None, retry: bool
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the error is final."""
        if not retry or not isinstance(error, UnavailableError) or attempt >= self.retry.max_attempts:
            return None
        delay = self.retry.backoff(attempt)
        if deadline is not None and time.monotonic() + delay >= deadline:
            return None
        log_retry(rpc.name, attempt, self.retry.max_attempts, delay, error.message)
        return delay

    def _callable(self, rpc: Rpc[Any, Any]) -> Any:
        """The channel's callable for ``rpc`` (grpc and grpc.aio channels have the same API)."""
        method = self._callables.get(rpc.path)
        if method is None:
            factory = self.channel.unary_stream if rpc.server_streaming else self.channel.unary_unary
            method = factory(
                rpc.path,
                request_serializer=rpc.request.SerializeToString,
                response_deserializer=rpc.response.FromString,
            )
            self._callables[rpc.path] = method
        return method

    def _watch_state(self, rpc: Rpc[Req, ChangeBatch], request: Req, timeout: float | None) -> WatchState:
        """A watch's state; unlike a call's, its deadline is its own ``timeout`` alone (default none)."""
        if not rpc.server_streaming:
            raise TypeError(f"{rpc.name} is a unary RPC: call() it")
        return WatchState(rpc, request, self.retry, timeout)

    @staticmethod
    def _unary(rpc: Rpc[Any, Any]) -> None:
        if rpc.server_streaming:
            raise TypeError(f"{rpc.name} streams its responses: watch() it")


class SyncTransport(_Base):
    """Blocking calls on a ``grpc`` channel."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None,
        tls: bool | grpc.ChannelCredentials,
        timeout: float | None,
        retry: RetryPolicy | None,
        options: Sequence[tuple[str, Any]],
    ) -> None:
        super().__init__(target, api_key=api_key, timeout=timeout, retry=retry)
        creds = credentials(tls)
        opts = channel_options(options)
        self.channel: grpc.Channel = (
            grpc.insecure_channel(self.target, options=opts)
            if creds is None
            else grpc.secure_channel(self.target, creds, options=opts)
        )

    def call(
        self, rpc: Rpc[Req, Resp], request: Req, *, timeout: float | None, retry: bool | None = None
    ) -> Resp:
        """Call ``rpc``; retry on UNAVAILABLE when ``retry`` (default: when the RPC has no side effects)."""
        self._unary(rpc)
        may_retry = rpc.no_side_effects if retry is None else retry
        deadline = self.deadline(timeout)
        method = self._callable(rpc)
        metadata = self.call_metadata(rpc, request)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = method(request, timeout=self.remaining(deadline), metadata=metadata)
                return cast(Resp, response)
            except grpc.RpcError as err:
                error = from_rpc_error(err)
                delay = self.next_delay(rpc, error, attempt, deadline, may_retry)
                if delay is None:
                    raise error from err
            time.sleep(delay)

    def watch(self, rpc: Rpc[Req, ChangeBatch], request: Req, *, timeout: float | None) -> Watch:
        """The events of the watch ``rpc``, resumed from the last cursor after UNAVAILABLE."""
        return Watch(self._callable(rpc), self.metadata, self._watch_state(rpc, request, timeout))

    def close(self) -> None:
        self.channel.close()


class AsyncTransport(_Base):
    """Awaitable calls on a ``grpc.aio`` channel."""

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None,
        tls: bool | grpc.ChannelCredentials,
        timeout: float | None,
        retry: RetryPolicy | None,
        options: Sequence[tuple[str, Any]],
    ) -> None:
        super().__init__(target, api_key=api_key, timeout=timeout, retry=retry)
        creds = credentials(tls)
        opts = channel_options(options)
        self.channel: grpc.aio.Channel = (
            grpc.aio.insecure_channel(self.target, options=opts)
            if creds is None
            else grpc.aio.secure_channel(self.target, creds, options=opts)
        )

    async def call(
        self, rpc: Rpc[Req, Resp], request: Req, *, timeout: float | None, retry: bool | None = None
    ) -> Resp:
        """Call ``rpc``; retry on UNAVAILABLE when ``retry`` (default: when the RPC has no side effects)."""
        self._unary(rpc)
        may_retry = rpc.no_side_effects if retry is None else retry
        deadline = self.deadline(timeout)
        method = self._callable(rpc)
        metadata = self.call_metadata(rpc, request)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await method(request, timeout=self.remaining(deadline), metadata=metadata)
                return cast(Resp, response)
            except grpc.RpcError as err:
                error = from_rpc_error(err)
                delay = self.next_delay(rpc, error, attempt, deadline, may_retry)
                if delay is None:
                    raise error from err
            await asyncio.sleep(delay)

    def watch(self, rpc: Rpc[Req, ChangeBatch], request: Req, *, timeout: float | None) -> AsyncWatch:
        """The events of the watch ``rpc``, resumed from the last cursor after UNAVAILABLE."""
        return AsyncWatch(self._callable(rpc), self.metadata, self._watch_state(rpc, request, timeout))

    async def close(self) -> None:
        await self.channel.close()
