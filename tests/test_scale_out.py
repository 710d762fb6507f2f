"""Replicas behind Envoy, as production runs them: `catapult serve` processes on one PostgreSQL,
the generated Envoy config in front, a client on Envoy's port (the Python SDK, its own retries
off: what it sees is what Envoy made of a failure).

- A replica SIGKILLed under a steady mixed load, and restarted 20 s later, costs no read and no
  create, and every acknowledged write is stored once.
- Each replica stopped with SIGTERM and restarted in turn costs no call at all.
- A write Envoy cannot safely repeat, in flight on a replica that is killed, is not repeated: the
  client sees UNAVAILABLE and retries with its own request_id (or re-reads, for an update).
- `catapult up --replicas N` runs N replicas behind its Envoy and restarts one that dies.

The kill and rolling-restart figures (calls, failures, p99 before, during and after) go to
build/scale-out.json and are printed; the README's Production section quotes them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import psutil
import pytest

import catapult
from catapult.v1 import model_pb2, model_service_pb2
from tests.support.api import Stubs, auth, create_model, unique, update
from tests.support.database import asyncpg_dsn
from tests.support.load import CREATE, READ, UPDATE, MixedLoad, Phase
from tests.support.paths import REPO, record_figure
from tests.support.polling import poll_until, wait_until
from tests.support.ports import is_free
from tests.support.rest import Rest, envoy_in_front
from tests.support.servers import ServeProcess, replicas
from tests.support.stack import Stack, Stacks, run_catapult

RESULTS = REPO / "build" / "scale-out.json"
# Calls per second, in the mix of tests/support/load.py. The machine the tests run on has two
# cores for the three servers, PostgreSQL, Envoy and the client.
RATE = 40.0
RETRIES = "cluster.catapult_grpc.upstream_rq_retry"
EDGE_COUNTERS = (
    "upstream_rq_retry",
    "upstream_rq_retry_success",
    "upstream_rq_retry_overflow",
    "outlier_detection.ejections_enforced_total",
    "health_check.failure",
)


def record(test: str, figures: dict[str, Any]) -> None:
    """Keep a test's figures in build/scale-out.json (each test its own entry) and print them."""
    record_figure(RESULTS, test, figures)
    print(f"\n{test}: {json.dumps(figures, indent=2)}")


async def edge_counters(edge: Rest) -> dict[str, int]:
    return {name: await edge.counter(f"cluster.catapult_grpc.{name}") for name in EDGE_COUNTERS}


@contextlib.asynccontextmanager
async def behind_envoy(
    database_url: str, key: str, work: Path, count: int
) -> AsyncIterator[tuple[list[ServeProcess], Rest, catapult.AsyncClient]]:
    """`count` replicas on the test's database, Envoy in front, and an SDK client on Envoy's port
    that does not retry by itself."""
    async with (
        replicas(database_url, work, count) as servers,
        envoy_in_front([server.port for server in servers], work / "envoy") as edge,
        catapult.AsyncClient(
            f"127.0.0.1:{edge.port}", api_key=key, retry=catapult.RetryPolicy.disabled(), timeout=60
        ) as client,
    ):
        yield servers, edge, client


async def taking_calls(edge: Rest, server: ServeProcess) -> None:
    """Until Envoy sends calls to `server` again (its health check passed)."""

    async def back() -> bool | None:
        return True if (await edge.upstreams())[server.port].taking_calls else None

    await poll_until(back, within=30, interval=0.1)


async def assert_stored_once(database_url: str, load: MixedLoad) -> dict[str, int]:
    """Every acknowledged create is the one model of its name, bound to its request_id; every
    update that ran (acknowledged, or found applied after an UNAVAILABLE) is in the audit log
    once, and no other update is. Returns what was checked."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        models = dict(
            await connection.fetch(
                "SELECT name, id::text FROM models WHERE name LIKE $1 AND name NOT LIKE $2",
                f"{load.prefix}-%",
                f"{load.prefix}-seed-%",
            )
        )
        claims = await connection.fetch(
            "SELECT request_id, resource_id::text FROM idempotency_keys WHERE request_id = ANY($1::text[])",
            [*load.created, *load.failed_creates],
        )
        updates = await connection.fetch(
            "SELECT resource_id::text, changes->'description'->>'new' AS value, count(*) AS times "
            "FROM audit_logs WHERE action = 'update' AND resource_type = 'model' "
            "AND resource_id = ANY($1::uuid[]) GROUP BY 1, 2",
            load.models,
        )
    finally:
        await connection.close()
    for name, model_id in load.created.values():
        assert models.get(name) == model_id, f"acknowledged create {name} is not stored as {model_id}"
    claimed = {row["request_id"]: row["resource_id"] for row in claims}
    assert len(claims) == len(claimed), "a request_id claimed twice"
    for request_id, (_, model_id) in load.created.items():
        assert claimed[request_id] == model_id
    stored = {(row["resource_id"], row["value"]): row["times"] for row in updates}
    ran = load.updated + load.in_doubt_applied
    assert all(stored.get(update) == 1 for update in ran), "an update that ran is not stored exactly once"
    assert sum(stored.values()) == len(ran), "an update that did not run was stored"
    unacknowledged = len(models) - len(load.created)
    assert unacknowledged <= len(load.failed_creates), "a model nobody created"
    return {"creates_stored": len(load.created), "updates_stored": len(ran)}


def phase_figures(phases: list[Phase]) -> dict[str, Any]:
    return {phase.name: asdict(phase) for phase in phases}


# --- a replica killed under load ------------------------------------------------------------

LOAD_SECONDS, KILL_AT, RESTART_AT = 60.0, 20.0, 40.0


async def test_a_replica_killed_under_load_and_restarted_costs_no_read_and_no_create(
    database_url: str, writer_key: str, tmp_path: Path
) -> None:
    async with behind_envoy(database_url, writer_key, tmp_path, 3) as (servers, edge, client):
        load = MixedLoad(client, RATE)
        await load.prepare()
        victim = servers[1]
        in_flight_at_kill = 0

        async def kill() -> None:
            """SIGKILL, at a moment the victim has calls in flight if one comes within 3 s: those
            are what Envoy must retry elsewhere (or, for an update, must not)."""
            nonlocal in_flight_at_kill
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                in_flight_at_kill = (await edge.upstreams())[victim.port].in_flight
                if in_flight_at_kill:
                    break
            victim.kill()

        back = await load.run(LOAD_SECONDS, {KILL_AT: kill, RESTART_AT: victim.start})
        await taking_calls(edge, victim)
        counters = await edge_counters(edge)
    # During: from the kill until the restarted replica serves again.
    phases = load.phases(("before", 0, KILL_AT), ("during", KILL_AT, back), ("after", back, float("inf")))
    stored = await assert_stored_once(database_url, load)
    updates_cut_off = load.failures(UPDATE)
    record(
        "kill",
        {
            "replicas": 3,
            "rate_per_s": RATE,
            "seconds": LOAD_SECONDS,
            "calls": len(load.calls),
            "phases": phase_figures(phases),
            "in_flight_on_the_victim_at_the_kill": in_flight_at_kill,
            "updates_cut_off": len(updates_cut_off),
            "updates_cut_off_that_had_run": len(load.in_doubt_applied),
            "envoy": counters,
            **stored,
        },
    )
    assert load.failures(READ) == []
    assert load.failures(CREATE) == []
    # An update in flight on the killed replica may have run: Envoy does not repeat it, and its
    # client hears UNAVAILABLE (then reads the model back to learn whether it ran).
    assert all(call.error.startswith("UnavailableError") for call in updates_cut_off), updates_cut_off
    assert counters["upstream_rq_retry"] > 0, "the kill cost no retry: did the load reach the victim?"


# --- a rolling restart --------------------------------------------------------------------------


async def test_each_replica_stopped_with_sigterm_and_restarted_in_turn_costs_no_call(
    database_url: str, writer_key: str, tmp_path: Path
) -> None:
    async with behind_envoy(database_url, writer_key, tmp_path, 3) as (servers, edge, client):
        load = MixedLoad(client, RATE)
        await load.prepare()
        exits: list[int] = []
        roll_began = 5.0

        async def roll() -> None:
            for server in servers:
                server.terminate()
                exits.append(await server.exited())
                await server.start()
                await taking_calls(edge, server)  # one at a time, as a Deployment's rolling update

        roll_ended = await load.run(15.0, {roll_began: roll}, after_events=10.0)
        counters = await edge_counters(edge)
    phases = load.phases(
        ("before", 0, roll_began), ("during", roll_began, roll_ended), ("after", roll_ended, float("inf"))
    )
    stored = await assert_stored_once(database_url, load)
    record(
        "rolling_restart",
        {
            "replicas": 3,
            "rate_per_s": RATE,
            "calls": len(load.calls),
            "roll_seconds": round(roll_ended - roll_began, 1),
            "phases": phase_figures(phases),
            "envoy": counters,
            **stored,
        },
    )
    assert exits == [0, 0, 0], "a replica did not drain and exit cleanly on SIGTERM"
    assert load.failures() == []
    assert load.in_doubt_applied == load.in_doubt_lost == []


# --- a write in flight on a killed replica ---------------------------------------------------


async def replica_with_a_call_waiting(
    edge: Rest, blocker: asyncpg.Connection, servers: list[ServeProcess]
) -> ServeProcess | None:
    """The one replica with a call in flight (Envoy's view), once a database session waits on the
    blocker's lock; None before."""
    waiting = await blocker.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    if not waiting:
        return None
    upstreams = await edge.upstreams()
    busy = [server for server in servers if server.running and upstreams[server.port].in_flight]
    return busy[0] if len(busy) == 1 else None


async def sessions_settled(blocker: asyncpg.Connection) -> bool | None:
    """True once every database session but the blocker's is idle: a killed replica's session has
    noticed its client is gone (which it does only when it next talks to it) and rolled its
    transaction back."""
    busy = await blocker.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "AND state <> 'idle' AND pid <> pg_backend_pid()"
    )
    return True if busy == 0 else None


@contextlib.asynccontextmanager
async def models_locked(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """For the block, a transaction holding the models table in SHARE mode: every create and
    update of a model waits on it (reads do not). Rolled back after the block, if still open."""
    blocker = await asyncpg.connect(asyncpg_dsn(database_url))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE models IN SHARE MODE")
    try:
        yield blocker
    finally:
        with contextlib.suppress(asyncpg.InterfaceError):
            await transaction.rollback()
        await blocker.close()


async def cut_off_in_flight(
    call: Awaitable[Any], edge: Rest, blocker: asyncpg.Connection, servers: list[ServeProcess]
) -> tuple[asyncio.Future[Any], ServeProcess]:
    """`call` started, found waiting on the blocker's lock on a replica, and that replica killed."""
    running = asyncio.ensure_future(call)
    victim = await poll_until(lambda: replica_with_a_call_waiting(edge, blocker, servers), within=30)
    victim.kill()
    await victim.exited()
    return running, victim


@pytest.mark.parametrize("write", ["create without an idempotency-key", "update with an etag"])
async def test_a_write_in_flight_on_a_killed_replica_is_not_repeated_by_envoy(
    database_url: str, writer_key: str, tmp_path: Path, write: str
) -> None:
    async with (
        replicas(database_url, tmp_path, 2) as servers,
        envoy_in_front([server.port for server in servers], tmp_path / "envoy") as edge,
        grpc.aio.insecure_channel(f"127.0.0.1:{edge.port}") as channel,
    ):
        stubs = Stubs.for_channel(channel)
        model = await create_model(stubs, writer_key)
        name = unique("in-flight")
        # The request_id in the body only: as far as Envoy can tell, a write like any other.
        create = model_service_pb2.CreateModelRequest(
            model=model_pb2.Model(name=name, storage_path="s3://ml-models/in-flight/"),
            request_id=f"req-{name}",
        )
        write_call: Callable[[], Awaitable[Any]] = (
            (lambda: stubs.models.CreateModel(create, metadata=auth(writer_key)))
            if write.startswith("create")
            else (
                lambda: update(
                    stubs, writer_key, "model", {"id": model.id, "description": name}, etag=model.etag
                )
            )
        )
        async with models_locked(database_url) as blocker:
            running, _ = await cut_off_in_flight(write_call(), edge, blocker, servers)
            with pytest.raises(grpc.aio.AioRpcError) as cut:
                await running
            assert cut.value.code() == grpc.StatusCode.UNAVAILABLE
            assert await edge.counter(RETRIES) == 0, "Envoy sent the write to the other replica"
            await blocker.execute("ROLLBACK")
            await poll_until(lambda: sessions_settled(blocker), within=30)
        # What the killed replica had begun was rolled back: nothing happened.
        models = await stubs.models.ListModels(
            model_service_pb2.ListModelsRequest(search=name), metadata=auth(writer_key)
        )
        current = await stubs.models.GetModel(
            model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
        )
        assert list(models.models) == [] and current.etag == model.etag
        # The client retries, with its request_id (or, for an update, the etag it holds): done once.
        await write_call()
        models = await stubs.models.ListModels(
            model_service_pb2.ListModelsRequest(search=name), metadata=auth(writer_key)
        )
        current = await stubs.models.GetModel(
            model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
        )
    if write.startswith("create"):
        assert [m.name for m in models.models] == [name]
    else:
        assert current.description == name


async def test_a_create_with_an_idempotency_key_in_flight_on_a_killed_replica_is_finished_by_another(
    database_url: str, writer_key: str, tmp_path: Path
) -> None:
    async with behind_envoy(database_url, writer_key, tmp_path, 2) as (servers, edge, client):
        name = unique("in-flight")
        async with models_locked(database_url) as blocker:
            # The SDK sends the request_id as the idempotency-key header too.
            running, victim = await cut_off_in_flight(
                client.create_model(name, storage_path="s3://ml-models/in-flight/"), edge, blocker, servers
            )
            survivor = next(server for server in servers if server is not victim)
            # Envoy sent it to the other replica, which waits for the killed one's claim of the
            # request_id to be settled.
            await poll_until(lambda: replica_with_a_call_waiting(edge, blocker, [survivor]), within=30)
            await blocker.execute("ROLLBACK")
            created = await running
        assert await edge.counter(RETRIES) == 1
        assert [m.id for m in [m async for m in client.list_models(search=name)]] == [created.id]


# --- catapult up --replicas ----------------------------------------------------------------------


def consecutive_free_ports(count: int) -> int:
    """The first of `count` consecutive ports nothing has now."""
    for base in range(20000 + (time.monotonic_ns() // 1000) % 20000, 60000, count):
        if all(is_free(base + n) for n in range(count)):
            return base
    raise AssertionError(f"no {count} consecutive free ports")


def test_up_with_replicas_balances_over_each_and_restarts_one_that_dies(
    tmp_path: Path, stacks: Stacks
) -> None:
    base = consecutive_free_ports(3)
    stack = stacks.start(Stack(tmp_path / "stack", "--replicas", "3", grpc_port=base))
    addresses = [f"127.0.0.1:{base + n}" for n in range(3)]
    assert f"replicas:   3 server processes on {', '.join(addresses)}" in stack.output(), stack.output()
    for address in addresses:
        assert run_catapult("healthcheck", "--addr", address).returncode == 0, stack.context()
    replica_pids = stack.worker_pids()
    assert len(replica_pids) == 3, stack.context()

    psutil.Process(replica_pids[1]).kill()
    failures = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # reads through Envoy while the replica is down, and back
        failures += stack.get("/api/v1/models", stack.admin_key)[0] != 200
        time.sleep(0.05)
    assert failures == 0, stack.context()
    wait_until(lambda: "restarted" in stack.output(), 30, stack.context())
    assert "died (signal 9); restarting in 1 s" in stack.output()
    wait_until(lambda: len(stack.worker_pids()) == 3, 30, stack.context())
    assert stack.stop() == 0, stack.context()


def test_up_refuses_workers_with_replicas(tmp_path: Path) -> None:
    result = run_catapult("up", "--data-dir", str(tmp_path / "s"), "--replicas", "2", "--workers", "2")
    assert result.returncode == 2 and "--replicas runs one server process per replica" in result.stderr
    assert not (tmp_path / "s").exists()
