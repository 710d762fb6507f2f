"""The edge of every catapult.v1 RPC: authenticate the key, check the role, validate the request
against the proto's field rules, and map domain errors to gRPC statuses (the one place that
mapping lives). Health and reflection pass through untouched (they need no key)."""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2, descriptor_pb2
from google.rpc import status_pb2

from catapult.v1 import (
    api_key_service_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    change_service_pb2,
    deployment_service_pb2,
    model_service_pb2,
    release_service_pb2,
    system_service_pb2,
)
from catapult_server import idempotency
from catapult_server.auth import Caller, KeyStore
from catapult_server.config import Settings
from catapult_server.database import Database, translate
from catapult_server.errors import (
    CatapultError,
    Conflict,
    DatabaseUnavailable,
    DeadlinePassed,
    Internal,
    InvalidArgument,
    PermissionDenied,
    ShuttingDown,
)
from catapult_server.services import audit_logs
from catapult_server.validation import validator_for

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

log = logging.getLogger(__name__)

SERVICE_MODULES = (
    model_service_pb2,
    release_service_pb2,
    artifact_service_pb2,
    deployment_service_pb2,
    api_key_service_pb2,
    audit_log_service_pb2,
    change_service_pb2,
    system_service_pb2,
)
# The catapult.v1 services, from the generated descriptors.
SERVICES = [service for module in SERVICE_MODULES for service in module.DESCRIPTOR.services_by_name.values()]
PUBLIC_METHODS = {"/catapult.v1.SystemService/Health"}
ADMIN_SERVICES = {"catapult.v1.ApiKeyService"}
METHODS = {
    f"/{service.full_name}/{method.name}": method for service in SERVICES for method in service.methods
}
# RPCs that change the registry: every one not marked NO_SIDE_EFFECTS in the protos.
WRITE_METHODS = {
    path
    for path, method in METHODS.items()
    if method.GetOptions().idempotency_level != descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
}
# The creates: their request carries an AIP-155 request_id.
TAKES_REQUEST_ID = {
    path for path, method in METHODS.items() if idempotency.REQUEST_ID in method.input_type.fields_by_name
}

_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("catapult_caller")
# Checks again that the caller's key is valid (a long stream asks every second: a revoked or
# expired key ends it as it would end any other call).
_recheck: contextvars.ContextVar[Callable[[], Awaitable[None]]] = contextvars.ContextVar("catapult_recheck")


def current_caller() -> Caller:
    """The authenticated caller of the RPC being served."""
    return _caller.get()


def key_recheck() -> Callable[[], Awaitable[None]]:
    """For the RPC being served: a check that raises if its key has been revoked or has expired."""
    return _recheck.get()


def api_key_of(metadata: dict[str, str]) -> str:
    key = metadata.get("x-api-key", "")
    if not key:
        scheme, _, value = metadata.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    return key


def peer_of(context: grpc.aio.ServicerContext, metadata: dict[str, str], trusted: Sequence[IPNetwork]) -> str:
    """Who the audit log names as the caller's address. Envoy replaces x-forwarded-for with the
    address of the client it accepted; the header is believed only from a trusted proxy (Envoy's
    own address), as anyone else could write anything in it."""
    peer = str(context.peer())
    forwarded = metadata.get("x-forwarded-for", "").split(",")[0].strip()
    if forwarded and _address_of(peer) in trusted:
        return f"{forwarded} (via {peer})"
    return peer


def _address_of(peer: str) -> IPAddress | None:
    """The IP address of a gRPC peer string, "ipv4:127.0.0.1:5050" or "ipv6:[::1]:5050"."""
    kind, _, rest = peer.partition(":")
    host = rest.rpartition(":")[0].strip("[]") if kind in ("ipv4", "ipv6") else ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class _Trusted(tuple[IPNetwork, ...]):
    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) and any(
            address in network for network in self
        )


# google.rpc.Code (the domain errors' codes) → grpc.StatusCode.
STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}
# A serialization failure or deadlock rolls the whole transaction back: the call is run again,
# a few times, before the client is told ABORTED (CONCURRENT_CHANGE).
CONFLICT_ATTEMPTS = 4


def to_error(error: BaseException, method: str) -> CatapultError:
    """The domain error to report: the error itself, a driver error a Database block did not
    see (e.g. raised while connecting), or INTERNAL with a trace id for a bug."""
    if isinstance(error, CatapultError):
        return error
    translated = translate(error)
    if translated is not None:
        return translated
    trace_id = uuid.uuid4().hex[:16]
    log.error("internal error in %s (trace id %s)", method, trace_id, exc_info=error)
    return Internal(trace_id)


def to_status(error: CatapultError) -> status_pb2.Status:
    """AIP-193: a google.rpc.Status with the ErrorInfo first, then the error's other details."""
    details = []
    for detail in [error.error_info(), *error.details()]:
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    return status_pb2.Status(code=error.code, message=error.message, details=details)


async def abort(context: grpc.aio.ServicerContext, error: CatapultError) -> None:
    status = to_status(error)
    await context.abort(
        STATUS_CODES[error.code],
        error.message,
        trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()), *error.trailers()),
    )


@dataclass(frozen=True)
class Undecodable:
    """A request message that could not be parsed (invalid UTF-8, nesting past protobuf's
    limit, wrong wire types): answered INVALID_ARGUMENT by the interceptor, not a bare error
    from gRPC's deserializer."""

    message_name: str
    error: str


def _tolerant(deserialize: Callable[[bytes], Any], message_name: str) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:  # the protobuf runtime's DecodeError, RecursionError, …
            return Undecodable(message_name, str(error)[:200])

    return parse


def _encoded_or(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """A stream's serializer that passes bytes through: a watch sends its batches encoded
    already (changes.py encodes each change once, for every stream that sends it)."""
    return lambda message: message if isinstance(message, bytes) else serialize(message)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned call's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


class CatapultInterceptor(grpc.aio.ServerInterceptor):
    """Admits each catapult.v1 call (the server is not draining, the request parses, the key is
    valid and its role allows the call, the request follows the rules), runs it within the
    request timeout (or the caller's deadline, if sooner), retries it when the database chose
    it to give way in a conflict, and reports every failure as a google.rpc.Status."""

    def __init__(
        self, keys: KeyStore, db: Database, settings: Settings, after_write: Callable[[], None]
    ) -> None:
        self._keys = keys
        self._db = db
        # Called once a call that changes the registry has succeeded (the change feed's nudge).
        self._after_write = after_write
        self._timeout = settings.request_timeout
        self._trusted = _Trusted(ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies)
        # One guarded handler per method, built on its first call: the per-call work is only
        # what depends on the call (its metadata).
        self._guarded: dict[str, grpc.RpcMethodHandler] = {}
        # Draining (shutdown): new calls are refused UNAVAILABLE while those in flight finish.
        self.draining = False
        self.in_flight = 0
        # time.monotonic() of the drain's start, then of each call refused while draining.
        self._last_refused = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = details.method
        guarded = self._guarded.get(method)
        if guarded is not None:
            return guarded
        handler = await continuation(details)
        if handler is None or not method.startswith("/catapult.v1."):
            return handler
        parse = _tolerant(handler.request_deserializer, METHODS[method].input_type.full_name)
        serialize = handler.response_serializer
        if handler.unary_unary is not None:
            guarded = grpc.unary_unary_rpc_method_handler(
                self._guard(method, handler.unary_unary), parse, serialize
            )
        elif handler.unary_stream is not None:
            guarded = grpc.unary_stream_rpc_method_handler(
                self._guard_stream(method, handler.unary_stream), parse, _encoded_or(serialize)
            )
        else:
            return handler
        self._guarded[method] = guarded
        return guarded

    async def drained(self, grace: float) -> bool:
        """Refuse new calls from now on; wait until the calls in flight have finished (True) or
        `grace` seconds have passed (False)."""
        self.draining = True
        self._last_refused = time.monotonic()
        if self.in_flight == 0:
            return True
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def callers_gone(self, quiet: float, within: float) -> bool:
        """While draining: until no call has been refused for `quiet` seconds (True), or `within`
        seconds have passed (False). A proxy that health-checks the server stops sending calls a
        moment after it turns NOT_SERVING; closing the port before then would cut the calls on
        their way in, which the proxy could not tell from calls that ran."""
        deadline = time.monotonic() + within
        while True:
            left = self._last_refused + quiet - time.monotonic()
            if left <= 0:
                return True
            if time.monotonic() + left > deadline:
                await asyncio.sleep(max(deadline - time.monotonic(), 0))
                return False
            await asyncio.sleep(left)

    async def _admit(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> Caller | None:
        """The caller, after every check a call must pass before it runs (None: a public call)."""
        if self.draining:
            self._last_refused = time.monotonic()
            raise ShuttingDown()
        if isinstance(request, Undecodable):
            raise InvalidArgument.field("request", f"is not a valid {request.message_name}: {request.error}")
        if method in PUBLIC_METHODS:
            return None
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        if method in TAKES_REQUEST_ID:
            idempotency.adopt_header(request, metadata)
        key, peer = api_key_of(metadata), peer_of(context, metadata, self._trusted)
        caller = await self._keys.authenticate(key, peer)

        async def recheck() -> None:
            await self._keys.authenticate(key, peer)

        _recheck.set(recheck)
        try:
            if method.split("/")[1] in ADMIN_SERVICES:
                caller.require_admin()
            elif method in WRITE_METHODS:
                caller.require_write()
        except PermissionDenied as denied:
            await audit_logs.record_denial(self._db, caller, method, denied)
            raise
        _caller.set(caller)
        return caller

    async def _within_budget(self, context: grpc.aio.ServicerContext, call: Awaitable[Any]) -> Any:
        """The call, its key lookup included, bounded by the request timeout or the caller's
        deadline, whichever is sooner: a database that does not answer (frozen, partitioned)
        makes it UNAVAILABLE or DEADLINE_EXCEEDED, never a hung call. The answer goes out on
        time; the abandoned call is cancelled and cleans up (its connection's rollback may wait
        on the same silent database) after."""
        deadline = context.time_remaining()
        budget = self._timeout if deadline is None else min(self._timeout, deadline)
        running = asyncio.ensure_future(call)
        done, _ = await asyncio.wait({running}, timeout=budget)
        if running in done:
            return running.result()
        running.cancel()
        running.add_done_callback(_retrieve)
        if deadline is not None and deadline <= self._timeout:
            raise DeadlinePassed()
        raise DatabaseUnavailable()

    @staticmethod
    async def _retrying(behavior: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        """The call, run again (a few times) when a concurrent transaction won a conflict."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await behavior(request, context)
            except Conflict:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _guard(self, method: str, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        validator = validator_for(METHODS[method].input_type)
        writes = method in WRITE_METHODS

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self.in_flight += 1
            self._idle.clear()

            async def call() -> Any:
                await self._admit(method, request, context)
                validator.check(request)
                response = await self._retrying(behavior, request, context)
                if writes:
                    self._after_write()
                return response

            try:
                return await self._within_budget(context, call())
            except Exception as error:
                failure = to_error(error, method)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self._idle.set()
            await abort(context, failure)

        return guarded

    def _guard_stream(
        self, method: str, behavior: Callable[..., AsyncIterator[Any]]
    ) -> Callable[..., AsyncIterator[Any]]:
        """A server-streaming call (a watch): admitted as a unary one (within the request timeout),
        then streamed for as long as the client reads. A stream is not a call in flight for the
        drain: stopping the server ends it (UNAVAILABLE) rather than waiting for it."""
        validator = validator_for(METHODS[method].input_type)

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._admit(method, request, context)
                validator.check(request)
                async for response in behavior(request, context):
                    yield response
                return
            except Exception as error:
                failure = to_error(error, method)
            await abort(context, failure)

        return guarded
