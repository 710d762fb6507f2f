"""The `catapult` command as a new user runs it: real subprocesses, real embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import stat
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catapult.v1 import (
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    model_service_pb2_grpc,
)
from tests.support import rest
from tests.support.api import Stubs, auth, create_model_and_release
from tests.support.database import asyncpg_dsn
from tests.support.paths import REPO
from tests.support.polling import poll_until, wait_until
from tests.support.ports import free_port, is_free, refusing_port
from tests.support.stack import STOP_WITHIN, Stack, Stacks, alive, run_catapult

ListModels = model_service_pb2.ListModelsRequest


def test_up_bootstraps_a_key_and_keeps_data_across_restarts(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "stack"
    first = stacks.start(Stack(data_dir))
    assert "Catapult" in first.output()
    assert "Warning" not in first.output(), "no warning noise"
    key_file = data_dir / "admin-key"
    assert str(key_file.resolve()) in first.output()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    auth = (("x-api-key", key),)
    model = model_pb2.Model(name="survives-restart", storage_path="s3://m/")
    first.models().CreateModel(model_service_pb2.CreateModelRequest(model=model), metadata=auth)
    assert first.stop() == 0

    second = stacks.start(Stack(data_dir, grpc_port=first.grpc_port))
    assert "from the first start" in second.output()
    assert key_file.read_text().strip() == key, "the bootstrap key is made once"
    found = second.models().GetModelByName(
        model_service_pb2.GetModelByNameRequest(name="survives-restart"), metadata=auth
    )
    assert found.storage_path == "s3://m/"
    assert second.stop() == 0


def test_two_stacks_run_side_by_side(tmp_path: Path, stacks: Stacks) -> None:
    a = stacks.start(Stack(tmp_path / "a"))
    b = stacks.start(Stack(tmp_path / "b"))
    key_a, key_b = a.admin_key, b.admin_key
    assert key_a != key_b
    a.models().CreateModel(
        model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="only-in-a", storage_path="s3://a/")),
        metadata=(("x-api-key", key_a),),
    )
    listed = b.models().ListModels(ListModels(), metadata=(("x-api-key", key_b),))
    assert [m.name for m in listed.models] == []
    with pytest.raises(grpc.RpcError) as wrong_stack:
        b.models().ListModels(ListModels(), metadata=(("x-api-key", key_a),))
    assert wrong_stack.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert a.stop() == 0
    assert b.stop() == 0


# --- ports: no split brain ---------------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on (no SO_REUSEPORT, as most programs do)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_a_taken_grpc_port_is_refused_by_up_and_serve(tmp_path: Path, taken_port: int) -> None:
    data_dir = tmp_path / "s"
    up = run_catapult(
        "up", "--data-dir", str(data_dir), "--grpc-port", str(taken_port), "--http-port", str(free_port())
    )
    assert up.returncode == 2, up.stdout + up.stderr
    assert f"127.0.0.1:{taken_port} is already in use" in up.stderr and "--grpc-port" in up.stderr
    assert "Traceback" not in up.stderr
    assert not data_dir.exists(), "nothing is started or written before the check"

    serve = run_catapult(
        "serve",
        "--host",
        "127.0.0.1",
        "--grpc-port",
        str(taken_port),
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/none",
        env={"CATAPULT_KEY_PEPPER": "p" * 32, "CATAPULT_PAGE_TOKEN_SECRET": "s" * 32},
    )
    assert serve.returncode == 2, serve.stdout + serve.stderr
    assert f"127.0.0.1:{taken_port} is already in use" in serve.stderr and "--grpc-port" in serve.stderr


def test_a_second_up_on_the_same_ports_or_data_dir_is_refused(tmp_path: Path, stacks: Stacks) -> None:
    # The first stack's workers listen with SO_REUSEPORT: the kernel would let a second stack's
    # workers listen beside them and split the connections between two databases.
    first = stacks.start(Stack(tmp_path / "first", "--workers", "2"))
    auth = (("x-api-key", first.admin_key),)
    first.models().CreateModel(
        model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="in-first", storage_path="s3://f/")),
        metadata=auth,
    )
    second_dir = tmp_path / "second"
    for flag, grpc_port, http_port in (
        ("--grpc-port", first.grpc_port, free_port()),
        ("--http-port", free_port(), first.http_port),
    ):
        ports = ["--grpc-port", str(grpc_port), "--http-port", str(http_port)]
        second = run_catapult("up", "--data-dir", str(second_dir), *ports)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "is already in use" in second.stderr and flag in second.stderr, second.stderr
        assert not second_dir.exists()
    # The same data dir on ports of its own: the same database, and the first one's Envoy files.
    ports = ["--grpc-port", str(free_port()), "--http-port", str(free_port())]
    same_dir = run_catapult("up", "--data-dir", str(first.data_dir), *ports)
    assert same_dir.returncode == 2, same_dir.stdout + same_dir.stderr
    assert f"is in use by another `catapult up` (pid {first.process.pid})" in same_dir.stderr
    # Every connection still reaches the first stack: each call on a connection of its own.
    for _ in range(8):
        with grpc.insecure_channel(f"127.0.0.1:{first.grpc_port}", options=[OWN_CONNECTION]) as channel:
            listed = model_service_pb2_grpc.ModelServiceStub(channel).ListModels(ListModels(), metadata=auth)
        assert [m.name for m in listed.models] == ["in-first"]
    assert first.stop() == 0


# A channel option that gives the channel a connection of its own (gRPC shares one between the
# channels of a process otherwise), so the kernel picks a listening worker for each.
OWN_CONNECTION = ("grpc.use_local_subchannel_pool", 1)


# --- processes: no orphans, supervision ----------------------------------------------------


def listens(pid: int, port: int) -> bool:
    try:
        connections = psutil.Process(pid).net_connections("tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


def test_workers_share_the_port_and_survive_one_another(tmp_path: Path, stacks: Stacks) -> None:
    stack = stacks.start(Stack(tmp_path / "workers", "--workers", "3"))
    auth = (("x-api-key", stack.admin_key),)
    workers = stack.worker_pids()
    assert len(workers) == 3, workers
    assert all(listens(pid, stack.grpc_port) for pid in workers), "every worker listens on the one gRPC port"

    killed = workers[0]
    psutil.Process(killed).send_signal(signal.SIGKILL)  # a crashed worker
    wait_until(
        lambda: "restarted" in stack.output(), 30, f"the killed worker was not restarted:\n{stack.context()}"
    )
    died = re.search(r"worker (\d) died \(signal 9\); restarting in 1 s", stack.output())
    assert died, stack.output()
    assert f"worker {died.group(1)} restarted" in stack.output()
    assert not Path(f"/proc/{killed}").exists(), "the killed worker was reaped, not left a zombie"
    restarted = stack.worker_pids()
    assert len(restarted) == 3 and killed not in restarted, restarted
    assert all(listens(pid, stack.grpc_port) for pid in restarted)

    # The stack answers on its port all along: connections reach the survivors and the new one.
    for _ in range(9):
        with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}", options=[OWN_CONNECTION]) as channel:
            listed = model_service_pb2_grpc.ModelServiceStub(channel).ListModels(ListModels(), metadata=auth)
        assert list(listed.models) == []
    assert stack.stop() == 0
    assert not any(alive(pid) for pid in restarted), "stopping `up` stops every worker"


def test_a_killed_up_leaves_nothing_running_and_starts_again(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "killed"
    first = stacks.start(Stack(data_dir, "--workers", "2"))
    key = first.admin_key
    started = first.started_pids()
    postmaster = first.postmaster_pid()
    assert postmaster in started and first.envoy_pid() in started, first.context()
    assert set(first.worker_pids()) <= started and len(first.worker_pids()) == 2

    first.kill()
    wait_until(
        lambda: not any(alive(pid) for pid in started),
        5,
        f"still running 5 s after SIGKILL: {[pid for pid in started if alive(pid)]}\n{first.context()}",
        interval=0.05,
    )
    assert is_free(first.grpc_port) and is_free(first.http_port)

    second = stacks.start(
        Stack(data_dir, "--workers", "2", grpc_port=first.grpc_port, http_port=first.http_port)
    )
    assert second.admin_key == key
    listed = second.models().ListModels(ListModels(), metadata=(("x-api-key", key),))
    assert list(listed.models) == []
    assert second.stop() == 0
    assert second.postmaster_pid() is None, "Ctrl-C stops the embedded PostgreSQL too"


# --- the api-key and audit commands --------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["api-key", "create", "--name", "ci"],
        ["api-key", "list"],
        ["api-key", "revoke", "ci"],
        ["audit", "prune", "--before", "2026-01-01"],
    ],
    ids=" ".join,
)
def test_commands_on_the_database_need_a_stack(tmp_path: Path, command: list[str]) -> None:
    result = run_catapult(*command, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (
        "catapult: no Catapult stack in ./.catapult: start one with `make run`, "
        "or pass --data-dir / --database-url\n"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == [], "nothing is created"

    elsewhere = run_catapult(*command, "--data-dir", str(tmp_path / "other"), cwd=tmp_path)
    assert elsewhere.returncode == 2
    assert f"start one with `catapult up --data-dir {tmp_path / 'other'}`" in elsewhere.stderr
    assert list(tmp_path.iterdir()) == []


def test_commands_on_a_database_url_say_what_is_missing(tmp_path: Path) -> None:
    with refusing_port() as port:
        url = f"postgresql://catapult:secret@127.0.0.1:{port}/registry"
        create = run_catapult("api-key", "create", "--name", "ci", "--database-url", url, cwd=tmp_path)
        assert create.returncode == 2, create.stderr
        assert create.stderr.startswith(
            "catapult: CATAPULT_KEY_PEPPER must be set to the pepper of the servers"
        )
        listed = run_catapult("api-key", "list", "--database-url", url, cwd=tmp_path)
    assert listed.returncode == 1, listed.stderr
    assert listed.stderr == (
        f"catapult: cannot reach the database at postgresql://catapult:***@127.0.0.1:{port}/registry: "
        "is it running, and is --database-url (CATAPULT_DATABASE_URL) right?\n"
    )
    assert list(tmp_path.iterdir()) == [], "nothing is created: no pepper made up, no ./.catapult"


def test_api_key_commands_against_a_data_dir(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "keys"
    stack = stacks.start(Stack(data_dir))

    def catapult(*args: str) -> subprocess.CompletedProcess[str]:
        return run_catapult(*args, "--data-dir", str(data_dir))

    created = catapult("api-key", "create", "--name", "ci", "--role", "reader")
    assert created.returncode == 0, created.stderr
    assert created.stderr == "", "no warning noise"
    key = created.stdout.strip()
    assert created.stdout == key + "\n", "only the key is printed, so KEY=$(catapult api-key create …) works"
    assert key.startswith("ctp_")
    listed = stack.models().ListModels(ListModels(), metadata=(("x-api-key", key),))
    assert list(listed.models) == []

    table = catapult("api-key", "list")
    assert table.returncode == 0 and table.stderr == "", table.stderr
    assert "ci" in table.stdout and "reader" in table.stdout and key not in table.stdout

    duplicate = catapult("api-key", "create", "--name", "ci")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr

    def rejected(secret: str) -> Callable[[], bool]:
        def check() -> bool:
            try:
                stack.models().ListModels(ListModels(), metadata=(("x-api-key", secret),))
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                return True
            return False

        return check

    # By name, by prefix, by id: each names the key it revoked.
    by_prefix = catapult("api-key", "create", "--name", "by-prefix")
    by_id = catapult("api-key", "create", "--name", "by-id")
    rows = {line.split()[1]: line.split() for line in catapult("api-key", "list").stdout.splitlines()[1:]}
    for name, secret, named_as in (
        ("ci", key, "ci"),
        ("by-prefix", by_prefix.stdout.strip(), rows["by-prefix"][3]),
        ("by-id", by_id.stdout.strip(), rows["by-id"][0]),
    ):
        revoked = catapult("api-key", "revoke", named_as)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.startswith(f"revoked {name} ("), revoked.stdout
        wait_until(rejected(secret), 10, f"a revoked key kept working: {name}", interval=0.2)

    again = catapult("api-key", "revoke", "ci")
    assert again.returncode == 1
    assert re.fullmatch(
        r"catapult: ci \(ctp_\w+\) was already revoked on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n", again.stderr
    )

    unknown = catapult("api-key", "revoke", "no-such-key")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "catapult: no API key has the name, prefix or id 'no-such-key': "
        "`catapult api-key list --all` lists them\n"
    )

    last_admin = catapult("api-key", "revoke", "bootstrap-admin")
    assert last_admin.returncode == 1
    assert "last active admin key" in last_admin.stderr and "--role admin" in last_admin.stderr
    assert stack.stop() == 0


def test_audit_prune_deletes_old_rows_and_is_audited(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "audit"
    stack = stacks.start(Stack(data_dir))
    client = stack.client()
    client.create_model(name="before-the-prune", storage_path="s3://m/")
    old_rows = len(list(client.list_audit_logs()))  # the model's, the bootstrap key's
    assert old_rows >= 2

    future = run_catapult("audit", "prune", "--before", "2999-01-01", "--data-dir", str(data_dir))
    assert future.returncode == 1 and "must not be in the future" in future.stderr
    bad = run_catapult("audit", "prune", "--before", "last tuesday", "--data-dir", str(data_dir))
    assert bad.returncode == 2 and "is not an ISO date" in bad.stderr

    moment = datetime.now(UTC).replace(tzinfo=None).isoformat()  # UTC, as the command reads it
    pruned = run_catapult("audit", "prune", "--before", moment, "--data-dir", str(data_dir))
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout == f"deleted {old_rows} audit log rows created before {moment}+00:00\n"
    (row,) = list(client.list_audit_logs())
    assert (row.action, row.resource_type, row.api_key_name) == ("prune", "audit_log", "catapult-cli")
    assert dict(row.changes) == {"before": f"{moment}+00:00", "deleted": old_rows}
    assert stack.stop() == 0


def test_serve_refuses_to_start_without_a_pepper() -> None:
    result = run_catapult("serve", "--database-url", "postgresql://nobody@localhost/none")
    assert result.returncode == 2
    assert "CATAPULT_KEY_PEPPER" in result.stderr


# --- the drain on SIGTERM ------------------------------------------------------------------


async def test_sigterm_drains_every_worker_then_stops_envoy(
    tmp_path: Path, stacks: Stacks, database_url: str
) -> None:
    """50 writes in flight (waiting on a row lock), through both workers and through Envoy, when
    `catapult up` gets SIGTERM: every one of them finishes and is stored, calls made during the
    drain are refused UNAVAILABLE, and none is CANCELLED."""
    settings = {
        "database_url": database_url,  # outlives the stack: what was stored is read afterwards
        "shutdown_grace": "30",
        "request_timeout": "60",
        "db_pool_size": "50",  # each worker can hold all 50 calls in the database at once
    }
    stack = await asyncio.to_thread(
        stacks.start, Stack(tmp_path / "drain", "--workers", "2", settings=settings)
    )
    key, target = stack.admin_key, f"127.0.0.1:{stack.grpc_port}"
    async with grpc.aio.insecure_channel(target) as setup:
        _, release = await create_model_and_release(Stubs.for_channel(setup), key)

    locker = await asyncpg.connect(asyncpg_dsn(database_url))
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    channels = [grpc.aio.insecure_channel(target, options=[OWN_CONNECTION]) for _ in range(16)]
    rest_threads = ThreadPoolExecutor(max_workers=11)  # the 10 writes, and one during the drain
    loop = asyncio.get_running_loop()

    async def deploy_grpc(number: int) -> tuple[str, str]:
        stub = Stubs.for_channel(channels[number % len(channels)]).deployments
        deployment = deployment_pb2.Deployment(
            release_id=release.id, environment="production", endpoint_url=f"https://drain.test/{number}"
        )
        try:
            made = await stub.CreateDeployment(
                deployment_service_pb2.CreateDeploymentRequest(deployment=deployment), metadata=auth(key)
            )
        except grpc.aio.AioRpcError as error:
            return error.code().name, ""
        return "OK", made.id

    async def deploy_rest(number: int) -> tuple[str, str]:
        body = {
            "release_id": release.id,
            "environment": "production",
            "endpoint_url": f"https://drain.test/{number}",
        }
        reply = await loop.run_in_executor(
            rest_threads,
            rest.request,
            stack.http_port,
            "POST",
            "/api/v1/deployments",
            body,
            {"X-API-Key": key},
        )
        return ("OK", reply.json()["id"]) if reply.status == 200 else (f"HTTP {reply.status}", "")

    try:
        holding = locker.transaction()
        await holding.start()
        # A deploy takes the release FOR SHARE: with the row held FOR UPDATE here, every one waits.
        await locker.execute("SELECT 1 FROM releases WHERE id = $1 FOR UPDATE", uuid.UUID(release.id))
        writes = [asyncio.create_task(deploy_grpc(n)) for n in range(40)]
        writes += [asyncio.create_task(deploy_rest(n)) for n in range(40, 50)]

        async def all_waiting() -> bool | None:
            # From a connection of its own: in the locker's transaction, pg_stat_activity would
            # show the same snapshot every time.
            waiting = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            return True if waiting >= 50 else None

        await poll_until(all_waiting, within=60, interval=0.1)
        for pid in stack.worker_pids():
            assert any(
                c.status == psutil.CONN_ESTABLISHED and c.laddr.port == stack.grpc_port
                for c in psutil.Process(pid).net_connections("tcp")
            ), "each worker has calls in flight"

        stack.process.terminate()

        def draining(channel: grpc.aio.Channel) -> Callable[[], Awaitable[bool | None]]:
            async def check() -> bool | None:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
                return True if reply.status == health_pb2.HealthCheckResponse.NOT_SERVING else None

            return check

        for channel in channels:  # each connection reaches a worker, each worker is draining
            await poll_until(draining(channel), within=30)
        refused = await asyncio.gather(*(deploy_grpc(n) for n in range(100, 116)))
        assert {code for code, _ in refused} == {"UNAVAILABLE"}, refused
        assert (await deploy_rest(200))[0] == "HTTP 503"

        await holding.rollback()  # the writes in flight go on
        results = await asyncio.gather(*writes)
        codes = [code for code, _ in results]
        assert codes.count("CANCELLED") == 0 and codes == ["OK"] * 50, codes
        assert await asyncio.to_thread(stack.process.wait, STOP_WITHIN) == 0, stack.context()
        stored = await observer.fetch(
            "SELECT id FROM deployments WHERE release_id = $1", uuid.UUID(release.id)
        )
        assert {str(row["id"]) for row in stored} == {made for _, made in results}, (
            "every acknowledged write is stored"
        )
    finally:
        await locker.close()  # rolls the transaction back if the test failed holding it
        await observer.close()
        for channel in channels:
            await channel.close()
        rest_threads.shutdown(wait=False, cancel_futures=True)


def test_make_help_has_no_colour_codes_when_piped() -> None:
    listed = subprocess.run(["make", "help"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "\033" not in listed.stdout
    assert re.search(r"^  run +Start the whole stack", listed.stdout, re.MULTILINE), listed.stdout
