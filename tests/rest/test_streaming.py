"""The watch streams through Envoy: routed without a timeout, followed by REST clients as
server-sent events (what `curl -N` shows) and by browsers as gRPC-Web frames, each event as it
commits."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from catapult.v1 import change_pb2, deployment_service_pb2
from catapult_server import envoy
from tests.rest.test_config import http_connection_manager, http_filter
from tests.rest.test_grpc_web import GRPC_WEB, TRAILER_FLAG, frame
from tests.support.api import Stubs, create_deployment, create_model_and_release
from tests.support.polling import eventually
from tests.support.rest import Rest, envoy_validate

WATCHES = ("/catapult.v1.ChangeService/WatchChanges", "/catapult.v1.DeploymentService/WatchDeployments")


def routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = http_connection_manager(config)["route_config"]["virtual_hosts"][0][
        "routes"
    ]
    return found


def test_the_watch_methods_are_routed_without_a_timeout(tmp_path: Path) -> None:
    settings = envoy.local_config("127.0.0.1", 0, ["127.0.0.1:50051"])
    table = routes(envoy.build(settings))
    watches = [r for r in table if r["match"].get("path") in WATCHES]
    assert sorted(r["match"]["path"] for r in watches) == sorted(WATCHES)
    for watch in watches:
        # No deadline on the whole stream (a watch has no end); only a long silence ends it, and
        # the server's heartbeats (every 15 s) are far inside it.
        assert (watch["route"]["timeout"], watch["route"]["idle_timeout"]) == ("0s", "300s")
        # Before the route that would otherwise match it, which keeps its deadline for unary calls.
        package = next(i for i, r in enumerate(table) if r["match"].get("prefix") == "/catapult.v1.")
        assert table.index(watch) < package
        assert table[package]["route"]["timeout"] == "60s"

    assert http_filter(envoy.build(settings), envoy.TRANSCODER)["print_options"]["stream_sse_style_delimited"]
    result = envoy_validate("-c", str(envoy.write_config(settings, tmp_path / "envoy.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr


class Follower:
    """A client following a stream over HTTP/1.1, in a thread: the body's lines as they come."""

    def __init__(self, port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request(method, path, body=body, headers=headers)
        self.response = self.connection.getresponse()  # the headers come as soon as the stream is in place
        self.chunks: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.response.read1(65536):
                self.chunks.append((time.monotonic(), chunk))
        except (OSError, ValueError, http.client.HTTPException):
            pass  # the test hung up mid-chunk

    @property
    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in list(self.chunks))

    def close(self) -> None:
        """Hang up: the reading thread sees the end of the stream and stops."""
        sock = self.connection.sock
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self.connection.close()


def server_sent_events(body: bytes) -> list[Any]:
    """The changes in the server-sent events received so far: each event a ChangeBatch as JSON."""
    batches = [json.loads(line[len(b"data:") :]) for line in body.splitlines() if line.startswith(b"data:")]
    return [event for batch in batches for event in batch["events"]]


async def test_rest_clients_follow_deployments_as_server_sent_events(
    rest: Rest, stubs: Stubs, writer_key: str
) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    headers = {"Accept": "text/event-stream", "Accept-Encoding": "gzip", "X-API-Key": writer_key}
    follower = await asyncio.to_thread(
        Follower, rest.port, "GET", "/api/v1/deployments:watch?environment=production", headers
    )
    try:
        assert follower.response.status == 200
        assert follower.response.headers["content-type"] == "text/event-stream"
        # A client that accepts gzip too: compressing would hold events back until a buffer fills.
        assert "content-encoding" not in follower.response.headers
        written = time.monotonic()
        await create_deployment(stubs, writer_key, release.id, environment="staging", cluster="s1")
        ids = [
            (
                await create_deployment(
                    stubs, writer_key, release.id, environment="production", cluster=f"c{n}"
                )
            ).id
            for n in range(3)
        ]
        await eventually(lambda: len(server_sent_events(follower.body)) >= 3, within=2, what="3 events")
        arrived = follower.chunks[-1][0] - written
    finally:
        await asyncio.to_thread(follower.close)
    events = server_sent_events(follower.body)
    assert [(e["type"], e["resource_id"], e["deployment"]["environment"]) for e in events] == [
        ("created", i, "production") for i in ids
    ]
    assert arrived < 2, f"the events took {arrived:.2f} s"
    assert all(e["cursor"] and e["api_key_name"] == "test-writer" for e in events)


async def test_browsers_follow_changes_as_grpc_web_frames(rest: Rest, stubs: Stubs, writer_key: str) -> None:
    request = deployment_service_pb2.WatchDeploymentsRequest(environment="production").SerializeToString()
    headers = {**GRPC_WEB, "X-API-Key": writer_key}
    follower = await asyncio.to_thread(
        Follower,
        rest.port,
        "POST",
        "/catapult.v1.DeploymentService/WatchDeployments",
        headers,
        frame(request),
    )
    try:
        assert follower.response.status == 200
        assert follower.response.headers["content-type"].startswith("application/grpc-web")
        _, release = await create_model_and_release(stubs, writer_key)
        created = [
            (
                await create_deployment(
                    stubs, writer_key, release.id, environment="production", cluster=f"c{n}"
                )
            ).id
            for n in range(2)
        ]
        await eventually(lambda: grpc_web_changes(follower.body) >= 2, within=2, what="2 changes")
    finally:
        await asyncio.to_thread(follower.close)
    batches = [change_pb2.ChangeBatch.FromString(m) for m in grpc_web_messages(follower.body)]
    events = [event for batch in batches for event in batch.events]
    assert [(e.type, e.resource_id) for e in events] == [("created", i) for i in created]


def grpc_web_changes(body: bytes) -> int:
    return sum(len(change_pb2.ChangeBatch.FromString(m).events) for m in grpc_web_messages(body))


def grpc_web_messages(body: bytes) -> list[bytes]:
    """The complete data frames received so far (a stream has no trailer frame until it ends)."""
    messages, i = [], 0
    while i + 5 <= len(body):
        flags, length = body[i], int.from_bytes(body[i + 1 : i + 5], "big")
        if i + 5 + length > len(body):
            break
        if not flags & TRAILER_FLAG:
            messages.append(body[i + 5 : i + 5 + length])
        i += 5 + length
    return messages


def test_the_openapi_document_describes_the_watches_as_event_streams() -> None:
    document = json.loads((envoy.REPO_ENVOY_DIR / envoy.OPENAPI_FILE).read_text())
    for path in ("/v1/deployments:watch", "/v1/changes:watch"):
        operation = document["paths"][path]["get"]
        assert operation["produces"] == ["text/event-stream"]
        assert operation["responses"]["200"]["schema"] == {"$ref": "#/definitions/ChangeBatch"}
