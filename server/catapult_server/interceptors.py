"""The edge of every catapult.v1 RPC: authenticate the key, check the role, validate the request
against the proto's field rules, and map domain errors to gRPC statuses (the one place that
mapping lives). Health and reflection pass through untouched (they need no key)."""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2, descriptor_pb2
from google.rpc import status_pb2

from catapult.v1 import (
    api_key_service_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    deployment_service_pb2,
    model_service_pb2,
    release_service_pb2,
    system_service_pb2,
)
from catapult_server.auth import Caller, KeyStore
from catapult_server.database import translate
from catapult_server.errors import CatapultError, Internal
from catapult_server.validation import validator_for

log = logging.getLogger(__name__)

SERVICE_MODULES = (
    model_service_pb2,
    release_service_pb2,
    artifact_service_pb2,
    deployment_service_pb2,
    api_key_service_pb2,
    audit_log_service_pb2,
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

_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("catapult_caller")


def current_caller() -> Caller:
    """The authenticated caller of the RPC being served."""
    return _caller.get()


def api_key_of(metadata: dict[str, str]) -> str:
    key = metadata.get("x-api-key", "")
    if not key:
        scheme, _, value = metadata.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    return key


def peer_of(context: grpc.aio.ServicerContext, metadata: dict[str, str]) -> str:
    peer = str(context.peer())
    forwarded = metadata.get("x-forwarded-for", "")
    return f"{peer} (x-forwarded-for {forwarded})" if forwarded else peer


# google.rpc.Code (the domain errors' codes) → grpc.StatusCode.
STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}


def to_error(error: Exception, method: str) -> CatapultError:
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
        trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),),
    )


class CatapultInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        # One guarded handler per method, built on its first call: the per-call work is only
        # what depends on the call (its metadata).
        self._guarded: dict[str, grpc.RpcMethodHandler] = {}

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
        if handler is None or handler.unary_unary is None or not method.startswith("/catapult.v1."):
            return handler
        guarded = self._guard(method, handler)
        self._guarded[method] = guarded
        return guarded

    def _guard(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        behavior = handler.unary_unary
        keys = self._keys
        validator = validator_for(METHODS[method].input_type)
        public = method in PUBLIC_METHODS
        writes = method in WRITE_METHODS
        admin_only = method.split("/")[1] in ADMIN_SERVICES

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                if not public:
                    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
                    caller = await keys.authenticate(api_key_of(metadata), peer_of(context, metadata))
                    if admin_only:
                        caller.require_admin()
                    elif writes:
                        caller.require_write()
                    _caller.set(caller)
                validator.check(request)
                return await behavior(request, context)
            except Exception as error:
                failure = to_error(error, method)
            await abort(context, failure)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
