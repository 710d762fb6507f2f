"""Domain errors: what went wrong, in the terms of the API contract (AIP-193).

Each error carries a canonical code (google.rpc.Code), a stable reason (an ErrorReason name from
proto/catapult/v1/error_reason.proto) and the details a client can act on: the fields that are
invalid, the resource that is missing. Services, the repository and the database layer raise
these; the interceptor alone turns them into gRPC statuses. Anything else that escapes an RPC is
a bug, reported as INTERNAL with only a trace id."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2

from catapult.v1 import error_reason_pb2
from catapult_server import headers

DOMAIN = "catapult"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class CatapultError(Exception):
    """Base of every error a client may see."""

    code: int = code_pb2.INTERNAL
    reason: int = error_reason_pb2.INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> list[Message]:
        """google.rpc detail messages besides the ErrorInfo."""
        return []

    def metadata(self) -> dict[str, str]:
        """ErrorInfo.metadata: machine-readable facts about the error."""
        return {}

    def trailers(self) -> tuple[tuple[str, str], ...]:
        """Trailing metadata the reply carries besides the status."""
        return ()

    def error_info(self) -> error_details_pb2.ErrorInfo:
        return error_details_pb2.ErrorInfo(
            reason=error_reason_pb2.ErrorReason.Name(self.reason), domain=DOMAIN, metadata=self.metadata()
        )


class InvalidArgument(CatapultError):
    code = code_pb2.INVALID_ARGUMENT
    reason = error_reason_pb2.INVALID_FIELD

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])

    def details(self) -> list[Message]:
        return [
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in self.violations
                ]
            )
        ]


class InvalidPageToken(InvalidArgument):
    reason = error_reason_pb2.INVALID_PAGE_TOKEN

    def __init__(self, description: str) -> None:
        super().__init__([FieldViolation("page_token", description)])


class RequestIdReused(InvalidArgument):
    reason = error_reason_pb2.REQUEST_ID_REUSED

    def __init__(self, method: str, same_method: bool = False) -> None:
        what = f"another {method} request" if same_method else method
        super().__init__([FieldViolation("request_id", f"was already used for {what}; use a new request_id")])


class NotFound(CatapultError):
    code = code_pb2.NOT_FOUND
    reason = error_reason_pb2.RESOURCE_NOT_FOUND

    def __init__(self, resource_type: str, resource_name: str, field: str = "id") -> None:
        super().__init__(f"{resource_type} {resource_name!r} not found")
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.field = field

    def metadata(self) -> dict[str, str]:
        return {"resource_type": self.resource_type, "field": self.field}

    def details(self) -> list[Message]:
        return [
            error_details_pb2.ResourceInfo(
                resource_type=f"catapult.v1.{self.resource_type}", resource_name=self.resource_name
            )
        ]


class AlreadyExists(CatapultError):
    code = code_pb2.ALREADY_EXISTS
    reason = error_reason_pb2.RESOURCE_ALREADY_EXISTS

    def __init__(self, resource_type: str, key: str) -> None:
        super().__init__(f"a {resource_type} with {key} already exists")
        self.resource_type = resource_type

    def metadata(self) -> dict[str, str]:
        return {"resource_type": self.resource_type}


class EtagMismatch(CatapultError):
    code = code_pb2.ABORTED
    reason = error_reason_pb2.ETAG_MISMATCH

    def __init__(self, resource_type: str, resource_id: str) -> None:
        super().__init__(f"{resource_type} {resource_id} was changed since the etag was read; re-read it")


class Conflict(CatapultError):
    """A concurrent transaction won a race (serialization failure, deadlock): retry the call."""

    code = code_pb2.ABORTED
    reason = error_reason_pb2.CONCURRENT_CHANGE

    def __init__(self) -> None:
        super().__init__("a concurrent change got in the way; retry the call")


class FailedPrecondition(CatapultError):
    code = code_pb2.FAILED_PRECONDITION

    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Unauthenticated(CatapultError):
    code = code_pb2.UNAUTHENTICATED

    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionDenied(CatapultError):
    code = code_pb2.PERMISSION_DENIED
    reason = error_reason_pb2.ROLE_NOT_ALLOWED


class DatabaseUnavailable(CatapultError):
    code = code_pb2.UNAVAILABLE
    reason = error_reason_pb2.DATABASE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("the database is unavailable; retry later")


class DeadlinePassed(CatapultError):
    code = code_pb2.DEADLINE_EXCEEDED
    reason = error_reason_pb2.DEADLINE_PASSED

    def __init__(self) -> None:
        super().__init__("the call's deadline passed before the database answered; retry with a longer one")


class ShuttingDown(CatapultError):
    code = code_pb2.UNAVAILABLE
    reason = error_reason_pb2.SERVER_SHUTTING_DOWN

    def __init__(self) -> None:
        super().__init__(
            "the server is shutting down; retry (another server, or this one restarted, answers)"
        )

    def trailers(self) -> tuple[tuple[str, str], ...]:
        # Raised before a call runs (a drain refuses it) or once a watch has ended: either way
        # nothing of a write happened, so even a write may go to another server.
        return ((headers.UNPROCESSED, "true"),)


class Internal(CatapultError):
    code = code_pb2.INTERNAL
    reason = error_reason_pb2.INTERNAL_ERROR

    def __init__(self, trace_id: str) -> None:
        super().__init__(f"internal error (trace id {trace_id}); the server log has the details")
        self.trace_id = trace_id

    def metadata(self) -> dict[str, str]:
        return {"trace_id": self.trace_id}
