"""WatchChanges and WatchDeployments against one server: what each event says, the filters, resume
by cursor, and how a stream ends (too slow, too many, shutdown, revoked key, expired cursor)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import asyncpg
import grpc

from catapult.v1 import (
    api_key_service_pb2,
    model_pb2,
)
from catapult_server.auth import CLI_CALLER
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.server import CatapultServer
from catapult_server.services import audit_logs
from tests.support.api import (
    Stubs,
    auth,
    create_deployment,
    create_model,
    create_model_and_release,
    create_release,
    delete,
    update,
)
from tests.support.database import asyncpg_dsn
from tests.support.errors import error_details, expect_error
from tests.support.servers import running_server, stop_server
from tests.support.watch import Watching, started, watch_changes, watch_deployments, watching

ENDPOINT = "https://llm.example.com/v1/chat"
# 60 KB of metadata: a few hundred such events outgrow what the transport buffers for a stream.
BULKY = {"notes": "x" * 60_000}


def summary(watch: Watching) -> list[tuple[str, str, str]]:
    return [(e.type, e.resource_type, e.resource_id) for e in watch.events]


async def first_error(call: Any) -> grpc.aio.AioRpcError:
    """The error a stream ends with before its first event."""
    async for event in call:
        raise AssertionError(f"expected the stream to fail, got {event}")
    raise AssertionError("the stream ended without an error")


async def test_each_change_is_an_event_with_the_resource_after_it(
    stubs: Stubs, writer_key: str, reader_key: str
) -> None:
    async with watching(watch_changes(stubs, reader_key)) as watch:
        await started(watch)
        model = await create_model(stubs, writer_key, company="CompanyA")
        release = await create_release(stubs, writer_key, model.id)
        first = await create_deployment(
            stubs, writer_key, release.id, environment="production", endpoint_url=ENDPOINT
        )
        v2 = await create_release(stubs, writer_key, model.id)
        second = await create_deployment(
            stubs, writer_key, v2.id, environment="production", endpoint_url=ENDPOINT
        )
        await update(stubs, writer_key, "deployment", {"id": second.id, "replicas": 3}, ("replicas",))
        await delete(stubs, writer_key, "deployment", second.id)
        await delete(stubs, writer_key, "release", v2.id, force=True)

        await watch.count(10)
    assert summary(watch) == [
        ("created", "model", model.id),
        ("created", "release", release.id),
        ("created", "deployment", first.id),
        ("created", "release", v2.id),
        # One transaction: the deployment it replaced leaves its slot as the new one arrives.
        ("superseded", "deployment", first.id),
        ("created", "deployment", second.id),
        ("updated", "deployment", second.id),
        ("terminated", "deployment", second.id),
        # A forced delete takes the release's (terminated) deployments with it.
        ("deleted", "deployment", second.id),
        ("deleted", "release", v2.id),
    ]
    by_type = {(e.type, e.resource_id): e for e in watch.events}
    superseded = by_type["superseded", first.id].deployment
    assert (superseded.status, superseded.superseded_by_id) == ("terminated", second.id)
    created = by_type["created", second.id].deployment
    assert (created.status, created.replaces_id, created.company, created.model_name) == (
        "success",
        first.id,
        "CompanyA",
        model.name,
    )
    assert by_type["updated", second.id].deployment.replicas == 3
    assert by_type["deleted", v2.id].release.version == v2.version
    assert {e.api_key_name for e in watch.events} == {"test-writer"}
    assert all(e.time.seconds > 0 for e in watch.events)
    assert len({e.cursor for e in watch.events}) == 10


async def test_watch_deployments_keeps_what_its_filters_match(
    stubs: Stubs, writer_key: str, reader_key: str
) -> None:
    a_model = await create_model(stubs, writer_key, company="CompanyA")
    a_v1, a_v2 = [await create_release(stubs, writer_key, a_model.id) for _ in range(2)]
    _, b_release = await create_model_and_release(stubs, writer_key)
    async with (
        watching(watch_deployments(stubs, reader_key, environment="production", company="CompanyA")) as ours,
        watching(watch_deployments(stubs, reader_key, active_only=True, endpoint_url=ENDPOINT)) as live,
    ):
        await started(ours)
        await started(live)
        staging = await create_deployment(
            stubs, writer_key, a_v1.id, environment="staging", endpoint_url=ENDPOINT
        )
        other = await create_deployment(stubs, writer_key, b_release.id, environment="production")
        first = await create_deployment(
            stubs, writer_key, a_v1.id, environment="production", endpoint_url=ENDPOINT
        )
        rolling = await create_deployment(
            stubs, writer_key, a_v2.id, environment="production", endpoint_url=ENDPOINT, status="deploying"
        )
        await create_model(stubs, writer_key, company="CompanyA")  # not a deployment
        await update(stubs, writer_key, "deployment", {"id": rolling.id, "status": "success"}, ("status",))

        await ours.count(4)
        await live.count(4)
    assert other.id and staging.id
    assert summary(ours) == [
        ("created", "deployment", first.id),
        ("created", "deployment", rolling.id),
        ("superseded", "deployment", first.id),
        ("updated", "deployment", rolling.id),
    ]
    # What is live at the endpoint, in every environment: the rolling one is not, until it succeeds.
    assert summary(live) == [
        ("created", "deployment", staging.id),
        ("created", "deployment", first.id),
        ("superseded", "deployment", first.id),
        ("updated", "deployment", rolling.id),
    ]


async def test_api_key_changes_reach_admins_only(stubs: Stubs, admin_key: str, reader_key: str) -> None:
    async with (
        watching(watch_changes(stubs, reader_key)) as reader,
        watching(watch_changes(stubs, admin_key)) as admin,
    ):
        await started(reader)
        await started(admin)
        created = await stubs.api_keys.CreateApiKey(
            api_key_service_pb2.CreateApiKeyRequest(api_key={"name": "ci", "role": "reader"}),
            metadata=auth(admin_key),
        )
        model = await create_model(stubs, admin_key)
        await admin.count(2)
        await reader.count(1)
    assert summary(admin) == [("created", "api_key", created.api_key.id), ("created", "model", model.id)]
    assert summary(reader) == [("created", "model", model.id)]
    assert not admin.events[0].api_key.HasField("expires_at")

    denied = await expect_error(
        first_error(watch_changes(stubs, reader_key, resource_type="api_key")),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "admin" in denied.details()


async def test_resuming_from_a_cursor_delivers_every_later_change_once(stubs: Stubs, writer_key: str) -> None:
    async with watching(watch_changes(stubs, writer_key, resource_type="model")) as watch:
        await started(watch)
        models = [await create_model(stubs, writer_key) for _ in range(4)]
        await watch.count(4)
    after_first = watch.events[0].cursor
    async with watching(
        watch_changes(stubs, writer_key, cursor=after_first, resource_type="model")
    ) as resumed:
        await resumed.count(3)
        later = await create_model(stubs, writer_key)
        await resumed.count(4)
    assert [e.resource_id for e in resumed.events] == [m.id for m in models[1:]] + [later.id]
    assert resumed.events[:3] == watch.events[1:]


async def test_a_change_that_commits_late_is_delivered_after_what_committed_first(
    stubs: Stubs, writer_key: str, database_url: str
) -> None:
    """Commit order, not write order: a change written first but committed last comes last, and a
    watcher resuming from a cursor between the two commits does not skip it."""
    async with watching(watch_changes(stubs, writer_key)) as watch:
        await started(watch)
        await create_model(stubs, writer_key)
        await watch.count(1)
        before = watch.cursor
        slow, fast = (
            await asyncpg.connect(asyncpg_dsn(database_url)),
            await asyncpg.connect(asyncpg_dsn(database_url)),
        )
        try:
            late, early = model_pb2.Model(name="written-first"), model_pb2.Model(name="written-second")
            slow_tx = slow.transaction()
            await slow_tx.start()
            late.id = str(await insert_change(slow, late))
            async with fast.transaction():
                early.id = str(await insert_change(fast, early))
            await watch.count(2)
            between = watch.cursor
            await slow_tx.commit()
            await watch.count(3)
        finally:
            await slow.close()
            await fast.close()
    assert [e.model.name for e in watch.events[1:]] == ["written-second", "written-first"]
    for cursor, expected in ((before, ["written-second", "written-first"]), (between, ["written-first"])):
        async with watching(watch_changes(stubs, writer_key, cursor=cursor)) as resumed:
            await resumed.count(len(expected))
        assert [e.model.name for e in resumed.events] == expected


async def insert_change(connection: asyncpg.Connection, model: model_pb2.Model) -> Any:
    """An audit row as a create writes it (the server's own write path is too quick to interleave)."""
    return await connection.fetchval(
        "INSERT INTO audit_logs (id, action, resource_type, resource_id, snapshot) "
        "VALUES (gen_random_uuid(), 'create', 'model', gen_random_uuid(), $1) RETURNING resource_id",
        model.SerializeToString(),
    )


async def test_a_bad_cursor_is_invalid_argument(stubs: Stubs, reader_key: str) -> None:
    # The last one is a number, but one the feed has not reached: no registry issued it.
    for cursor in ("yesterday", "-1", "1e9", "999999999"):
        await expect_error(
            first_error(watch_changes(stubs, reader_key, cursor=cursor)),
            grpc.StatusCode.INVALID_ARGUMENT,
            field="cursor",
        )


async def test_a_slow_reader_is_cut_off_with_a_cursor_and_loses_nothing_by_resuming(
    settings: Settings, writer_key: str
) -> None:
    buffer = 50
    async with (
        running_server(dataclasses.replace(settings, watch_buffer=buffer)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as slow_channel,
    ):
        stubs = Stubs.for_channel(channel)
        stalled = watch_changes(Stubs.for_channel(slow_channel), writer_key, resource_type="model")
        await stalled.initial_metadata()  # in place, and then not read
        created: list[str] = []
        for _ in range(6):
            batch = [create_model(stubs, writer_key, metadata=BULKY) for _ in range(100)]
            created += [m.id for m in await asyncio.gather(*batch)]
            # What the server holds for the stalled stream stays within its buffer.
            assert all(size <= buffer for size in server.feed.waiting())

        received: list[str] = []
        error = None
        try:
            async for batch in stalled:
                received.extend(event.resource_id for event in batch.events)
        except grpc.aio.AioRpcError as ended:
            error = ended
        assert error is not None and error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
        details = error_details(error)
        assert details.reason == "WATCHER_TOO_SLOW"
        cursor = details.metadata["cursor"]
        assert cursor in error.details()
        assert len(received) < len(created)

        async with watching(
            watch_changes(stubs, writer_key, resource_type="model", cursor=cursor)
        ) as resumed:
            await resumed.count(len(created) - len(received), within=10)
        got = received + [e.resource_id for e in resumed.events]
        assert sorted(got) == sorted(created) and len(got) == len(set(got))


async def test_watch_streams_count_against_the_per_key_limit(
    settings: Settings, writer_key: str, reader_key: str
) -> None:
    async with (
        running_server(dataclasses.replace(settings, watch_limit_per_key=2)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stubs = Stubs.for_channel(channel)
        async with (
            watching(watch_changes(stubs, writer_key)) as one,
            watching(watch_deployments(stubs, writer_key)) as two,
        ):
            await started(one)
            await started(two)
            error = await expect_error(
                first_error(watch_changes(stubs, writer_key)),
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "TOO_MANY_WATCHES",
            )
            assert "2" in error.details()
            await started(Watching(watch_changes(stubs, reader_key)))  # another key has its own
        # Closed streams free their places.
        async with watching(watch_changes(stubs, writer_key)) as again:
            await started(again)


async def test_an_idle_stream_gets_heartbeats_that_keep_its_place(
    settings: Settings, writer_key: str
) -> None:
    async with (
        running_server(dataclasses.replace(settings, watch_heartbeat_seconds=0.3)) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stubs = Stubs.for_channel(channel)
        async with watching(watch_changes(stubs, writer_key)) as watch:
            await started(watch)
            await create_model(stubs, writer_key)
            await watch.count(1)
            seen = len(watch.heartbeats)
            await watch.until(lambda w: len(w.heartbeats) >= seen + 3, within=3, what="3 heartbeats")
    # Each a batch with no change, and the stream's place: the cursor of the last change sent.
    assert {(len(b.events), b.cursor) for b in watch.heartbeats[seen:]} == {(0, watch.cursor)}


async def test_stopping_the_server_ends_streams_at_once_with_unavailable(
    settings: Settings, writer_key: str
) -> None:
    server = CatapultServer(settings)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            watch = await started(Watching(watch_changes(Stubs.for_channel(channel), writer_key)))
            loop = asyncio.get_running_loop()
            began = loop.time()
            stopping = asyncio.create_task(stop_server(server, grace=10))
            error = await watch.ended(within=5)
            assert (error.code(), error_details(error).reason) == (
                grpc.StatusCode.UNAVAILABLE,
                "SERVER_SHUTTING_DOWN",
            )
            await stopping
            # A stream is not a call the drain waits for: the stop took nowhere near its grace.
            assert loop.time() - began < 5
    finally:
        await stop_server(server, grace=0)


async def test_a_key_revoked_while_watching_is_cut_off(stubs: Stubs, admin_key: str) -> None:
    created = await stubs.api_keys.CreateApiKey(
        api_key_service_pb2.CreateApiKeyRequest(api_key={"name": "dashboard", "role": "reader"}),
        metadata=auth(admin_key),
    )
    async with watching(watch_changes(stubs, created.secret)) as watch:
        await started(watch)
        await stubs.api_keys.RevokeApiKey(
            api_key_service_pb2.RevokeApiKeyRequest(id=created.api_key.id), metadata=auth(admin_key)
        )
        error = await watch.ended(within=6)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_cursor_older_than_the_pruned_audit_log_is_refused_with_what_to_do(
    stubs: Stubs, settings: Settings, writer_key: str, reader_key: str, database_url: str
) -> None:
    async with watching(watch_changes(stubs, reader_key)) as watch:
        await started(watch)
        for _ in range(3):
            await create_model(stubs, writer_key)
        await watch.count(3)
    first, second = (e.cursor for e in watch.events[:2])
    # `catapult audit prune` of the first two changes.
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        written = await connection.fetchval(
            "SELECT created_at FROM audit_logs WHERE commit_seq = $1", int(second)
        )
    finally:
        await connection.close()
    async with Database.open(settings) as db:
        await audit_logs.prune(db, CLI_CALLER, written + timedelta(microseconds=1))

    # After the first, the second is gone: the stream cannot be complete.
    error = await expect_error(
        first_error(watch_changes(stubs, reader_key, cursor=first)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "CURSOR_EXPIRED",
    )
    assert "list" in error.details()
    # After the second, nothing is missing.
    async with watching(watch_changes(stubs, reader_key, cursor=second)) as resumed:
        assert [e.resource_id for e in await resumed.count(1)] == [watch.events[2].resource_id]


async def test_a_streams_first_message_is_its_place(stubs: Stubs, writer_key: str) -> None:
    """Before any change: an empty batch with the cursor of the last change committed before the
    stream began, so a client that loses the stream at once resumes without a gap."""
    async with watching(watch_changes(stubs, writer_key)) as watch:
        await started(watch)
        await create_model(stubs, writer_key)
        await watch.count(1)
    call = watch_changes(stubs, writer_key)
    first = await call.read()
    call.cancel()
    assert (list(first.events), first.cursor) == ([], watch.cursor)
