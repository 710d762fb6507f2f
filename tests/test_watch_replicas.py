"""Watching across replicas: two `catapult serve` processes on one PostgreSQL, as production runs
them. A watcher on one sees what is written through the other, and a watcher cut off mid-burst
resumes on either from its last cursor with every change exactly once, in commit order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import grpc
import pytest

from catapult_server.config import Settings
from catapult_server.services import api_keys
from tests.support.api import (
    Stubs,
    create_deployment,
    create_model,
    create_release,
    delete,
    update,
)
from tests.support.database import asyncpg_dsn
from tests.support.servers import serve_process
from tests.support.watch import Watching, started, watch_changes, watching

ENDPOINT = "https://llm.example.com/v1/chat"


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Stubs, Stubs]]:
    """Stubs for two server processes on the test's database."""
    async with (
        serve_process(database_url, tmp_path / "a.log") as a,
        serve_process(database_url, tmp_path / "b.log") as b,
        grpc.aio.insecure_channel(f"127.0.0.1:{a}") as to_a,
        grpc.aio.insecure_channel(f"127.0.0.1:{b}") as to_b,
    ):
        yield Stubs.for_channel(to_a), Stubs.for_channel(to_b)


@pytest.fixture
async def key(settings: Settings) -> str:
    return (await api_keys.create_key_directly(settings, name="release-bot", role="writer")).secret


async def test_a_watcher_on_one_replica_sees_writes_through_the_other_within_a_second(
    replicas: tuple[Stubs, Stubs], key: str
) -> None:
    a, b = replicas
    async with watching(watch_changes(a, key)) as watch:
        await started(watch)
        seen = 0

        async def arrives(*expected: tuple[str, str]) -> None:
            """The next events are `expected` (type, resource id), each within 1 s of its write."""
            nonlocal seen
            written = time.monotonic()
            await watch.count(seen + len(expected), within=5)
            got = [(e.type, e.resource_id) for e in watch.events[seen:]]
            assert got == list(expected)
            assert watch.arrived[-1] - written <= 1.0, f"{expected} took {watch.arrived[-1] - written:.2f} s"
            seen += len(expected)

        model = await create_model(b, key)
        await arrives(("created", model.id))
        v1, v2 = await create_release(b, key, model.id), await create_release(b, key, model.id)
        await arrives(("created", v1.id), ("created", v2.id))
        first = await create_deployment(b, key, v1.id, environment="production", endpoint_url=ENDPOINT)
        await arrives(("created", first.id))
        await update(b, key, "deployment", {"id": first.id, "replicas": 4}, ("replicas",))
        await arrives(("updated", first.id))
        second = await create_deployment(b, key, v2.id, environment="production", endpoint_url=ENDPOINT)
        await arrives(("superseded", first.id), ("created", second.id))
        await delete(b, key, "deployment", second.id)
        await arrives(("terminated", second.id))
        await delete(b, key, "release", v2.id, force=True)
        await arrives(("deleted", second.id), ("deleted", v2.id))


BURST = 1000


@pytest.mark.parametrize("attempt", range(5))
async def test_a_watcher_cut_off_mid_burst_resumes_with_every_change_once_in_commit_order(
    replicas: tuple[Stubs, Stubs], key: str, database_url: str, attempt: int
) -> None:
    a, b = replicas
    limit = asyncio.Semaphore(64)

    async def write(n: int) -> str:
        async with limit:
            return (await create_model(a if n % 2 else b, key)).id  # through both replicas

    first = await started(Watching(watch_changes(a, key, resource_type="model")))
    burst = asyncio.gather(*(write(n) for n in range(BURST)))
    await first.count(BURST // 4 + 50 * attempt, within=30)
    await first.close()  # the client goes away mid-burst
    kept = list(first.events)
    async with watching(watch_changes(b, key, resource_type="model", cursor=kept[-1].cursor)) as resumed:
        created = await burst
        await resumed.count(BURST - len(kept), within=30)
        await asyncio.sleep(0.5)  # nothing more should come: a duplicate would arrive now
    got = kept + resumed.events
    ids = [e.resource_id for e in got]
    assert len(ids) == BURST and set(ids) == set(created)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        committed = await connection.fetch(
            "SELECT resource_id::text FROM audit_logs "
            "WHERE resource_type = 'model' AND resource_id = ANY($1::uuid[]) ORDER BY commit_seq",
            created,
        )
    finally:
        await connection.close()
    assert ids == [row[0] for row in committed]
