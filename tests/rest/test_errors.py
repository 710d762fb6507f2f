"""Every error a REST client can get, the server's and Envoy's own: the HTTP status and a JSON
google.rpc.Status body ({"code", "message", "details"}); never text/plain, never empty, never 200.
(test_envoy_replies.py has every reply Envoy makes itself to a request it cannot route or read.)"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from catapult_server import __version__
from catapult_server.config import Settings
from catapult_server.envoy import DEFAULT_MAX_REQUEST_BYTES
from tests.support.errors import assert_status_body, detail
from tests.support.polling import poll_until
from tests.support.rest import Reply, Rest, envoy_in_front
from tests.support.servers import running_server, server_without_database, stop_server

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN_KEY = "ctp_AAAAAAAA_" + "x" * 43


@dataclass(frozen=True)
class Refused:
    """One request the server refuses, and what the REST client must get for it."""

    method: str
    path: str
    http_status: int
    code: int  # google.rpc.Code
    reason: str | None = None  # ErrorInfo.reason
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    key: str = "writer"  # whose key is sent: writer, reader, unknown or none
    fields: frozenset[str] | None = None  # the BadRequest field violations, when it names fields
    resource: str | None = None  # ResourceInfo.resource_name, when it names a resource


REFUSED = {
    "invalid body": Refused(
        "POST",
        "/api/v1/images",
        400,
        3,
        "INVALID_FIELD",
        body={"company": "CompanyA"},
        fields=frozenset({"model.name", "model.storage_path"}),
    ),
    "negative page_size": Refused(
        "GET", "/api/v1/models", 400, 3, query={"page_size": -1}, fields=frozenset({"page_size"})
    ),
    "no key": Refused("GET", "/api/v1/models", 401, 16, "API_KEY_MISSING", key="none"),
    "unknown key": Refused("GET", "/api/v1/models", 401, 16, "API_KEY_INVALID", key="unknown"),
    "reader writing": Refused(
        "POST",
        "/api/v1/models",
        403,
        7,
        "ROLE_NOT_ALLOWED",
        body={"name": "nope", "storage_path": "s3://n/"},
        key="reader",
    ),
    "writer managing keys": Refused("GET", "/api/v1/api-keys", 403, 7),
    "unknown model": Refused(
        "GET", f"/api/v1/models/{UNKNOWN_ID}", 404, 5, "RESOURCE_NOT_FOUND", resource=UNKNOWN_ID
    ),
    "unknown model, legacy route": Refused(
        "GET", f"/v1/images/{UNKNOWN_ID}", 404, 5, "RESOURCE_NOT_FOUND", resource=UNKNOWN_ID
    ),
    "unknown release": Refused(
        "GET", f"/api/v1/releases/{UNKNOWN_ID}", 404, 5, "RESOURCE_NOT_FOUND", resource=UNKNOWN_ID
    ),
    "unknown model name": Refused("GET", "/api/v1/models:byName", 404, 5, query={"name": "no-such-model"}),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
async def test_what_the_server_refuses_is_a_json_status(rest: Rest, reader_key: str, case: Refused) -> None:
    key = {"writer": rest.key, "reader": reader_key, "unknown": UNKNOWN_KEY, "none": ""}[case.key]
    reply = await rest.call(case.method, case.path, case.body, query=case.query, key=key)
    status = assert_status_body(reply, case.http_status, case.code, case.reason)
    assert reply.from_server, "the server's own answer, not Envoy's"
    if case.fields is not None:
        violations = detail(status, "BadRequest")["field_violations"]
        assert {v["field"] for v in violations} == case.fields
        assert all(v["description"] for v in violations)
    if case.resource is not None:
        assert detail(status, "ResourceInfo")["resource_name"] == case.resource


async def test_the_api_key_reaches_the_server_as_a_header_or_a_bearer_token(
    rest: Rest, reader_key: str
) -> None:
    assert (await rest.get("/api/v1/models")).status == 200
    assert (await rest.get("/api/v1/models", key=reader_key)).status == 200, "a reader reads"
    bearer = await rest.get("/api/v1/models", key="", headers={"Authorization": f"Bearer {rest.key}"})
    assert bearer.status == 200, str(bearer)
    # Health needs no key.
    assert await rest.ok("GET", "/api/health", key="") == {"status": "ok", "version": __version__}


async def test_precondition_failure_is_400(rest: Rest) -> None:
    model = await rest.ok("POST", "/api/v1/models", {"name": "parent", "storage_path": "s3://p/"})
    await rest.ok("POST", "/api/v1/releases", {"image_id": model["id"], "version": "1.0.0"})
    reply = await rest.call("DELETE", f"/api/v1/models/{model['id']}")
    assert_status_body(reply, 400, 9, "HAS_CHILDREN")  # FAILED_PRECONDITION
    forced = await rest.ok("DELETE", f"/api/v1/models/{model['id']}", query={"force": "true"})
    assert forced["deleted_releases"] == 1


async def test_a_duplicate_or_a_stale_etag_is_409(rest: Rest) -> None:
    model = await rest.ok("POST", "/api/v1/images", {"name": "taken", "storage_path": "s3://t/"})
    duplicate = await rest.post("/api/v1/images", {"name": "taken", "storage_path": "s3://t/"})
    assert_status_body(duplicate, 409, 6, "RESOURCE_ALREADY_EXISTS")  # ALREADY_EXISTS

    updated = await rest.ok(
        "PUT", f"/api/v1/images/{model['id']}", {"description": "first"}, query={"etag": model["etag"]}
    )
    assert updated["description"] == "first" and updated["etag"] != model["etag"]
    stale = await rest.call(
        "PATCH", f"/api/v1/models/{model['id']}", {"description": "second"}, query={"etag": model["etag"]}
    )
    assert_status_body(stale, 409, 10, "ETAG_MISMATCH")  # ABORTED

    # The etag counts wherever a REST client puts it: the resource's own field, or If-Match.
    path = f"/api/v1/models/{model['id']}"
    in_body = await rest.call("PATCH", path, {"description": "second", "etag": model["etag"]})
    assert_status_body(in_body, 409, 10, "ETAG_MISMATCH")
    if_match = await rest.call(
        "PATCH", path, {"description": "second"}, headers={"If-Match": f'"{model["etag"]}"'}
    )
    assert_status_body(if_match, 409, 10, "ETAG_MISMATCH")
    assert (await rest.ok("GET", path))["description"] == "first", "no stale write went through"
    current = await rest.call("PATCH", path, {"description": "second"}, headers={"If-Match": updated["etag"]})
    assert current.status == 200, str(current)


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
    async with (
        running_server(settings) as first,
        envoy_in_front(first.port, tmp_path / "envoy", writer_key) as rest,
    ):
        model = await rest.ok("POST", "/api/v1/models", {"name": "survivor", "storage_path": "s3://s/"})
        await stop_server(first, grace=0)

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

        async with running_server(dataclasses.replace(settings, grpc_port=first.port)):

            async def reached() -> Reply | None:
                reply = await rest.get(f"/api/v1/models/{model['id']}")
                if reply.status == 200:
                    return reply
                assert_status_body(reply, 503, 14)  # until Envoy reaches the new server
                return None

            assert (await poll_until(reached, within=15, interval=0.1)).json() == model
            assert (await rest.get("/api/health", key="")).status == 200


async def test_database_away_is_the_servers_own_503(tmp_path: Path) -> None:
    """With every server failing its health check Envoy still forwards (panic routing), so the
    client gets the server's UNAVAILABLE with its reason rather than a bare proxy error."""
    async with (
        server_without_database() as server,
        envoy_in_front(server.port, tmp_path / "envoy") as rest,
    ):
        reply = await rest.get("/api/health")
        assert_status_body(reply, 503, 14, reason="DATABASE_UNAVAILABLE")
        assert reply.from_server
