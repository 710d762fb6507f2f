"""No 500 on any input, no lost or duplicated writes under races, bounded waits, clean drains:
the defects an adversarial run found, each as a test."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    audit_log_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_service_pb2,
)
from catapult_server import idempotency
from catapult_server.config import Settings
from catapult_server.database import Database, translate
from catapult_server.db.engine import create_engine
from catapult_server.errors import CatapultError, Conflict, DatabaseUnavailable, InvalidArgument
from tests.support.api import Stubs, auth, create_deployment, create_model, create_model_and_release, unique
from tests.support.database import asyncpg_dsn
from tests.support.errors import error_details, expect_error
from tests.support.polling import poll_until
from tests.support.servers import running_server, stop_server

INVALID = grpc.StatusCode.INVALID_ARGUMENT
SERVER_ERRORS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def raw_call(channel: grpc.aio.Channel, method: str) -> Any:
    """A unary call sending bytes as they are: what a broken or hostile client can send."""
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


# --- requests the protobuf runtime cannot parse ---------------------------------------------------


def _nested_struct(depth: int) -> bytes:
    """A Model whose metadata nests `depth` Structs deep, serialized by hand (the runtime refuses
    to build what it cannot parse)."""

    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2]) + _varint(len(payload)) + payload

    value = b""
    for _ in range(depth):  # Struct{fields: {"k": Value{struct_value: …}}}
        entry = field(1, b"k") + field(2, field(5, value))
        value = field(1, entry)
    model = field(2, b"m") + field(6, b"s3://m/") + field(10, value)
    return field(1, model)  # CreateModelRequest.model


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


@pytest.mark.parametrize(
    "payload",
    [
        # CreateModelRequest.model.name with bytes that are not UTF-8.
        b"\x0a\x06\x12\x04\xff\xfe\xfd\xfc",
        # A length that runs past the end of the message.
        b"\x0a\x7f\x12",
        # Metadata nested far past protobuf's recursion limit.
        _nested_struct(120),
    ],
    ids=["invalid-utf8", "truncated", "nested-120-deep"],
)
async def test_a_request_that_cannot_be_parsed_is_invalid_argument(
    channel: grpc.aio.Channel, writer_key: str, payload: bytes
) -> None:
    call = raw_call(channel, "/catapult.v1.ModelService/CreateModel")(payload, metadata=auth(writer_key))
    error = await expect_error(call, INVALID, "INVALID_FIELD", "request")
    assert "catapult.v1.CreateModelRequest" in (error.details() or "")


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"x": float("nan")}, "NaN"),
        ({"x": float("inf")}, "NaN and Infinity"),
        ({"nul": "a\x00b"}, "NUL"),
        ({"a\x00b": 1}, "NUL"),
    ],
)
async def test_metadata_postgresql_cannot_store_is_refused(
    stubs: Stubs, writer_key: str, metadata: dict[str, Any], problem: str
) -> None:
    struct = struct_pb2.Struct()
    struct.update(metadata)
    request = model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(name=unique("m"), storage_path="s3://m/", metadata=struct)
    )
    error = await expect_error(
        stubs.models.CreateModel(request, metadata=auth(writer_key)), INVALID, field="metadata"
    )
    assert problem.split()[0] in (error.details() or "")


async def test_deep_metadata_within_the_wire_limit_is_refused_by_the_rule(
    stubs: Stubs, writer_key: str
) -> None:
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(21):  # one level past the rule, well within what protobuf parses
        inner["k"] = {}
        inner = inner["k"]
    struct = struct_pb2.Struct()
    struct.update(nested)
    request = model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(name=unique("m"), storage_path="s3://m/", metadata=struct)
    )
    await expect_error(
        stubs.models.CreateModel(request, metadata=auth(writer_key)), INVALID, field="model.metadata"
    )


@pytest.mark.parametrize("etag", ["²", "1" * 4300, "-1", "1e9", "  7"])
async def test_odd_etags_are_invalid_or_stale_never_a_server_error(
    stubs: Stubs, writer_key: str, etag: str
) -> None:
    model = await create_model(stubs, writer_key)
    request = model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, company="X"), etag=etag)
    error = await expect_error(
        stubs.models.UpdateModel(request, metadata=auth(writer_key)),
        INVALID if len(etag) > 20 else grpc.StatusCode.ABORTED,
    )
    assert error.code() not in SERVER_ERRORS


async def test_clearing_a_field_that_must_have_a_value_names_it(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deployment = await create_deployment(stubs, writer_key, release.id)
    request = deployment_service_pb2.UpdateDeploymentRequest(
        deployment=deployment_pb2.Deployment(id=deployment.id),
        update_mask=field_mask_pb2.FieldMask(paths=["deployed_at"]),
    )
    await expect_error(
        stubs.deployments.UpdateDeployment(request, metadata=auth(writer_key)),
        INVALID,
        field="deployment.deployed_at",
    )


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
async def test_the_extremes_of_the_timestamp_range_are_stored(
    stubs: Stubs, writer_key: str, moment: str
) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deployment = deployment_pb2.Deployment(release_id=release.id, environment="staging", status="deploying")
    deployment.deployed_at.FromJsonString(moment)
    created = await stubs.deployments.CreateDeployment(
        deployment_service_pb2.CreateDeploymentRequest(deployment=deployment), metadata=auth(writer_key)
    )
    assert created.deployed_at.ToJsonString() == moment


# --- races -----------------------------------------------------------------------------------------


async def test_force_deletes_racing_deploys_never_fail_with_a_server_error(
    stubs: Stubs, writer_key: str
) -> None:
    """Deploys take the model, then the release; a delete takes the model first too: no lock
    cycle. What is left (a serialization failure) is retried by the server, then ABORTED."""
    expected = {
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ABORTED,
    }
    seen: dict[grpc.StatusCode, int] = {}
    for _ in range(20):
        model, release = await create_model_and_release(stubs, writer_key)

        async def outcome(call: Any) -> grpc.StatusCode:
            try:
                await call
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

        delete = stubs.models.DeleteModel(
            model_service_pb2.DeleteModelRequest(id=model.id, force=True), metadata=auth(writer_key)
        )
        deploys = [
            create_deployment(stubs, writer_key, release.id, status="failed", endpoint_url=f"https://r/{i}")
            for i in range(15)
        ]
        for code in await asyncio.gather(*(outcome(call) for call in [*deploys, delete])):
            seen[code] = seen.get(code, 0) + 1
    assert set(seen) <= expected, seen


# --- driver errors, by SQLSTATE class ---------------------------------------------------------------

# Each an error PostgreSQL raises for a reason other than the server's own SQL being wrong, and what
# the client is told: never INTERNAL.
DRIVER_ERRORS = [
    # 57014, a statement the statement_timeout cancelled: the database cannot do it now.
    pytest.param(["SET LOCAL statement_timeout = 20", "SELECT pg_sleep(2)"], DatabaseUnavailable, id="57014"),
    # 23505 on a constraint the server does not name: another transaction got there first.
    pytest.param(
        [
            "CREATE TEMP TABLE once (x int UNIQUE) ON COMMIT DROP",
            "INSERT INTO once VALUES (1)",
            "INSERT INTO once VALUES (1)",
        ],
        Conflict,
        id="23505",
    ),
    # 54000, a program limit: the request asked for too much.
    # (checked before anything is allocated: more than PostgreSQL's 1 GB limit on one value)
    pytest.param(["SELECT repeat('x', 1 << 30)"], InvalidArgument, id="54000"),
]


@pytest.mark.parametrize(("statements", "expected"), DRIVER_ERRORS)
async def test_driver_errors_are_mapped_by_kind(
    settings: Settings, statements: list[str], expected: type[CatapultError]
) -> None:
    async with Database.open(settings) as db:
        with pytest.raises(expected):
            async with db.transaction() as tx:
                for statement in statements:
                    await tx.execute(text(statement))


async def test_a_lock_held_elsewhere_is_a_conflict(settings: Settings, database_url: str) -> None:
    """55P03: a lock another transaction holds (NOWAIT): ABORTED, which a retry may get past."""
    holder = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with holder.transaction():
            await holder.execute("LOCK TABLE models IN ACCESS EXCLUSIVE MODE")
            async with Database.open(settings) as db:
                with pytest.raises(Conflict):
                    async with db.transaction() as tx:
                        await tx.execute(text("LOCK TABLE models IN ACCESS SHARE MODE NOWAIT"))
    finally:
        await holder.close()


async def test_an_error_of_the_servers_own_sql_stays_a_bug(settings: Settings) -> None:
    """42P01 (and the rest of class 42): only the server's SQL can cause it; it is not dressed up
    as the client's fault or an outage (the interceptor reports it INTERNAL with a trace id)."""
    async with Database.open(settings) as db:
        with pytest.raises(DBAPIError) as raised:
            async with db.transaction() as tx:
                await tx.execute(text("SELECT * FROM no_such_table"))
    assert translate(raised.value) is None


# --- request ids -----------------------------------------------------------------------------------


async def test_a_request_id_belongs_to_its_key_and_its_request(
    stubs: Stubs, writer_key: str, admin_key: str
) -> None:
    request_id = unique("ci-run")
    name = unique("model")

    def create(key: str, storage_path: str = "s3://m/", model_name: str = name) -> Any:
        request = model_service_pb2.CreateModelRequest(
            model=model_pb2.Model(name=model_name, storage_path=storage_path), request_id=request_id
        )
        return stubs.models.CreateModel(request, metadata=auth(key))

    first = await create(writer_key)
    assert (await create(writer_key)).id == first.id, "a retry returns what the first call created"
    error = await expect_error(create(writer_key, "s3://other/"), INVALID, "REQUEST_ID_REUSED", "request_id")
    assert "another CreateModel" in (error.details() or "")
    # Another key's id is its own: it cannot be pre-claimed, and it makes its own model.
    theirs = await create(admin_key, model_name=unique("model"))
    assert theirs.id != first.id


async def test_old_request_ids_are_pruned(settings: Settings, stubs: Stubs, writer_key: str) -> None:
    request = model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(name=unique("m"), storage_path="s3://m/"), request_id="old-run"
    )
    await stubs.models.CreateModel(request, metadata=auth(writer_key))
    engine = create_engine(settings)
    try:
        db = Database(engine)
        async with db.transaction() as tx:
            assert await idempotency.prune(tx, 24) == 0, "a fresh claim is kept"
        conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
        try:
            await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        finally:
            await conn.close()
        async with db.transaction() as tx:
            assert await idempotency.prune(tx, 24) == 1
    finally:
        await engine.dispose()


# --- etags -----------------------------------------------------------------------------------------


async def test_an_etag_counts_from_the_body_and_from_if_match(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    stale = model.etag
    await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, company="A")),
        metadata=auth(writer_key),
    )
    in_body = model_service_pb2.UpdateModelRequest(
        model=model_pb2.Model(id=model.id, company="B", etag=stale)
    )
    await expect_error(
        stubs.models.UpdateModel(in_body, metadata=auth(writer_key)), grpc.StatusCode.ABORTED, "ETAG_MISMATCH"
    )
    if_match = (*auth(writer_key), ("if-match", f'"{stale}"'))
    plain = model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, company="B"))
    await expect_error(
        stubs.models.UpdateModel(plain, metadata=if_match), grpc.StatusCode.ABORTED, "ETAG_MISMATCH"
    )
    delete = model_service_pb2.DeleteModelRequest(id=model.id)
    await expect_error(
        stubs.models.DeleteModel(delete, metadata=if_match), grpc.StatusCode.ABORTED, "ETAG_MISMATCH"
    )
    both = model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, etag="1"), etag="2")
    await expect_error(stubs.models.UpdateModel(both, metadata=auth(writer_key)), INVALID, field="etag")
    current = await stubs.models.GetModel(
        model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
    )
    fresh = (*auth(writer_key), ("if-match", current.etag))
    assert (await stubs.models.UpdateModel(plain, metadata=fresh)).company == "B"


# --- keys ------------------------------------------------------------------------------------------


async def test_the_last_admin_key_cannot_be_revoked(stubs: Stubs, admin_key: str) -> None:
    async def admins() -> list[api_key_pb2.ApiKey]:
        page = await stubs.api_keys.ListApiKeys(
            api_key_service_pb2.ListApiKeysRequest(), metadata=auth(admin_key)
        )
        return [key for key in page.api_keys if key.role == "admin"]

    (me,) = await admins()
    revoke = api_key_service_pb2.RevokeApiKeyRequest(id=me.id)
    error = await expect_error(
        stubs.api_keys.RevokeApiKey(revoke, metadata=auth(admin_key)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_ADMIN_KEY",
    )
    assert "create another admin key first" in (error.details() or "")
    other = await stubs.api_keys.CreateApiKey(
        api_key_service_pb2.CreateApiKeyRequest(
            api_key=api_key_pb2.ApiKey(name=unique("admin"), role="admin")
        ),
        metadata=auth(admin_key),
    )
    await stubs.api_keys.RevokeApiKey(revoke, metadata=auth(admin_key))  # another admin exists now
    last = api_key_service_pb2.RevokeApiKeyRequest(id=other.api_key.id)
    await expect_error(
        stubs.api_keys.RevokeApiKey(last, metadata=auth(other.secret)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_ADMIN_KEY",
    )


# --- the audit log's peer --------------------------------------------------------------------------


@pytest.fixture
async def behind_a_proxy(settings: Settings) -> AsyncIterator[grpc.aio.Channel]:
    """A server that trusts x-forwarded-for from 127.0.0.1 (as `catapult up` trusts its Envoy's address)."""
    async with (
        running_server(dataclasses.replace(settings, trusted_proxies=("127.0.0.1/32",))) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        yield channel


async def _peer_of_a_create(channel: grpc.aio.Channel, key: str) -> str:
    call = channel.unary_unary(
        "/catapult.v1.ModelService/CreateModel",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=model_pb2.Model.FromString,
    )
    model = await call(
        model_service_pb2.CreateModelRequest(model=model_pb2.Model(name=unique("m"), storage_path="s3://m/")),
        metadata=(*auth(key), ("x-forwarded-for", "6.6.6.6")),
    )
    list_logs = channel.unary_unary(
        "/catapult.v1.AuditLogService/ListAuditLogs",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=audit_log_service_pb2.ListAuditLogsResponse.FromString,
    )
    logs = await list_logs(
        audit_log_service_pb2.ListAuditLogsRequest(resource_id=model.id), metadata=auth(key)
    )
    peer: str = logs.audit_logs[0].peer
    return peer


async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    channel: grpc.aio.Channel, behind_a_proxy: grpc.aio.Channel, writer_key: str
) -> None:
    untrusted = await _peer_of_a_create(channel, writer_key)
    assert "6.6.6.6" not in untrusted and untrusted.startswith("ipv4:127.0.0.1:")
    trusted = await _peer_of_a_create(behind_a_proxy, writer_key)
    assert trusted.startswith("6.6.6.6 (via ipv4:127.0.0.1:")


# --- drain -----------------------------------------------------------------------------------------


async def test_a_drain_finishes_the_calls_in_flight_and_refuses_new_ones_retryably(
    settings: Settings, writer_key: str
) -> None:
    """50 deploys are in flight (waiting on a lock this test holds) when the server is told to
    stop: none is cancelled and each acknowledged one is stored; a call arriving meanwhile is
    UNAVAILABLE (SERVER_SHUTTING_DOWN), which clients retry, not CANCELLED."""
    blocker = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        async with (
            running_server(settings) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            stubs = Stubs.for_channel(channel)
            _, release = await create_model_and_release(stubs, writer_key)
            blocking = blocker.transaction()
            await blocking.start()
            await blocker.execute(
                "SELECT 1 FROM releases WHERE id = $1 FOR UPDATE", release.id
            )  # deploys wait on it
            calls = [
                asyncio.ensure_future(
                    create_deployment(
                        stubs, writer_key, release.id, status="failed", endpoint_url=f"https://d/{i}"
                    )
                )
                for i in range(50)
            ]

            async def all_in_flight() -> bool | None:
                return True if server.interceptor.in_flight == 50 else None

            await poll_until(all_in_flight, within=30)
            stopping = asyncio.ensure_future(stop_server(server, grace=30))

            async def draining() -> bool | None:
                return True if server.interceptor.draining else None

            await poll_until(draining)
            late = await expect_error(
                create_model(stubs, writer_key), grpc.StatusCode.UNAVAILABLE, "SERVER_SHUTTING_DOWN"
            )
            assert error_details(late).reason == "SERVER_SHUTTING_DOWN"
            # It never ran: Envoy may send even a write to another server (envoy/routes.py).
            assert ("catapult-unprocessed", "true") in tuple(late.trailing_metadata() or ())
            await blocking.rollback()
            done = await asyncio.gather(*calls, return_exceptions=True)
            await stopping
    finally:
        await blocker.close()
    failures = [d for d in done if isinstance(d, BaseException)]
    assert failures == [], failures[:3]
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM deployments WHERE release_id = $1", release.id)
    finally:
        await conn.close()
    assert stored == 50


async def test_a_drained_server_keeps_its_port_until_calls_stop_arriving(
    settings: Settings, writer_key: str
) -> None:
    """Envoy goes on sending calls for up to a health-check interval after a server turns
    NOT_SERVING: they must be refused (and so retried elsewhere), not cut off by a closed port. The
    server stops once calls have stopped arriving for a moment, within its grace."""
    async with (
        running_server(settings) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        stubs = Stubs.for_channel(channel)
        stopping = asyncio.ensure_future(stop_server(server, grace=30))

        async def draining() -> bool | None:
            return True if server.interceptor.draining else None

        await poll_until(draining)
        for _ in range(15):  # 1.5 s of calls, closer together than the server's quiet moment (0.5 s)
            await expect_error(
                create_model(stubs, writer_key), grpc.StatusCode.UNAVAILABLE, "SERVER_SHUTTING_DOWN"
            )
            assert not stopping.done(), "the port closed while calls were still arriving"
            await asyncio.sleep(0.1)
        calls_stopped = asyncio.get_running_loop().time()
        await stopping
        # Well within the 30 s grace: it waited for the calls to stop, not for the grace to end.
        assert asyncio.get_running_loop().time() - calls_stopped < 10


async def test_a_stale_if_match_delete_is_refused_before_anything_changes(
    stubs: Stubs, writer_key: str
) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    request = release_service_pb2.DeleteReleaseRequest(id=release.id)
    await expect_error(
        stubs.releases.DeleteRelease(request, metadata=(*auth(writer_key), ("if-match", "999"))),
        grpc.StatusCode.ABORTED,
    )
    assert (
        await stubs.releases.GetRelease(
            release_service_pb2.GetReleaseRequest(id=release.id), metadata=auth(writer_key)
        )
    ).id
