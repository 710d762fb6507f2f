"""API keys on every RPC: missing, invalid, revoked and expired keys, roles, the Bearer form,
key management, and the endpoints that need no key (health, reflection)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    deployment_service_pb2,
    model_service_pb2,
    release_service_pb2,
    system_service_pb2,
)
from tests.support.api import Metadata, Stubs, auth, now_plus, timestamp
from tests.support.errors import describe, error_details, expect_error
from tests.support.polling import poll_until

SERVICE_MODULES = (
    model_service_pb2,
    release_service_pb2,
    artifact_service_pb2,
    deployment_service_pb2,
    api_key_service_pb2,
    audit_log_service_pb2,
    system_service_pb2,
)
NO_KEY_NEEDED = {"/catapult.v1.SystemService/Health"}
WRITE_PREFIXES = ("Create", "Update", "Delete", "Revoke")
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


@dataclass(frozen=True)
class Rpc:
    path: str  # "/catapult.v1.ModelService/CreateModel"
    service: str  # "catapult.v1.ModelService"
    method: str  # "CreateModel"
    request: type[Any]
    response: type[Any]

    @property
    def is_write(self) -> bool:
        return self.method.startswith(WRITE_PREFIXES)

    async def call(self, channel: grpc.aio.Channel, metadata: Metadata = ()) -> Any:
        callable_ = channel.unary_unary(
            self.path,
            request_serializer=self.request.SerializeToString,
            response_deserializer=self.response.FromString,
        )
        return await callable_(self.request(), metadata=metadata, timeout=10)


def _rpcs() -> list[Rpc]:
    out = []
    for module in SERVICE_MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out.append(
                    Rpc(
                        f"/{service.full_name}/{method.name}",
                        service.full_name,
                        method.name,
                        message_factory.GetMessageClass(method.input_type),
                        message_factory.GetMessageClass(method.output_type),
                    )
                )
    return out


ALL_RPCS = _rpcs()
KEYED_RPCS = [rpc for rpc in ALL_RPCS if rpc.path not in NO_KEY_NEEDED]
KEY_ADMIN_RPCS = [rpc for rpc in ALL_RPCS if rpc.service == "catapult.v1.ApiKeyService"]


def test_every_service_is_enumerated() -> None:
    """The lists below cover the whole API, so no RPC escapes the auth checks."""
    services = {rpc.service for rpc in ALL_RPCS}
    assert services == {
        "catapult.v1.ModelService",
        "catapult.v1.ReleaseService",
        "catapult.v1.ArtifactService",
        "catapult.v1.DeploymentService",
        "catapult.v1.ApiKeyService",
        "catapult.v1.AuditLogService",
        "catapult.v1.SystemService",
    }
    assert len(ALL_RPCS) >= 28
    assert {rpc.path for rpc in ALL_RPCS} >= NO_KEY_NEEDED


async def outcome(rpc: Rpc, channel: grpc.aio.Channel, metadata: Metadata) -> tuple[grpc.StatusCode, str]:
    """(code, ErrorInfo reason) of calling `rpc` with an empty request."""
    try:
        await rpc.call(channel, metadata)
    except grpc.aio.AioRpcError as err:
        got = error_details(err)
        return got.code, got.reason
    return grpc.StatusCode.OK, ""


async def expect_on_every_rpc(
    channel: grpc.aio.Channel,
    rpcs: list[Rpc],
    metadata: Metadata,
    code: grpc.StatusCode,
    reason: str | None,
) -> None:
    wrong = []
    for rpc in rpcs:
        got = await outcome(rpc, channel, metadata)
        if got[0] != code or (reason is not None and got[1] != reason):
            wrong.append(f"{rpc.path}: {got[0].name} {got[1]}")
    assert not wrong, f"expected {code.name} {reason or ''} on every RPC, but:\n" + "\n".join(wrong)


async def test_no_key(channel: grpc.aio.Channel) -> None:
    await expect_on_every_rpc(channel, KEYED_RPCS, (), UNAUTHENTICATED, "API_KEY_MISSING")


async def test_empty_key(channel: grpc.aio.Channel) -> None:
    await expect_on_every_rpc(
        channel, KEYED_RPCS[:3], (("x-api-key", ""),), UNAUTHENTICATED, "API_KEY_MISSING"
    )


async def test_bad_key(channel: grpc.aio.Channel, writer_key: str) -> None:
    await expect_on_every_rpc(channel, KEYED_RPCS, auth("not-a-key"), UNAUTHENTICATED, "API_KEY_INVALID")
    # A real key's public prefix with the wrong secret after it.
    forged = writer_key[:-4] + ("AAAA" if not writer_key.endswith("AAAA") else "BBBB")
    await expect_on_every_rpc(channel, KEYED_RPCS, auth(forged), UNAUTHENTICATED, "API_KEY_INVALID")


async def test_health_needs_no_key(stubs: Stubs) -> None:
    health = await stubs.system.Health(system_service_pb2.HealthRequest())
    assert health.status == "ok"
    bad = await stubs.system.Health(system_service_pb2.HealthRequest(), metadata=auth("not-a-key"))
    assert bad.status == "ok", "a bad key does not break an RPC that needs none"


async def create_key(stubs: Stubs, admin_key: str, **fields: Any) -> api_key_service_pb2.CreateApiKeyResponse:
    values: dict[str, Any] = {"name": f"key-{uuid.uuid4().hex[:8]}", "role": "writer"}
    values.update(fields)
    if "expires_at" in values:
        values["expires_at"] = timestamp(values["expires_at"])
    response: api_key_service_pb2.CreateApiKeyResponse = await stubs.api_keys.CreateApiKey(
        api_key_service_pb2.CreateApiKeyRequest(api_key=api_key_pb2.ApiKey(**values)),
        metadata=auth(admin_key),
    )
    return response


async def rejected_reason(stubs: Stubs, key: str) -> str | None:
    """The UNAUTHENTICATED reason GetInfo gives this key, or None while it still works."""
    try:
        await stubs.system.GetInfo(system_service_pb2.GetInfoRequest(), metadata=auth(key), timeout=5)
    except grpc.aio.AioRpcError as err:
        got = error_details(err)
        assert got.code == UNAUTHENTICATED, describe(err)
        return got.reason
    return None


async def test_revoked_key(channel: grpc.aio.Channel, stubs: Stubs, admin_key: str) -> None:
    created = await create_key(stubs, admin_key)
    assert await rejected_reason(stubs, created.secret) is None, "a new key works"
    revoked = await stubs.api_keys.RevokeApiKey(
        api_key_service_pb2.RevokeApiKeyRequest(id=created.api_key.id), metadata=auth(admin_key)
    )
    assert revoked.HasField("revoked_at")
    reason = await poll_until(lambda: rejected_reason(stubs, created.secret), within=5.0)
    assert reason == "API_KEY_REVOKED"
    await expect_on_every_rpc(channel, KEYED_RPCS, auth(created.secret), UNAUTHENTICATED, "API_KEY_REVOKED")
    # Revoking again returns the key unchanged.
    again = await stubs.api_keys.RevokeApiKey(
        api_key_service_pb2.RevokeApiKeyRequest(id=created.api_key.id), metadata=auth(admin_key)
    )
    assert again.revoked_at == revoked.revoked_at


async def test_expired_key(channel: grpc.aio.Channel, stubs: Stubs, admin_key: str) -> None:
    created = await create_key(stubs, admin_key, expires_at=now_plus(2.5))
    assert created.api_key.HasField("expires_at")
    assert await rejected_reason(stubs, created.secret) is None, "the key works until it expires"
    reason = await poll_until(lambda: rejected_reason(stubs, created.secret), within=8.0)
    assert reason == "API_KEY_EXPIRED"
    await expect_on_every_rpc(channel, KEYED_RPCS, auth(created.secret), UNAUTHENTICATED, "API_KEY_EXPIRED")


async def test_reader_key_cannot_write(channel: grpc.aio.Channel, reader_key: str) -> None:
    writes = [rpc for rpc in KEYED_RPCS if rpc.is_write]
    assert len(writes) >= 14
    await expect_on_every_rpc(
        channel, writes, auth(reader_key), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED"
    )


async def test_reader_key_can_read(channel: grpc.aio.Channel, reader_key: str) -> None:
    reads = [rpc for rpc in KEYED_RPCS if not rpc.is_write and rpc not in KEY_ADMIN_RPCS]
    assert len(reads) >= 12
    denied = []
    for rpc in reads:
        code, reason = await outcome(rpc, channel, auth(reader_key))
        if code in (grpc.StatusCode.PERMISSION_DENIED, UNAUTHENTICATED, grpc.StatusCode.INTERNAL):
            denied.append(f"{rpc.path}: {code.name} {reason}")
    assert not denied, "a reader may call every read RPC:\n" + "\n".join(denied)


async def test_writer_key_cannot_manage_keys(
    channel: grpc.aio.Channel, writer_key: str, reader_key: str
) -> None:
    for key in (writer_key, reader_key):
        await expect_on_every_rpc(
            channel, KEY_ADMIN_RPCS, auth(key), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED"
        )


async def test_writer_and_admin_keys_pass_the_role_check(
    channel: grpc.aio.Channel, writer_key: str, admin_key: str
) -> None:
    for key, rpcs in (
        (writer_key, [rpc for rpc in KEYED_RPCS if rpc not in KEY_ADMIN_RPCS]),
        (admin_key, KEYED_RPCS),
    ):
        denied = []
        for rpc in rpcs:
            code, reason = await outcome(rpc, channel, auth(key))
            if code in (grpc.StatusCode.PERMISSION_DENIED, UNAUTHENTICATED, grpc.StatusCode.INTERNAL):
                denied.append(f"{rpc.path}: {code.name} {reason}")
        assert not denied, "\n".join(denied)


async def test_bearer_authorization(stubs: Stubs, reader_key: str) -> None:
    info = await stubs.system.GetInfo(
        system_service_pb2.GetInfoRequest(), metadata=(("authorization", "Bearer " + reader_key),)
    )
    assert info.version
    await expect_error(
        stubs.system.GetInfo(
            system_service_pb2.GetInfoRequest(), metadata=(("authorization", "Bearer nope"),)
        ),
        UNAUTHENTICATED,
        "API_KEY_INVALID",
    )
    await expect_error(
        stubs.models.CreateModel(
            model_service_pb2.CreateModelRequest(), metadata=(("authorization", "Bearer " + reader_key),)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_NOT_ALLOWED",
    )


async def test_create_api_key_shows_the_secret_once(stubs: Stubs, admin_key: str) -> None:
    created = await create_key(stubs, admin_key, name="ci-deployer", role="reader")
    key = created.api_key
    assert key.id and key.name == "ci-deployer" and key.role == "reader"
    assert key.prefix.startswith("ctp_")
    assert created.secret.startswith(key.prefix)
    assert len(created.secret) >= len(key.prefix) + 20, "the secret is high-entropy beyond the prefix"
    assert key.created_by == "test-admin"
    # The new key works, with its role.
    await stubs.models.ListModels(model_service_pb2.ListModelsRequest(), metadata=auth(created.secret))
    await expect_error(
        stubs.models.CreateModel(model_service_pb2.CreateModelRequest(), metadata=auth(created.secret)),
        grpc.StatusCode.PERMISSION_DENIED,
        "ROLE_NOT_ALLOWED",
    )

    listed = await stubs.api_keys.ListApiKeys(
        api_key_service_pb2.ListApiKeysRequest(), metadata=auth(admin_key)
    )
    (mine,) = [k for k in listed.api_keys if k.id == key.id]
    assert mine.prefix == key.prefix
    assert mine.name == "ci-deployer"
    assert created.secret.encode() not in listed.SerializeToString(), "ListApiKeys never shows a secret"
    assert {"test-admin", "ci-deployer"} <= {k.name for k in listed.api_keys}


async def test_list_api_keys_hides_revoked_unless_asked(stubs: Stubs, admin_key: str) -> None:
    created = await create_key(stubs, admin_key)
    await stubs.api_keys.RevokeApiKey(
        api_key_service_pb2.RevokeApiKeyRequest(id=created.api_key.id), metadata=auth(admin_key)
    )
    active = await stubs.api_keys.ListApiKeys(
        api_key_service_pb2.ListApiKeysRequest(), metadata=auth(admin_key)
    )
    assert created.api_key.id not in [k.id for k in active.api_keys]
    everything = await stubs.api_keys.ListApiKeys(
        api_key_service_pb2.ListApiKeysRequest(include_revoked=True), metadata=auth(admin_key)
    )
    (revoked,) = [k for k in everything.api_keys if k.id == created.api_key.id]
    assert revoked.HasField("revoked_at")


async def test_create_api_key_errors(stubs: Stubs, admin_key: str) -> None:
    await create_key(stubs, admin_key, name="taken")
    await expect_error(
        create_key(stubs, admin_key, name="taken"), grpc.StatusCode.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS"
    )
    await expect_error(create_key(stubs, admin_key, name=""), grpc.StatusCode.INVALID_ARGUMENT, field="name")
    await expect_error(
        create_key(stubs, admin_key, role="root"), grpc.StatusCode.INVALID_ARGUMENT, field="role"
    )
    await expect_error(
        create_key(stubs, admin_key, expires_at=now_plus(-60)),
        grpc.StatusCode.INVALID_ARGUMENT,
        field="expires_at",
    )
    await expect_error(
        stubs.api_keys.RevokeApiKey(
            api_key_service_pb2.RevokeApiKeyRequest(id=str(uuid.uuid4())), metadata=auth(admin_key)
        ),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


async def test_default_role_is_writer(stubs: Stubs, admin_key: str) -> None:
    created = await stubs.api_keys.CreateApiKey(
        api_key_service_pb2.CreateApiKeyRequest(api_key=api_key_pb2.ApiKey(name="defaulted")),
        metadata=auth(admin_key),
    )
    assert created.api_key.role == "writer"


async def test_grpc_health_needs_no_key(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "catapult.v1.ModelService"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service


async def test_reflection_needs_no_key(channel: grpc.aio.Channel) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    services: set[str] = set()
    async for response in call:
        assert response.WhichOneof("message_response") == "list_services_response", response
        services.update(s.name for s in response.list_services_response.service)
    expected = {rpc.service for rpc in ALL_RPCS} | {"grpc.health.v1.Health"}
    assert expected <= services, f"missing: {sorted(expected - services)}"


async def test_create_api_key_retry_returns_no_secret(stubs: Stubs, admin_key: str) -> None:
    request = api_key_service_pb2.CreateApiKeyRequest(
        api_key=api_key_pb2.ApiKey(name="retried"), request_id="req-k"
    )
    first = await stubs.api_keys.CreateApiKey(request, metadata=auth(admin_key))
    again = await stubs.api_keys.CreateApiKey(request, metadata=auth(admin_key))
    assert first.secret
    assert again.api_key.id == first.api_key.id
    assert again.secret == "", "the secret is shown only once"
