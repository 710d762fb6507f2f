"""The registry through its public gRPC API: stubs for every service, API key metadata, messages
built from plain values, and factories that register resources."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from catapult.v1 import (
    api_key_service_pb2_grpc,
    artifact_pb2,
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    audit_log_service_pb2_grpc,
    deployment_pb2,
    deployment_service_pb2,
    deployment_service_pb2_grpc,
    model_pb2,
    model_service_pb2,
    model_service_pb2_grpc,
    release_pb2,
    release_service_pb2,
    release_service_pb2_grpc,
    system_service_pb2_grpc,
)

Metadata = tuple[tuple[str, str], ...]

_counter = itertools.count(1)


@dataclass
class Stubs:
    """A stub of every catapult.v1 service on one channel."""

    models: model_service_pb2_grpc.ModelServiceStub
    releases: release_service_pb2_grpc.ReleaseServiceStub
    artifacts: artifact_service_pb2_grpc.ArtifactServiceStub
    deployments: deployment_service_pb2_grpc.DeploymentServiceStub
    api_keys: api_key_service_pb2_grpc.ApiKeyServiceStub
    audit_logs: audit_log_service_pb2_grpc.AuditLogServiceStub
    system: system_service_pb2_grpc.SystemServiceStub

    @classmethod
    def for_channel(cls, channel: grpc.aio.Channel) -> Stubs:
        return cls(
            models=model_service_pb2_grpc.ModelServiceStub(channel),
            releases=release_service_pb2_grpc.ReleaseServiceStub(channel),
            artifacts=artifact_service_pb2_grpc.ArtifactServiceStub(channel),
            deployments=deployment_service_pb2_grpc.DeploymentServiceStub(channel),
            api_keys=api_key_service_pb2_grpc.ApiKeyServiceStub(channel),
            audit_logs=audit_log_service_pb2_grpc.AuditLogServiceStub(channel),
            system=system_service_pb2_grpc.SystemServiceStub(channel),
        )


def auth(key: str) -> Metadata:
    """Call metadata carrying an API key."""
    return (("x-api-key", key),)


def unique(prefix: str) -> str:
    """A name no other call in this test run has used."""
    return f"{prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


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
