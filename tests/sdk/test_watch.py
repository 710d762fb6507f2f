"""Watching through both clients: `watch_deployments` and `watch_changes` deliver each change as it
commits, keep what their filters match, hide heartbeats, leave the server's stream when the caller
leaves the loop, and resume by themselves (from the last cursor, every change once and in order)
when the server restarts or cuts off a watch read too slowly."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

import catapult
from catapult_server.config import Settings
from tests.support.database import asyncpg_dsn
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.sdk import ConnectFn
from tests.support.servers import running_server, stop_server

ENDPOINT = "https://llm.example.com/v1/chat"
# Resumes that wait little and give up late: a server restart takes a moment.
PATIENT = catapult.RetryPolicy(max_attempts=200, initial_backoff=0.05, max_backoff=0.25)


class Following:
    """A watch read by a task of its own while the test goes on: its events as they arrive, and
    the error that ended it."""

    def __init__(self, watch: catapult.AsyncWatch) -> None:
        self.watch = watch
        self.events: list[catapult.ChangeEvent] = []
        self.error: catapult.CatapultError | None = None
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for event in self.watch:
                self.events.append(event)
        except catapult.CatapultError as error:
            self.error = error

    async def count(self, n: int, within: float = 10.0) -> list[catapult.ChangeEvent]:
        """The first `n` events, once they arrived."""
        await eventually(lambda: len(self.events) >= n or self._task.done(), within, f"{n} events")
        assert len(self.events) >= n, f"the watch ended after {len(self.events)} events: {self.error!r}"
        return self.events[:n]

    async def ended(self, within: float = 10.0) -> catapult.CatapultError:
        """The error the watch raised."""
        await eventually(self._task.done, within, "the watch's end")
        assert self.error is not None, "the watch ended without an error"
        return self.error

    async def close(self) -> None:
        """Close the watch from this task while its own waits for an event: the iteration stops."""
        await self.watch.close()
        await asyncio.wait_for(self._task, timeout=5)


@asynccontextmanager
async def following(watch: catapult.AsyncWatch) -> AsyncIterator[Following]:
    """`watch` in place (entered: what commits from now on reaches it), read for the block, closed after."""
    async with watch:
        followed = Following(watch)
        try:
            yield followed
        finally:
            await followed.close()


def summary(events: list[catapult.ChangeEvent]) -> list[tuple[str, str, str]]:
    return [(e.type, e.resource_type, e.resource_id) for e in events]


def resumes_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "catapult" and "resuming" in r.getMessage()]


@pytest.fixture
async def writer(target: str, writer_key: str) -> AsyncIterator[catapult.AsyncClient]:
    """The client that makes the changes the watches see (asyncio, whatever the test's flavour)."""
    async with catapult.AsyncClient(target, api_key=writer_key) as client:
        yield client


async def test_each_change_arrives_as_it_commits_with_the_resource_after_it(
    connect: ConnectFn, reader_key: str, writer: catapult.AsyncClient
) -> None:
    async with following(connect(reader_key).watch_changes()) as changes:
        model = await writer.create_model("m", storage_path="s3://m/", company="CompanyA")
        v1 = await writer.create_release("m", "1.0.0")
        first = await writer.record_deployment(v1.id, environment="production", endpoint_url=ENDPOINT)
        v2 = await writer.create_release("m", "1.1.0")
        second = await writer.record_deployment(v2.id, environment="production", endpoint_url=ENDPOINT)
        await writer.terminate_deployment(second.id)
        await changes.count(7)
    assert summary(changes.events) == [
        ("created", "model", model.id),
        ("created", "release", v1.id),
        ("created", "deployment", first.id),
        ("created", "release", v2.id),
        ("superseded", "deployment", first.id),
        ("created", "deployment", second.id),
        ("terminated", "deployment", second.id),
    ]
    assert changes.events[0].model.company == "CompanyA"
    assert changes.events[5].deployment.replaces_id == first.id
    assert {e.api_key_name for e in changes.events} == {"test-writer"}
    assert len({e.cursor for e in changes.events}) == 7
    assert changes.watch.cursor == changes.events[-1].cursor


async def test_watch_deployments_keeps_what_its_filters_match_with_the_model_by_name_or_id(
    connect: ConnectFn, reader_key: str, writer: catapult.AsyncClient
) -> None:
    a = await writer.create_model("a", storage_path="s3://a/", company="CompanyA")
    a1, a2 = await writer.create_release("a", "1.0.0"), await writer.create_release("a", "2.0.0")
    await writer.create_model("b", storage_path="s3://b/")
    b1 = await writer.create_release("b", "1.0.0")
    watcher = connect(reader_key)
    async with (
        following(watcher.watch_deployments(model="a", environment="production")) as by_name,
        following(watcher.watch_deployments(model=a.id, active_only=True, endpoint_url=ENDPOINT)) as live,
    ):
        staging = await writer.record_deployment(a1.id, environment="staging", endpoint_url=ENDPOINT)
        await writer.record_deployment(b1.id, environment="production")
        first = await writer.record_deployment(a1.id, environment="production", endpoint_url=ENDPOINT)
        rolling = await writer.record_deployment(
            a2.id, environment="production", endpoint_url=ENDPOINT, status="deploying"
        )
        await writer.update_deployment(rolling.id, status="success")
        await by_name.count(4)
        await live.count(4)
    assert summary(by_name.events) == [
        ("created", "deployment", first.id),
        ("created", "deployment", rolling.id),
        ("superseded", "deployment", first.id),
        ("updated", "deployment", rolling.id),
    ]
    # What of a's is live at the endpoint, in any environment: not `rolling` until it succeeds.
    assert [(t, i) for t, _, i in summary(live.events)] == [
        ("created", staging.id),
        ("created", first.id),
        ("superseded", first.id),
        ("updated", rolling.id),
    ]


# Each filter keyword and the request field it sets: a value the server refuses is reported on that
# field, so each keyword reaches the server as the field it names.
DEPLOYMENT_FILTERS = {
    "environment": "environment",
    "status": "status",
    "model": "model_name",
    "release_id": "release_id",
    "company": "company",
    "cluster": "cluster",
    "k8s_namespace": "k8s_namespace",
    "endpoint_url": "endpoint_url",
    "digest": "digest",
    "release_status": "release_status",
    "cursor": "cursor",
}
CHANGE_FILTERS = {"resource_type": "resource_type", "resource_id": "resource_id", "cursor": "cursor"}


async def test_every_filter_reaches_the_server_as_its_field(connect: ConnectFn, reader_key: str) -> None:
    watcher = connect(reader_key)
    watches: list[tuple[Callable[..., catapult.AsyncWatch], dict[str, str]]] = [
        (watcher.watch_deployments, DEPLOYMENT_FILTERS),
        (watcher.watch_changes, CHANGE_FILTERS),
    ]
    for watch, filters in watches:
        for keyword, field in filters.items():
            with pytest.raises(catapult.InvalidArgumentError) as invalid:
                async for event in watch(**{keyword: "not\x00valid"}):
                    raise AssertionError(f"{keyword}: an event {event} instead of an error")
            assert {v.field for v in invalid.value.field_violations} == {field}, keyword


async def test_an_expired_cursor_is_raised_not_resumed(
    connect: ConnectFn, reader_key: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:  # as a prune of the audit log through change 10 of 20 would leave it
        await connection.execute("UPDATE change_feed SET numbered_through = 20, pruned_through = 10")
    finally:
        await connection.close()
    with pytest.raises(catapult.FailedPreconditionError) as expired:
        async for event in connect(reader_key).watch_changes(cursor="5"):
            raise AssertionError(f"an event {event} instead of an error")
    assert expired.value.reason == "CURSOR_EXPIRED"
    assert resumes_logged(caplog) == []


async def test_heartbeats_move_the_cursor_and_are_not_yielded(
    connect: ConnectFn, settings: Settings, writer_key: str
) -> None:
    async with (
        running_server(dataclasses.replace(settings, watch_heartbeat_seconds=0.1)) as server,
        catapult.AsyncClient(f"127.0.0.1:{server.port}", api_key=writer_key) as writer,
    ):
        watcher = connect(writer_key, target=writer.target)
        async with following(watcher.watch_deployments(environment="production")) as production:
            # The stream's first message is its place: the watch has a cursor before any change.
            await eventually(lambda: production.watch.cursor != "", within=5, what="a cursor")
            since = production.watch.cursor
            assert production.events == [], "the heartbeat moved the cursor and was not yielded"
            await writer.create_model("m", storage_path="s3://m/")
            release = await writer.create_release("m", "1.0.0")
            await writer.record_deployment(release.id, environment="staging")
            live = await writer.record_deployment(release.id, environment="production")
            [event] = await production.count(1)
        assert (event.type, event.deployment.id) == ("created", live.id)
        assert production.watch.cursor == event.cursor != since

        # A heartbeat's cursor resumes a later watch: what committed after it, filtered.
        async with following(watcher.watch_deployments(environment="production", cursor=since)) as later:
            await later.count(1)
        assert later.events == [event]


async def test_leaving_a_watch_cancels_its_stream_on_the_server(
    connect: ConnectFn, settings: Settings, writer_key: str
) -> None:
    async with running_server(dataclasses.replace(settings, watch_limit_per_key=1)) as server:
        target = f"127.0.0.1:{server.port}"
        watcher = connect(writer_key, target=target)

        async def let_go() -> None:
            await eventually(lambda: server.feed.waiting() == [], within=5, what="the stream let go")

        async with catapult.AsyncClient(target, api_key=writer_key) as writer:
            # Leaving the `with` block.
            async with watcher.watch_changes() as watch:
                assert len(server.feed.waiting()) == 1
                with pytest.raises(catapult.ResourceExhaustedError) as too_many:
                    async for _ in watcher.watch_changes():
                        pass
                assert too_many.value.reason == "TOO_MANY_WATCHES", "the key's one stream is open"
                await writer.create_model("m1", storage_path="s3://m/")
                first = await anext(watch)
            await let_go()

            # Breaking out of the loop over a watch no one holds.
            await writer.create_model("m2", storage_path="s3://m/")
            async for event in watcher.watch_changes(cursor=first.cursor):
                assert event.model.name == "m2"
                break
            await let_go()

            # Closing it while another task waits in it for an event.
            async with following(watcher.watch_changes(cursor=event.cursor)) as waiting:
                await eventually(lambda: server.feed.waiting() == [0], within=5, what="the stream")
                await waiting.close()
                assert waiting.events == [] and waiting.error is None
                await let_go()


async def test_a_watch_resumes_across_a_server_restart_with_every_change_once_in_order(
    connect: ConnectFn,
    settings: Settings,
    writer: catapult.AsyncClient,
    writer_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The watcher's server stops and starts again on its port; the changes go through another
    server on the same database meanwhile (the `writer`'s), before, during and after."""
    written: list[str] = []

    async def write(n: int) -> None:
        for _ in range(n):
            written.append((await writer.create_model(f"m{len(written)}", storage_path="s3://m/")).id)

    restarting = dataclasses.replace(settings, grpc_port=free_port())
    async with running_server(restarting) as first:
        watcher = connect(writer_key, target=f"127.0.0.1:{restarting.grpc_port}", retry=PATIENT)
        async with following(watcher.watch_changes(resource_type="model")) as models:
            await write(3)
            await models.count(3)
            await stop_server(first, grace=1)
            await eventually(lambda: len(resumes_logged(caplog)) >= 2, within=10, what="resuming")
            await write(3)  # while the watcher has no stream
            async with running_server(restarting):
                await write(3)
                await models.count(9, within=20)
                await write(1)  # the last: anything that came twice would come before it
                await models.count(10)
    assert [e.resource_id for e in models.events] == written
    assert models.error is None
    cursor = models.events[2].cursor
    assert any(f"after cursor {cursor}" in line for line in resumes_logged(caplog)), resumes_logged(caplog)


async def test_a_watch_gives_up_when_the_server_stays_away(
    connect: ConnectFn, settings: Settings, writer_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    policy = catapult.RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    async with running_server(settings) as server:
        watcher = connect(writer_key, target=f"127.0.0.1:{server.port}", retry=policy)
        async with following(watcher.watch_changes()) as changes:
            await stop_server(server, grace=1)
            error = await changes.ended()
    assert isinstance(error, catapult.UnavailableError)
    assert len(resumes_logged(caplog)) == 2, "three streams in all, none of which received anything"


async def test_a_watch_outlives_the_client_timeout_and_ends_at_its_own(
    connect: ConnectFn, writer_key: str, writer: catapult.AsyncClient
) -> None:
    watcher = connect(writer_key, timeout=0.2)
    async with following(watcher.watch_changes()) as changes:
        await asyncio.sleep(0.6)  # thrice the client's timeout, which bounds calls but not watches
        model = await writer.create_model("m", storage_path="s3://m/")
        [event] = await changes.count(1)
        assert event.resource_id == model.id and changes.error is None

    began = time.monotonic()
    async with following(watcher.watch_changes(timeout=0.5)) as bounded:
        error = await bounded.ended(within=5)
    assert isinstance(error, catapult.DeadlineExceededError)
    assert 0.5 <= time.monotonic() - began < 5


async def test_a_watch_cut_off_for_reading_slowly_resumes_from_the_cursor_the_server_names(
    connect: ConnectFn, settings: Settings, writer_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server buffers 5 events for a watch; its transport, little more than one of these bulky
    ones: a watch not read while 40 are written is cut off (WATCHER_TOO_SLOW) and resumes."""
    bulky = {"notes": "x" * 60_000}
    small_window = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 65_536)]
    async with (
        running_server(dataclasses.replace(settings, watch_buffer=5)) as server,
        catapult.AsyncClient(f"127.0.0.1:{server.port}", api_key=writer_key) as writer,
    ):
        watcher = connect(writer_key, target=f"127.0.0.1:{server.port}", options=small_window)
        async with watcher.watch_changes(resource_type="model") as stalled:
            written = [
                (await writer.create_model(f"m{n}", storage_path="s3://m/", metadata=bulky)).id
                for n in range(40)
            ]
            got = []
            async for event in stalled:
                got.append(event.resource_id)
                if len(got) == len(written):
                    break
    assert got == written
    assert any("WATCHER_TOO_SLOW" in line for line in resumes_logged(caplog)), resumes_logged(caplog)
