"""Native gRPC (h2c) on the same port as REST: catapult.v1 calls with their error details,
grpc.health.v1 and server reflection (a streaming call) pass through Envoy untouched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from catapult.v1 import model_pb2, model_service_pb2, model_service_pb2_grpc
from catapult_server.config import Settings
from tests.support.api import auth
from tests.support.errors import error_details
from tests.support.paths import TOOLS_BIN
from tests.support.rest import Rest, envoy_in_front
from tests.support.servers import running_server, stop_server

GRPCURL = TOOLS_BIN / "grpcurl"


@pytest.fixture
async def envoy_channel(rest: Rest) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rest.port}") as channel:
        yield channel


async def test_catapult_calls_and_their_error_details_pass_through(
    envoy_channel: grpc.aio.Channel, rest: Rest
) -> None:
    models = model_service_pb2_grpc.ModelServiceStub(envoy_channel)
    model = await models.CreateModel(
        model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="via-grpc", storage_path="s3://g/")),
        metadata=auth(rest.key),
    )
    # The same registry over REST on the same port.
    assert (await rest.ok("GET", f"/api/v1/models/{model.id}"))["name"] == "via-grpc"

    with pytest.raises(grpc.aio.AioRpcError) as missing_key:
        await models.ListModels(model_service_pb2.ListModelsRequest())
    got = error_details(missing_key.value)
    assert (got.code, got.reason) == (grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING")

    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await models.CreateModel(
            model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="x")), metadata=auth(rest.key)
        )
    got = error_details(invalid.value)
    assert got.code == grpc.StatusCode.INVALID_ARGUMENT and got.fields == ["model.storage_path"]


async def test_health_and_reflection_pass_through(envoy_channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(envoy_channel)
    for service in ("", "catapult.v1.ModelService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(envoy_channel)
    call = reflection.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    listed = await call.read()
    # Still streaming: the second request on the same call gets its answer too.
    await call.write(
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="catapult.v1.ModelService")
    )
    described = await call.read()
    await call.done_writing()
    names = {service.name for service in listed.list_services_response.service}
    assert {"catapult.v1.ModelService", "grpc.health.v1.Health"} <= names
    assert described.file_descriptor_response.file_descriptor_proto


@pytest.mark.skipif(not GRPCURL.exists(), reason="needs grpcurl (make install)")
async def test_grpcurl_works_through_envoy(rest: Rest) -> None:
    """grpcurl tries reflection v1 first and falls back to v1alpha on UNIMPLEMENTED."""

    async def grpcurl(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(GRPCURL),
            "-plaintext",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    listed = await grpcurl(f"127.0.0.1:{rest.port}", "list")
    assert "catapult.v1.DeploymentService" in listed.split()
    models = await grpcurl(
        "-H", f"x-api-key: {rest.key}", f"127.0.0.1:{rest.port}", "catapult.v1.ModelService/ListModels"
    )
    assert models.strip() == "{}"


async def test_envoys_own_replies_to_grpc_clients_stay_grpc(settings: Settings, tmp_path: Path) -> None:
    """No route, or no server: a gRPC status code with a plain message (not the JSON body REST
    clients get)."""
    async with (
        running_server(settings) as server,
        envoy_in_front(server.port, tmp_path / "envoy") as proxy,
        grpc.aio.insecure_channel(f"127.0.0.1:{proxy.port}") as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as no_route:
            await channel.unary_unary("/no.such.Service/Method")(b"")
        assert no_route.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert not (no_route.value.details() or "").lstrip().startswith("{")

        await stop_server(server, grace=0)
        health = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as down:
            await health.Check(health_pb2.HealthCheckRequest())
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        assert not (down.value.details() or "").lstrip().startswith("{")
