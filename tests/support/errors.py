"""Errors as clients get them: a failed gRPC call's google.rpc.Status (its ErrorInfo reason and
BadRequest field violations), and the JSON google.rpc.Status body of a failed REST call."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import grpc
from google.rpc import error_details_pb2, status_pb2

if TYPE_CHECKING:
    from tests.support.rest import Reply

# Strings that betray a database error leaking into a client-visible message.
DATABASE_TEXT_CASE_INSENSITIVE = ("duplicate key", "violates", "asyncpg", "sqlalchemy")
DATABASE_TEXT_CASE_SENSITIVE = ("SELECT", "INSERT")


# --- gRPC ------------------------------------------------------------------------------


class ErrorDetails(NamedTuple):
    code: grpc.StatusCode
    reason: str  # ErrorInfo.reason, "" when there is none
    fields: list[str]  # BadRequest field violations' field paths
    metadata: dict[str, str]  # ErrorInfo.metadata


def rpc_status(err: grpc.aio.AioRpcError) -> Any:
    """The google.rpc.Status the server attached to a failed call, or None."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    return None


def error_details(err: grpc.aio.AioRpcError) -> ErrorDetails:
    """(code, ErrorInfo reason, BadRequest field names) of a failed call."""
    reason = ""
    fields: list[str] = []
    metadata: dict[str, str] = {}
    status = rpc_status(err)
    if status is not None:
        for item in status.details:
            if item.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                item.Unpack(info)
                reason = info.reason
                metadata = dict(info.metadata)
            elif item.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                item.Unpack(bad)
                fields.extend(v.field for v in bad.field_violations)
    return ErrorDetails(err.code(), reason, fields, metadata)


def field_matches(path: str, name: str) -> bool:
    """A violation's field path names `name`: "metadata" matches "metadata" and "model.metadata"."""
    return path == name or path.endswith("." + name)


def describe(err: grpc.aio.AioRpcError) -> str:
    got = error_details(err)
    return f"{got.code.name} reason={got.reason!r} fields={got.fields} message={err.details()!r}"


async def expect_error(
    call: Awaitable[Any],
    code: grpc.StatusCode,
    reason: str | None = None,
    field: str | None = None,
) -> grpc.aio.AioRpcError:
    """Await a call that must fail with `code` (and the ErrorInfo `reason`, and a BadRequest
    violation naming `field`, when given); returns the error for further checks."""
    try:
        result = await call
    except grpc.aio.AioRpcError as err:
        got = error_details(err)
        assert got.code == code, f"expected {code.name}, got {describe(err)}"
        status = rpc_status(err)
        assert status is not None, f"{code.name} without a google.rpc.Status detail: {describe(err)}"
        assert status.code == code.value[0], f"Status.code {status.code} disagrees with {code.name}"
        if reason is not None:
            assert got.reason == reason, f"expected reason {reason}, got {describe(err)}"
        if field is not None:
            assert any(field_matches(f, field) for f in got.fields), (
                f"expected a violation naming {field!r}, got {describe(err)}"
            )
        return err
    raise AssertionError(f"expected {code.name}, but the call succeeded: {result!r}")


class Failures:
    """Collects the failed checks of a table whose cases share a fixture too costly to build per
    case (an Envoy, say), so that one run reports every failing case rather than the first."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def check(self, case: str, check: Awaitable[Any]) -> None:
        try:
            await check
        except AssertionError as err:
            self.messages.append(f"{case}: {err}")

    def assert_none(self) -> None:
        assert not self.messages, f"{len(self.messages)} case(s) failed:\n" + "\n".join(self.messages)


def assert_no_database_text(message: str) -> None:
    lowered = message.lower()
    for text in DATABASE_TEXT_CASE_INSENSITIVE:
        assert text not in lowered, f"database text {text!r} in error message {message!r}"
    for text in DATABASE_TEXT_CASE_SENSITIVE:
        assert text not in message, f"database text {text!r} in error message {message!r}"


# --- REST (JSON through Envoy) ---------------------------------------------------------


def assert_status_body(
    reply: Reply, http_status: int, grpc_code: int, reason: str | None = None
) -> dict[str, Any]:
    """`reply` is an error as REST clients get every error: the HTTP status, and a JSON
    google.rpc.Status body {"code", "message", "details"} (with an ErrorInfo giving `reason`,
    when one is given); returns the body."""
    assert reply.status == http_status, f"expected HTTP {http_status}, got {reply}"
    assert reply.headers.get("content-type") == "application/json", f"not JSON: {reply}"
    assert reply.body, "empty error body"
    status = reply.json()
    assert isinstance(status, dict), str(reply)
    assert status.get("code") == grpc_code, f"expected google.rpc.Code {grpc_code}: {reply}"
    assert isinstance(status.get("message"), str) and status["message"], f"no message: {reply}"
    assert isinstance(status.get("details", []), list), str(reply)
    if reason is not None:
        assert detail(status, "ErrorInfo")["reason"] == reason, f"expected reason {reason}: {reply}"
    return status


def detail(status: Mapping[str, Any], type_name: str) -> dict[str, Any]:
    """The first detail of `status` of type google.rpc.<type_name>."""
    for item in status.get("details", []):
        if item.get("@type") == f"type.googleapis.com/google.rpc.{type_name}":
            return dict(item)
    raise AssertionError(f"no google.rpc.{type_name} in {status}")
