"""Small helpers shared by the server tests: API key metadata, reading the google.rpc.Status
of a failed call, and factories that register resources through the public API."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import grpc
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from catapult.v1 import (
    artifact_pb2,
    artifact_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)

if TYPE_CHECKING:
    from tests.conftest import Stubs

Metadata = tuple[tuple[str, str], ...]
T = TypeVar("T")

# Strings that betray a database error leaking into a client-visible message.
DATABASE_TEXT_CASE_INSENSITIVE = ("duplicate key", "violates", "asyncpg", "sqlalchemy")
DATABASE_TEXT_CASE_SENSITIVE = ("SELECT", "INSERT")

_counter = itertools.count(1)


def auth(key: str) -> Metadata:
    """Call metadata carrying an API key."""
    return (("x-api-key", key),)


def unique(prefix: str) -> str:
    """A name no other call in this test run has used."""
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


# --- errors ----------------------------------------------------------------------------


class ErrorDetails(NamedTuple):
    code: grpc.StatusCode
    reason: str  # ErrorInfo.reason, "" when there is none
    fields: list[str]  # BadRequest field violations' field paths


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
    status = rpc_status(err)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields.extend(v.field for v in bad.field_violations)
    return ErrorDetails(err.code(), reason, fields)


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
    """Collects failed checks of a table-driven test so one run reports every failing case."""

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


async def poll_until(
    check: Callable[[], Awaitable[T | None]], within: float = 5.0, interval: float = 0.05
) -> T:
    """Call `check` until it returns something other than None, or fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(interval)


# --- building messages -----------------------------------------------------------------


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(value))
    return s


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def to_datetime(ts: timestamp_pb2.Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def now_plus(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


M = TypeVar("M", bound=Message)


def build(cls: type[M], fields: Mapping[str, Any]) -> M:
    """A message from keyword values; dicts become Structs and datetimes Timestamps."""
    converted: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, Mapping):
            converted[name] = struct(value)
        elif isinstance(value, datetime):
            converted[name] = timestamp(value)
        else:
            converted[name] = value
    return cls(**converted)


# --- factories -------------------------------------------------------------------------


async def create_model(stubs: Stubs, key: str, request_id: str = "", **fields: Any) -> model_pb2.Model:
    values: dict[str, Any] = {"name": unique("model"), "storage_path": "s3://ml-models/test/"}
    values.update(fields)
    request = model_service_pb2.CreateModelRequest(
        model=build(model_pb2.Model, values), request_id=request_id
    )
    model: model_pb2.Model = await stubs.models.CreateModel(request, metadata=auth(key))
    return model


async def create_release(
    stubs: Stubs, key: str, image_id: str, request_id: str = "", **fields: Any
) -> release_pb2.Release:
    values: dict[str, Any] = {"image_id": image_id, "version": f"1.0.{next(_counter)}"}
    values.update(fields)
    request = release_service_pb2.CreateReleaseRequest(
        release=build(release_pb2.Release, values), request_id=request_id
    )
    release: release_pb2.Release = await stubs.releases.CreateRelease(request, metadata=auth(key))
    return release


async def create_artifact(
    stubs: Stubs, key: str, release_id: str, request_id: str = "", **fields: Any
) -> artifact_pb2.Artifact:
    values: dict[str, Any] = {
        "release_id": release_id,
        "name": unique("artifact") + ".whl",
        "artifact_type": "wheel",
        "file_path": "s3://artifacts/test.whl",
    }
    values.update(fields)
    request = artifact_service_pb2.CreateArtifactRequest(
        artifact=build(artifact_pb2.Artifact, values), request_id=request_id
    )
    artifact: artifact_pb2.Artifact = await stubs.artifacts.CreateArtifact(request, metadata=auth(key))
    return artifact


async def create_deployment(
    stubs: Stubs, key: str, release_id: str, request_id: str = "", force: bool = False, **fields: Any
) -> deployment_pb2.Deployment:
    values: dict[str, Any] = {"release_id": release_id, "environment": "development"}
    values.update(fields)
    request = deployment_service_pb2.CreateDeploymentRequest(
        deployment=build(deployment_pb2.Deployment, values), request_id=request_id, force=force
    )
    deployment: deployment_pb2.Deployment = await stubs.deployments.CreateDeployment(
        request, metadata=auth(key)
    )
    return deployment


async def create_model_and_release(
    stubs: Stubs, key: str, **release_fields: Any
) -> tuple[model_pb2.Model, release_pb2.Release]:
    model = await create_model(stubs, key)
    release = await create_release(stubs, key, model.id, **release_fields)
    return model, release


# --- listing ---------------------------------------------------------------------------


async def list_all(
    method: Callable[..., Awaitable[Any]],
    request: Message,
    items: str,
    key: str,
    page_size: int = 0,
) -> list[Any]:
    """Every item of a List RPC, following next_page_token to the end."""
    out: list[Any] = []
    token = ""
    for _ in range(1000):
        page = type(request)()
        page.CopyFrom(request)
        page.page_size = page_size  # type: ignore[attr-defined]
        page.page_token = token  # type: ignore[attr-defined]
        response = await method(page, metadata=auth(key))
        out.extend(getattr(response, items))
        token = response.next_page_token
        if not token:
            return out
    raise AssertionError("pagination did not end")


def ids(items: Sequence[Any]) -> list[str]:
    return [item.id for item in items]
