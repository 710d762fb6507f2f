"""x-forwarded-for reaches the server as exactly the address of the connection Envoy accepted:
what a client sends in it is replaced, never passed on, so the audit log's peer cannot be
forged through Envoy."""

from __future__ import annotations

import asyncio

import grpc

from catapult_server.envoy.settings import LOCAL_PROXY_ADDRESS
from tests.support.fake_upstream import FakeStack
from tests.support.rest import Rest, request

FORGED = "6.6.6.6"


async def test_envoy_replaces_a_forged_x_forwarded_for_with_the_clients_address(fake: FakeStack) -> None:
    # REST, from another loopback address than the one Envoy listens on.
    reply = await asyncio.to_thread(
        request, fake.rest.port, "GET", "/api/v1/models", None, {"X-Forwarded-For": FORGED}, "127.0.0.2"
    )
    assert reply.status == 200, str(reply)
    assert fake.upstream.seen[-1]["x-forwarded-for"] == "127.0.0.2"

    # Native gRPC, with a list of addresses in the metadata.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{fake.rest.port}") as channel:
        get_model = channel.unary_unary("/catapult.v1.ModelService/GetModel")
        await get_model(b"", metadata=(("x-forwarded-for", f"{FORGED}, 10.0.0.1"),), timeout=10)
    assert fake.upstream.seen[-1]["x-forwarded-for"] == "127.0.0.1"

    # And without any: Envoy adds it.
    await asyncio.to_thread(request, fake.rest.port, "GET", "/api/v1/models")
    assert fake.upstream.seen[-1]["x-forwarded-for"] == "127.0.0.1"


async def test_the_audit_log_never_shows_a_forged_address(rest: Rest, admin_key: str) -> None:
    created = await rest.ok(
        "POST",
        "/api/v1/models",
        {"name": "forged-peer", "storage_path": "s3://f/"},
        headers={"X-Forwarded-For": FORGED},
    )
    page = await rest.ok("GET", "/api/v1/audit-logs", key=admin_key)
    (entry,) = [e for e in page["audit_logs"] if e["resource_id"] == created["id"]]
    assert FORGED not in entry["peer"], entry
    # The client's address as Envoy saw it, believed because it came from Envoy's own address.
    assert entry["peer"].startswith(f"127.0.0.1 (via ipv4:{LOCAL_PROXY_ADDRESS}:"), entry
