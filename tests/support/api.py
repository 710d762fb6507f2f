"""The registry through its public gRPC API: stubs for every service, API key metadata, messages
built from plain values, and factories that register resources."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, TypeVar

import grpc
from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from catapult.v1 import (
    api_key_service_pb2_grpc,
    artifact_pb2,
    artifact_service_pb2,
    artifact_service_pb2_grpc,
    audit_log_service_pb2_grpc,
    change_service_pb2_grpc,
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
    changes: change_service_pb2_grpc.ChangeServiceStub
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
            changes=change_service_pb2_grpc.ChangeServiceStub(channel),
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


# --- each resource's standard methods, by the resource's name ----------------------------

# resource → (its message, its *_service_pb2 module, its attribute on Stubs)
SERVICES: dict[str, tuple[type[Message], ModuleType, str]] = {
    "model": (model_pb2.Model, model_service_pb2, "models"),
    "release": (release_pb2.Release, release_service_pb2, "releases"),
    "artifact": (artifact_pb2.Artifact, artifact_service_pb2, "artifacts"),
    "deployment": (deployment_pb2.Deployment, deployment_service_pb2, "deployments"),
}
RESOURCES = list(SERVICES)


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def call(stubs: Stubs, key: str, resource: str, verb: str, **request: Any) -> Any:
    """`<Verb><Resource>(<Verb><Resource>Request(**request))`: verb "Get" on "model" is GetModel."""
    message, module, attribute = SERVICES[resource]
    name = f"{verb}{message.DESCRIPTOR.name}"
    return await getattr(getattr(stubs, attribute), name)(
        getattr(module, f"{name}Request")(**request), metadata=auth(key)
    )


async def create(
    stubs: Stubs, key: str, resource: str, values: Mapping[str, Any], request_id: str = "", **request: Any
) -> Any:
    message = build(SERVICES[resource][0], values)
    return await call(stubs, key, resource, "Create", **{resource: message}, request_id=request_id, **request)


async def get(stubs: Stubs, key: str, resource: str, resource_id: str) -> Any:
    return await call(stubs, key, resource, "Get", id=resource_id)


async def update(
    stubs: Stubs,
    key: str,
    resource: str,
    values: Mapping[str, Any],
    paths: tuple[str, ...] = (),
    etag: str = "",
) -> Any:
    request: dict[str, Any] = {resource: build(SERVICES[resource][0], values), "etag": etag}
    if paths:
        request["update_mask"] = mask(*paths)
    return await call(stubs, key, resource, "Update", **request)


async def delete(
    stubs: Stubs, key: str, resource: str, resource_id: str, etag: str = "", force: bool = False
) -> Any:
    request: dict[str, Any] = {"id": resource_id, "etag": etag}
    if force:  # only models and releases have children to force away
        request["force"] = True
    return await call(stubs, key, resource, "Delete", **request)


# --- factories: valid resources with what a test does not care about filled in ------------


async def create_model(stubs: Stubs, key: str, request_id: str = "", **fields: Any) -> model_pb2.Model:
    values = {"name": unique("model"), "storage_path": "s3://ml-models/test/", **fields}
    model: model_pb2.Model = await create(stubs, key, "model", values, request_id)
    return model


async def create_release(
    stubs: Stubs, key: str, image_id: str, request_id: str = "", **fields: Any
) -> release_pb2.Release:
    values = {"image_id": image_id, "version": f"1.0.{next(_counter)}", **fields}
    release: release_pb2.Release = await create(stubs, key, "release", values, request_id)
    return release


async def create_artifact(
    stubs: Stubs, key: str, release_id: str, request_id: str = "", **fields: Any
) -> artifact_pb2.Artifact:
    values = {
        "release_id": release_id,
        "name": unique("artifact") + ".whl",
        "artifact_type": "wheel",
        "file_path": "s3://artifacts/test.whl",
        **fields,
    }
    artifact: artifact_pb2.Artifact = await create(stubs, key, "artifact", values, request_id)
    return artifact


async def create_deployment(
    stubs: Stubs, key: str, release_id: str, request_id: str = "", force: bool = False, **fields: Any
) -> deployment_pb2.Deployment:
    values = {"release_id": release_id, "environment": "development", **fields}
    deployment: deployment_pb2.Deployment = await create(
        stubs, key, "deployment", values, request_id, force=force
    )
    return deployment


async def create_model_and_release(
    stubs: Stubs, key: str, **release_fields: Any
) -> tuple[model_pb2.Model, release_pb2.Release]:
    model = await create_model(stubs, key)
    release = await create_release(stubs, key, model.id, **release_fields)
    return model, release


async def latest_release(stubs: Stubs, key: str, **request: Any) -> release_pb2.Release:
    """GetLatestRelease: `request` names the model (image_id or model_name) and the filters."""
    found: release_pb2.Release = await stubs.releases.GetLatestRelease(
        release_service_pb2.GetLatestReleaseRequest(**request), metadata=auth(key)
    )
    return found


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


async def list_every(stubs: Stubs, key: str, resource: str, **filters: Any) -> list[Any]:
    """Every `resource` that List<Resource>s returns for `filters`, all pages."""
    message, module, attribute = SERVICES[resource]
    name = f"List{message.DESCRIPTOR.name}s"
    request = getattr(module, f"{name}Request")(**filters)
    return await list_all(getattr(getattr(stubs, attribute), name), request, f"{resource}s", key)


def ids(items: Sequence[Any]) -> list[str]:
    return [item.id for item in items]
