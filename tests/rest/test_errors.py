"""Every error a REST client can get, the server's and Envoy's own: the HTTP status and a JSON
google.rpc.Status body ({"code", "message", "details"}); never text/plain, never empty, never 200.
(test_envoy_replies.py has every reply Envoy makes itself to a request it cannot route or read.)"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
from pathlib import Path

from catapult_server.config import Settings
from catapult_server.envoy import DEFAULT_MAX_REQUEST_BYTES
from catapult_server.server import CatapultServer
from tests.conftest import TEST_PEPPER
from tests.rest.conftest import Rest, assert_status_body, detail, start_envoy

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_invalid_input_is_400_with_field_violations(rest: Rest) -> None:
    reply = await rest.post("/api/v1/images", {"company": "CompanyA"})
    status = assert_status_body(reply, 400, 3)
    assert detail(status, "ErrorInfo")["reason"] == "INVALID_FIELD"
    violations = detail(status, "BadRequest")["field_violations"]
    assert {v["field"] for v in violations} == {"model.name", "model.storage_path"}
    assert all(v["description"] for v in violations)

    bad_page = await rest.get("/api/v1/models", query={"page_size": -1})
    status = assert_status_body(bad_page, 400, 3)
    assert [v["field"] for v in detail(status, "BadRequest")["field_violations"]] == ["page_size"]


async def test_precondition_failure_is_400(rest: Rest) -> None:
    model = await rest.ok("POST", "/api/v1/models", {"name": "parent", "storage_path": "s3://p/"})
    await rest.ok("POST", "/api/v1/releases", {"image_id": model["id"], "version": "1.0.0"})
    reply = await rest.call("DELETE", f"/api/v1/models/{model['id']}")
    status = assert_status_body(reply, 400, 9)  # FAILED_PRECONDITION
    assert detail(status, "ErrorInfo")["reason"] == "HAS_CHILDREN"
    forced = await rest.ok("DELETE", f"/api/v1/models/{model['id']}", query={"force": "true"})
    assert forced["deleted_releases"] == 1


async def test_the_api_key_header_reaches_the_server_and_a_missing_or_bad_one_is_401(rest: Rest) -> None:
    missing = await rest.get("/api/v1/models", key="")
    status = assert_status_body(missing, 401, 16)
    assert detail(status, "ErrorInfo")["reason"] == "API_KEY_MISSING"

    wrong = await rest.get("/api/v1/models", key="ctp_AAAAAAAA_" + "x" * 43)
    status = assert_status_body(wrong, 401, 16)
    assert detail(status, "ErrorInfo")["reason"] == "API_KEY_INVALID"

    assert (await rest.get("/api/v1/models")).status == 200
    bearer = await rest.get("/api/v1/models", key="", headers={"Authorization": f"Bearer {rest.key}"})
    assert bearer.status == 200, str(bearer)
    # Health needs no key.
    assert await rest.ok("GET", "/api/health", key="") == {
        "status": "ok",
        "version": bearer.json() and "0.1.0",
    }


async def test_a_reader_writing_is_403(rest: Rest, reader_key: str) -> None:
    reply = await rest.post("/api/v1/models", {"name": "nope", "storage_path": "s3://n/"}, key=reader_key)
    status = assert_status_body(reply, 403, 7)
    assert detail(status, "ErrorInfo")["reason"]
    assert (await rest.get("/api/v1/models", key=reader_key)).status == 200
    keys = await rest.get("/api/v1/api-keys")  # a writer managing keys
    assert_status_body(keys, 403, 7)


async def test_a_missing_resource_is_404_naming_it(rest: Rest) -> None:
    for path in (
        f"/api/v1/models/{UNKNOWN_ID}",
        f"/v1/images/{UNKNOWN_ID}",
        f"/api/v1/releases/{UNKNOWN_ID}",
    ):
        reply = await rest.get(path)
        status = assert_status_body(reply, 404, 5)
        assert reply.from_server
        assert detail(status, "ErrorInfo")["reason"] == "RESOURCE_NOT_FOUND"
        assert detail(status, "ResourceInfo")["resource_name"] == UNKNOWN_ID
    by_name = await rest.get("/api/v1/models:byName", query={"name": "no-such-model"})
    assert_status_body(by_name, 404, 5)


async def test_a_duplicate_or_a_stale_etag_is_409(rest: Rest) -> None:
    model = await rest.ok("POST", "/api/v1/images", {"name": "taken", "storage_path": "s3://t/"})
    duplicate = await rest.post("/api/v1/images", {"name": "taken", "storage_path": "s3://t/"})
    status = assert_status_body(duplicate, 409, 6)  # ALREADY_EXISTS
    assert detail(status, "ErrorInfo")["reason"] == "RESOURCE_ALREADY_EXISTS"

    updated = await rest.ok(
        "PUT", f"/api/v1/images/{model['id']}", {"description": "first"}, query={"etag": model["etag"]}
    )
    assert updated["description"] == "first" and updated["etag"] != model["etag"]
    stale = await rest.call(
        "PATCH", f"/api/v1/models/{model['id']}", {"description": "second"}, query={"etag": model["etag"]}
    )
    status = assert_status_body(stale, 409, 10)  # ABORTED
    assert detail(status, "ErrorInfo")["reason"] == "ETAG_MISMATCH"


async def test_request_bodies_over_the_cap_are_413(rest: Rest) -> None:
    padding = "x" * DEFAULT_MAX_REQUEST_BYTES
    too_big = await rest.post("/api/v1/models", json.dumps({"name": "big", "description": padding}))
    status = assert_status_body(too_big, 413, 8)
    assert not too_big.from_server
    info = detail(status, "ErrorInfo")
    assert (info["reason"], info["metadata"]) == (
        "REQUEST_TOO_LARGE",
        {"limit_bytes": str(DEFAULT_MAX_REQUEST_BYTES)},
    )
    assert (
        status["message"]
        == f"the request body is larger than the {DEFAULT_MAX_REQUEST_BYTES} bytes this API accepts"
    )
    # Below the cap the body reaches the server, which applies its own field limits.
    under = await rest.post(
        "/api/v1/models", {"name": "big", "storage_path": "s3://b/", "description": "x" * 500_000}
    )
    assert under.from_server, str(under)
    assert under.status in (200, 400), str(under)


async def test_server_down_is_503_and_a_restarted_server_answers_again(
    settings: Settings, writer_key: str, tmp_path: Path
) -> None:
    first = CatapultServer(settings)
    await first.start()
    port = first.port
    proxy = await start_envoy(port, tmp_path / "envoy")
    try:
        rest = Rest(await asyncio.to_thread(proxy.listen_port), writer_key)
        model = await rest.ok("POST", "/api/v1/models", {"name": "survivor", "storage_path": "s3://s/"})
        await first.stop(grace=0)

        # The gap: nothing listens behind Envoy.
        for method, path in (
            ("GET", f"/api/v1/models/{model['id']}"),
            ("GET", "/api/health"),
            ("POST", "/api/v1/models"),
        ):
            reply = await rest.call(
                method, path, {"name": "x", "storage_path": "s3://x/"} if method == "POST" else None
            )
            status = assert_status_body(reply, 503, 14)
            assert detail(status, "ErrorInfo")["reason"] == "SERVER_UNAVAILABLE"
            assert status["message"].startswith("no Catapult server answered ("), status

        # Envoy itself still answers: the OpenAPI document needs no server.
        assert (await rest.get("/api/openapi.json")).status == 200

        second = CatapultServer(dataclasses.replace(settings, grpc_port=port))
        await second.start()
        try:
            deadline = time.monotonic() + 15
            while True:
                reply = await rest.get(f"/api/v1/models/{model['id']}")
                if reply.status == 200:
                    break
                assert_status_body(reply, 503, 14)  # until Envoy reaches the new server
                assert time.monotonic() < deadline, "the restarted server was not reached"
                await asyncio.sleep(0.1)
            assert reply.json() == model
            assert (await rest.get("/api/health", key="")).status == 200
        finally:
            await second.stop(grace=0)
    finally:
        proxy.stop()


async def test_database_away_is_the_servers_own_503(tmp_path: Path) -> None:
    """With every server failing its health check Envoy still forwards (panic routing), so the
    client gets the server's UNAVAILABLE with its reason rather than a bare proxy error."""
    # A port bound but not listening refuses connections, and nothing else can take it meanwhile.
    with socket.socket() as nothing_listens:
        nothing_listens.bind(("127.0.0.1", 0))
        port = nothing_listens.getsockname()[1]
        settings = Settings(
            database_url=f"postgresql://postgres@127.0.0.1:{port}/catapult",
            key_pepper=TEST_PEPPER,
            grpc_port=0,
            health_probe_seconds=0.2,
        )
        server = CatapultServer(settings)
        await server.start()
        try:
            proxy = await start_envoy(server.port, tmp_path / "envoy")
            try:
                rest = Rest(await asyncio.to_thread(proxy.listen_port))
                reply = await rest.get("/api/health")
                status = assert_status_body(reply, 503, 14)
                assert reply.from_server
                assert detail(status, "ErrorInfo")["reason"] == "DATABASE_UNAVAILABLE"
            finally:
                proxy.stop()
        finally:
            await server.stop(grace=0)
