"""The errors Envoy makes itself, before any server sees the request: each is the JSON
google.rpc.Status REST clients get from the server too, with an ErrorInfo (domain catapult, a
stable reason), the field where Envoy's text names one, and a message a person can act on."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from dataclasses import dataclass
from typing import Any

from catapult.v1 import error_reason_pb2
from tests.support.errors import Failures, assert_status_body, detail
from tests.support.rest import Rest


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    reason: str
    message: str  # the whole message, or its start when it ends with "…"
    http: int = 400
    code: int = 3  # INVALID_ARGUMENT
    field: str | None = None
    body: str | None = None
    query: tuple[tuple[str, str], ...] = ()


def no_route(method: str, path: str) -> Case:
    return Case(
        f"no route {method} {path}",
        method,
        path,
        "ROUTE_NOT_FOUND",
        f"no API route for {method} {path}; the routes are listed in /api/openapi.json",
        http=404,
        code=5,  # NOT_FOUND
    )


def bad_query(name: str, path: str, parameter: str, value: str, field: str, message: str) -> Case:
    return Case(name, "GET", path, "INVALID_FIELD", message, field=field, query=((parameter, value),))


def bad_body(name: str, body: str, reason: str, message: str, field: str | None = None) -> Case:
    return Case(name, "POST", "/api/v1/models", reason, message, field=field, body=body)


CASES = [
    no_route("GET", "/api/v1/nothing"),
    no_route("GET", "/nothing"),
    no_route("GET", "/api/v2/models"),
    no_route("GET", "/api"),
    no_route("PATCH", "/api/v1/models"),
    no_route("POST", "/api/v1/models/x/y"),
    bad_query(
        "unknown query parameter",
        "/api/v1/models",
        "colour",
        "blue",
        "colour",
        "unknown query parameter 'colour': the parameters of each route are listed in /api/openapi.json",
    ),
    bad_query(
        "not an integer",
        "/api/v1/models",
        "page_size",
        "abc",
        "page_size",
        "invalid value for query parameter page_size: 'abc' is not a 32-bit integer",
    ),
    bad_query(
        "not an integer, the parameter in lowerCamelCase",
        "/api/v1/models",
        "pageSize",
        "abc",
        "page_size",
        "invalid value for query parameter page_size: 'abc' is not a 32-bit integer",
    ),
    bad_query(
        "not a timestamp",
        "/api/v1/deployments",
        "deployed_after",
        "yesterday",
        "deployed_after",
        "invalid value for query parameter deployed_after: 'yesterday' is not an RFC 3339 timestamp…",
    ),
    bad_query(
        "not a boolean",
        "/api/v1/deployments",
        "active_only",
        "maybe",
        "active_only",
        "invalid value for query parameter active_only: 'maybe' is not a boolean (true or false)",
    ),
    bad_body(
        "a number for a string",
        '{"name": 5}',
        "INVALID_FIELD",
        "invalid value for field model.name: 5 is not a string",
        "model.name",
    ),
    bad_body(
        "a number for an object",
        '{"metadata": 5}',
        "INVALID_FIELD",
        "invalid value for field model.metadata: must be a JSON object",
        "model.metadata",
    ),
    bad_body(
        "an object for a string",
        '{"name": {"a": 1}}',
        "INVALID_FIELD",
        "invalid value for field model.name: must be a single value, not an object",
        "model.name",
    ),
    bad_body(
        "a number in a list of strings",
        '{"tags": [1]}',
        "INVALID_FIELD",
        "invalid value for field model.tags[0]: 1 is not a string",
        "model.tags[0]",
    ),
    bad_body("truncated JSON", '{"name": ', "MALFORMED_REQUEST", "the request body is not valid JSON: …"),
    bad_body("not JSON", "not json", "MALFORMED_REQUEST", "the request body is not valid JSON: …"),
    bad_body(
        "trailing text",
        '{"name": "x"} trailing',
        "MALFORMED_REQUEST",
        "the request body is not valid JSON: …",
    ),
    bad_body("a list", "[1, 2]", "MALFORMED_REQUEST", "the request body must be a JSON object, not a list"),
    Case(
        "a query parameter and the body disagree",
        "POST",
        "/api/v1/models",
        "INVALID_FIELD",
        "conflicting values for field name: the query says 'x', the body 'a'",
        field="name",
        body='{"name": "a", "storage_path": "s3://a/"}',
        query=(("model.name", "x"),),
    ),
]


async def check(rest: Rest, case: Case) -> None:
    reply = await rest.call(case.method, case.path, case.body, query=list(case.query))
    status = assert_status_body(reply, case.http, case.code)
    assert not reply.from_server, f"reached the server: {reply}"
    message = status["message"]
    if case.message.endswith("…"):
        assert message.startswith(case.message[:-1]), message
    else:
        assert message == case.message
    assert "\n" not in message, f"the transcoder's snippet and caret are for a terminal: {message!r}"
    info = detail(status, "ErrorInfo")
    assert (info["reason"], info["domain"]) == (case.reason, "catapult"), info
    if case.field is None:
        assert "field" not in info["metadata"], info
    else:
        assert info["metadata"]["field"] == case.field, info
        violations = detail(status, "BadRequest")["field_violations"]
        assert [v["field"] for v in violations] == [case.field], violations
        assert violations[0]["description"] and violations[0]["description"] in message, violations


async def test_envoys_own_replies_carry_a_readable_message_and_error_info(rest: Rest) -> None:
    failures = Failures()
    for case in CASES:
        await failures.check(case.name, check(rest, case))
    failures.assert_none()


async def test_a_route_error_names_the_method_and_path_the_client_sent(rest: Rest) -> None:
    status = (await rest.call("DELETE", "/api/v1/models", query={"force": "true"})).json()
    assert detail(status, "ErrorInfo")["metadata"] == {
        "method": "DELETE",
        "path": "/api/v1/models?force=true",
    }


async def test_a_rejected_value_is_quoted_back_short_and_as_valid_utf8(rest: Rest) -> None:
    reply = await rest.get("/api/v1/models", query={"page_size": "9" * 500})
    message = assert_status_body(reply, 400, 3)["message"]
    assert message.startswith("invalid value for query parameter page_size: '" + "9" * 64 + "…'"), message

    # Bytes that are not UTF-8 in a value the transcoder cannot read: the reply is still JSON.
    raw = await rest.call("GET", "/api/v1/deployments?deployed_after=%FF%FE")
    info = detail(assert_status_body(raw, 400, 3), "ErrorInfo")
    assert info["metadata"] == {"field": "deployed_after"}


def raw_http(port: int, request: bytes) -> tuple[int, Any]:
    """Send `request` as is; the status and JSON body of Envoy's reply (it closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), reply
    return int(head.split()[1]), json.loads(body)


async def test_requests_envoy_refuses_before_any_filter_runs_get_the_same_json(rest: Rest) -> None:
    for request, http, reason in (
        (b"GET /api/v1/models HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n", 400, "MALFORMED_REQUEST"),
        (
            b"GET /api/v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
            431,
            "REQUEST_TOO_LARGE",
        ),
    ):
        status, body = await asyncio.to_thread(raw_http, rest.port, request)
        assert status == http, body
        assert detail(body, "ErrorInfo")["reason"] == reason, body


async def test_a_client_that_accepts_gzip_gets_the_same_reply_compressed(rest: Rest) -> None:
    """The compressor runs after the Lua filter has rewritten the reply, not before."""
    reply = await rest.get("/api/v1/models", query={"page_size": "abc"}, headers={"Accept-Encoding": "gzip"})
    assert reply.headers.get("content-encoding") == "gzip", str(reply)
    status = json.loads(gzip.decompress(reply.body))
    assert detail(status, "ErrorInfo")["metadata"] == {"field": "page_size"}, status


def test_every_reason_envoy_gives_is_an_error_reason() -> None:
    """Clients branch on reasons: Envoy's are in the contract (error_reason.proto) too."""
    reasons = {case.reason for case in CASES}
    assert reasons <= set(error_reason_pb2.ErrorReason.keys()), reasons - set(
        error_reason_pb2.ErrorReason.keys()
    )
