"""Typed errors of the Catapult client.

Every failed call raises a subclass of :class:`CatapultError` chosen by its gRPC status code. Each
carries the ``google.rpc.ErrorInfo`` reason the server attached (``"ETAG_MISMATCH"``,
``"HAS_CHILDREN"``, … — the names of ``catapult.v1.ErrorReason``), so callers branch on
``err.reason`` rather than on message text::

    try:
        client.delete_model("llama-3-7b-companyA")
    except catapult.FailedPreconditionError as err:
        if err.reason == "HAS_CHILDREN":
            ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "AlreadyExistsError",
    "CatapultError",
    "ConflictError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "UnauthenticatedError",
    "UnavailableError",
    "from_rpc_error",
]

_STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field of a request, from the server's ``google.rpc.BadRequest``."""

    field: str
    """The field's path in the request, e.g. ``"model.name"`` or ``"page_size"``."""
    description: str
    """What is wrong with it."""


class CatapultError(Exception):
    """A call to the Catapult server failed.

    Attributes:
        code: the gRPC status code.
        message: the server's message (for developers; do not parse it).
        reason: the ``google.rpc.ErrorInfo`` reason, e.g. ``"RESOURCE_NOT_FOUND"``; ``""`` when the
            failure did not come from the Catapult server (e.g. a connection that could not be made).
        metadata: the ``google.rpc.ErrorInfo`` metadata (string to string).
        status: the full ``google.rpc.Status`` the server sent, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        status: Any = None,
    ) -> None:
        super().__init__(message)
        self.code: grpc.StatusCode = code
        self.message = message
        self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.status: Any = status

    def __str__(self) -> str:
        reason = f" {self.reason}" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code.name}, reason={self.reason!r}, message={self.message!r})"


class InvalidArgumentError(CatapultError):
    """INVALID_ARGUMENT: a field is missing or invalid, a page token is bad, a request_id was reused.

    ``field_violations`` names each offending field (from ``google.rpc.BadRequest``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        status: Any = None,
        field_violations: list[FieldViolation] | None = None,
    ) -> None:
        super().__init__(message, code=code, reason=reason, metadata=metadata, status=status)
        self.field_violations: list[FieldViolation] = list(field_violations or [])

    def __str__(self) -> str:
        text = super().__str__()
        if self.field_violations:
            text += " (" + "; ".join(f"{v.field}: {v.description}" for v in self.field_violations) + ")"
        return text


class NotFoundError(CatapultError):
    """NOT_FOUND: the model, release, artifact, deployment or key does not exist.

    ``resource_type`` and ``resource_name`` come from ``google.rpc.ResourceInfo`` when the server sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode = grpc.StatusCode.NOT_FOUND,
        reason: str = "",
        metadata: dict[str, str] | None = None,
        status: Any = None,
        resource_type: str = "",
        resource_name: str = "",
    ) -> None:
        super().__init__(message, code=code, reason=reason, metadata=metadata, status=status)
        self.resource_type = resource_type
        self.resource_name = resource_name


class AlreadyExistsError(CatapultError):
    """ALREADY_EXISTS: a resource with the same unique key (a model name, a release's
    version and quantization, a key name) exists."""


class UnauthenticatedError(CatapultError):
    """UNAUTHENTICATED: no API key, or an unknown, expired or revoked one (see ``reason``)."""


class PermissionDeniedError(CatapultError):
    """PERMISSION_DENIED: the key's role does not allow the call (a reader writing, a non-admin
    managing keys)."""


class ConflictError(CatapultError):
    """ABORTED: the etag sent is stale (reason ``ETAG_MISMATCH``): someone changed the resource
    since you read it. Read it again and retry."""


class FailedPreconditionError(CatapultError):
    """FAILED_PRECONDITION: deleting a model or release that has children without ``force``
    (``HAS_CHILDREN``), deploying a deprecated release without ``force`` (``RELEASE_DEPRECATED``),
    watching from a cursor whose changes were pruned (``CURSOR_EXPIRED``)."""


class ResourceExhaustedError(CatapultError):
    """RESOURCE_EXHAUSTED: the key or the server has as many watches open as it may
    (``TOO_MANY_WATCHES``), or a watch was read too slowly (``WATCHER_TOO_SLOW``, with the cursor to
    resume from in ``metadata["cursor"]``: the watch methods resume from it themselves)."""


class UnavailableError(CatapultError):
    """UNAVAILABLE: the server or its database cannot be reached. Calls that are safe to repeat
    are retried with backoff before this is raised."""


class DeadlineExceededError(CatapultError):
    """DEADLINE_EXCEEDED: the call did not finish within its timeout."""


class InternalError(CatapultError):
    """INTERNAL: a server bug. The message carries an id the server logged the details under."""


_BY_CODE: dict[grpc.StatusCode, type[CatapultError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.ABORTED: ConflictError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.INTERNAL: InternalError,
}


def _status_of(error: grpc.RpcError) -> Any:
    """The google.rpc.Status in the call's trailers, or None."""
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except Exception:  # a trailer that is not a Status: ignore it, keep the code and message
                return None
            return status
    return None


def from_rpc_error(error: grpc.RpcError) -> CatapultError:
    """The typed :class:`CatapultError` for a failed grpc call (sync ``grpc.RpcError`` or
    ``grpc.aio.AioRpcError``), with the ErrorInfo reason and the BadRequest / ResourceInfo details
    decoded from the ``grpc-status-details-bin`` trailer."""
    code: grpc.StatusCode = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message: str = (error.details() if hasattr(error, "details") else None) or str(error)
    status = _status_of(error)
    reason = ""
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    resource_type = resource_name = ""
    if status is not None:
        message = status.message or message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
                metadata = dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
            elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                resource = error_details_pb2.ResourceInfo()
                detail.Unpack(resource)
                resource_type, resource_name = resource.resource_type, resource.resource_name
    cls = _BY_CODE.get(code, CatapultError)
    if cls is InvalidArgumentError:
        return InvalidArgumentError(
            message, code=code, reason=reason, metadata=metadata, status=status, field_violations=violations
        )
    if cls is NotFoundError:
        return NotFoundError(
            message,
            code=code,
            reason=reason,
            metadata=metadata,
            status=status,
            resource_type=resource_type,
            resource_name=resource_name,
        )
    return cls(message, code=code, reason=reason, metadata=metadata, status=status)
