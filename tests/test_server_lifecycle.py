"""The server process around the RPCs: health while the database is away, key bookkeeping."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catapult.v1 import (
    api_key_service_pb2,
    api_key_service_pb2_grpc,
    model_pb2,
    model_service_pb2,
    model_service_pb2_grpc,
    system_service_pb2,
    system_service_pb2_grpc,
)
from catapult_server.config import Settings
from catapult_server.server import CatapultServer
from tests.support.database import asyncpg_dsn
from tests.support.errors import error_details
from tests.support.polling import poll_until
from tests.support.servers import running_server, server_without_database, stop_server


async def test_unreachable_database_means_not_serving_and_unavailable() -> None:
    async with (
        server_without_database() as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "catapult.v1.ModelService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
        # Alive all the same: a liveness probe must not restart it for its database's absence.
        alive = await health.Check(health_pb2.HealthCheckRequest(service="liveness"))
        assert alive.status == health_pb2.HealthCheckResponse.SERVING

        with pytest.raises(grpc.aio.AioRpcError) as down:
            await system_service_pb2_grpc.SystemServiceStub(channel).Health(
                system_service_pb2.HealthRequest()
            )
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_details(down.value).reason == "DATABASE_UNAVAILABLE"

        # Authentication needs the database too: a client is told to retry, not that its key is bad.
        with pytest.raises(grpc.aio.AioRpcError) as write:
            await model_service_pb2_grpc.ModelServiceStub(channel).CreateModel(
                model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="m", storage_path="s3://m/")),
                metadata=(("x-api-key", "ctp_abcdefgh_" + "x" * 43),),
            )
        assert write.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "postgres" not in (write.value.details() or "").lower()


async def test_health_is_serving_with_a_database(server: CatapultServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="catapult.v1.DeploymentService")
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_last_used_at_is_recorded_without_a_write_per_request(
    server: CatapultServer, admin_key: str
) -> None:
    auth = (("x-api-key", admin_key),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        keys = api_key_service_pb2_grpc.ApiKeyServiceStub(channel)
        before = await keys.ListApiKeys(api_key_service_pb2.ListApiKeysRequest(), metadata=auth)
        (admin,) = [k for k in before.api_keys if k.name == "test-admin"]
        # Authenticated calls so far are held in memory: nothing written yet.
        assert not admin.HasField("last_used_at")
        await server.keys.flush()
        after = await keys.ListApiKeys(api_key_service_pb2.ListApiKeysRequest(), metadata=auth)
        (admin,) = [k for k in after.api_keys if k.name == "test-admin"]
        assert admin.HasField("last_used_at")


async def test_stop_lets_an_in_flight_call_finish(settings: Settings, admin_key: str) -> None:
    """SIGTERM/SIGINT call stop(): a call already running completes and commits."""
    import asyncpg

    dsn = asyncpg_dsn(settings.database_url)
    blocker = await asyncpg.connect(dsn)
    observer = await asyncpg.connect(dsn)  # pg_stat_activity is a snapshot within a transaction
    try:
        async with (
            running_server(settings) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            # Hold a lock the insert needs, so the call is provably in flight when stop() begins.
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("LOCK TABLE models IN EXCLUSIVE MODE")
            models = model_service_pb2_grpc.ModelServiceStub(channel)
            call = asyncio.ensure_future(
                models.CreateModel(
                    model_service_pb2.CreateModelRequest(
                        model=model_pb2.Model(name="m", storage_path="s3://m/")
                    ),
                    metadata=(("x-api-key", admin_key),),
                )
            )

            async def insert_waits_on_the_lock() -> int | None:
                waiting: int = await observer.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT%'"
                )
                return waiting or None

            await poll_until(insert_waits_on_the_lock, within=10)
            stopping = asyncio.ensure_future(stop_server(server, grace=10))
            await asyncio.sleep(0.2)
            assert not stopping.done(), "stop() must wait for the in-flight call"
            await transaction.rollback()
            created = await call
            await stopping
        assert created.name == "m"
    finally:
        await blocker.close()
        await observer.close()
