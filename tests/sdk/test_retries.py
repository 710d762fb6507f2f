"""Retries on UNAVAILABLE: a create whose answer is lost, or that starts while the server is
down, makes one resource, not two; what is not safe to repeat is not repeated; the call's
timeout and the policy bound the attempts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import pytest

import catapult
from catapult_server.config import Settings
from tests.support.lossy_proxy import LossyProxy
from tests.support.polling import poll_until
from tests.support.ports import free_port, refusing_port
from tests.support.sdk import ConnectFn, collect
from tests.support.servers import running_server, server_without_database, stop_server

FAST = catapult.RetryPolicy(max_attempts=50, initial_backoff=0.05, max_backoff=0.25)


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "catapult" and "retrying" in r.getMessage()]


async def test_create_whose_answer_is_lost_is_retried_into_one_resource(
    connect: ConnectFn,
    client: catapult.AsyncClient,
    writer_key: str,
    lossy: LossyProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    through_proxy = connect(writer_key, target=lossy.target, retry=FAST)
    model = await through_proxy.create_model("once", storage_path="s3://once/")
    assert lossy.lost == 1, "the first attempt's answer never reached the client"
    assert len(retries_logged(caplog)) == 1

    models = await collect(client.list_models(search="once"))
    assert [m.id for m in models] == [model.id]
    creates = await collect(client.list_audit_logs(resource_id=model.id, action="create"))
    assert len(creates) == 1 and creates[0].request_id, "one create, carrying the client's request_id"


async def test_without_retries_the_lost_answer_is_an_error_though_the_model_exists(
    connect: ConnectFn, client: catapult.AsyncClient, writer_key: str, lossy: LossyProxy
) -> None:
    through_proxy = connect(writer_key, target=lossy.target, retry=catapult.RetryPolicy.disabled())
    with pytest.raises(catapult.UnavailableError) as lost:
        await through_proxy.create_model("maybe", storage_path="s3://maybe/")
    assert lost.value.reason == "", "the failure came from the connection, not from the server"
    assert [m.name async for m in client.list_models()] == ["maybe"], "the first attempt did create it"


async def test_reads_are_retried_deletes_are_not(
    connect: ConnectFn,
    client: catapult.AsyncClient,
    writer_key: str,
    lossy: LossyProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = await client.create_model("m", storage_path="s3://m/")
    through_proxy = connect(writer_key, target=lossy.target, retry=FAST)
    assert (await through_proxy.get_model(model.id)).id == model.id
    assert lossy.lost == 1 and len(retries_logged(caplog)) == 1

    lossy.lose = 2
    with pytest.raises(catapult.UnavailableError):
        await through_proxy.delete_model(model.id)
    assert len(retries_logged(caplog)) == 1, "a delete that may have happened is not repeated"
    with pytest.raises(catapult.NotFoundError):
        await client.get_model(model.id)


async def test_create_retried_across_a_server_restart_makes_one_resource(
    connect: ConnectFn, settings: Settings, writer_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    fixed = dataclasses.replace(settings, grpc_port=free_port())
    async with running_server(fixed) as first:
        client = connect(writer_key, target=f"127.0.0.1:{fixed.grpc_port}", retry=FAST)
        assert (await client.health()).status == "ok"
        await stop_server(first, grace=0)

        create = asyncio.create_task(client.create_model("survivor", storage_path="s3://s/"))

        async def retrying() -> list[logging.LogRecord] | None:
            return retries_logged(caplog) or None

        await poll_until(retrying, within=10)
        assert not create.done()
        async with running_server(fixed):
            model = await asyncio.wait_for(create, timeout=20)
            assert [m.id async for m in client.list_models()] == [model.id]


async def test_unavailable_database_is_retried_then_raised(
    connect: ConnectFn, caplog: pytest.LogCaptureFixture
) -> None:
    # A server whose database is a port nobody listens on: its Health answers UNAVAILABLE.
    async with server_without_database() as broken:
        policy = catapult.RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
        client = connect(None, target=f"127.0.0.1:{broken.port}", retry=policy)
        with pytest.raises(catapult.UnavailableError) as unavailable:
            await client.health()
        assert unavailable.value.reason == "DATABASE_UNAVAILABLE"
        assert len(retries_logged(caplog)) == 2, "three attempts in all"


async def test_the_timeout_bounds_the_retries(connect: ConnectFn) -> None:
    patient = catapult.RetryPolicy(max_attempts=1000, initial_backoff=0.05, max_backoff=0.1)
    with refusing_port() as port:
        client = connect(None, target=f"127.0.0.1:{port}", retry=patient, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(catapult.UnavailableError):
            await client.health()
    assert time.monotonic() - started < 5


def test_retry_policy_backoff() -> None:
    policy = catapult.RetryPolicy(initial_backoff=1.0, multiplier=2.0, max_backoff=5.0, jitter=0.5)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        for _ in range(50):
            assert ceiling / 2 <= policy.backoff(attempt) <= ceiling
    assert catapult.RetryPolicy(jitter=0).backoff(2) == 1.0
    for bad in [{"max_attempts": 0}, {"multiplier": 0.5}, {"jitter": 2.0}, {"initial_backoff": -1}]:
        with pytest.raises(ValueError):
            catapult.RetryPolicy(**bad)  # type: ignore[arg-type]
