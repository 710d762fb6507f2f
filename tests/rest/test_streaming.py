"""Server-streaming methods through Envoy: read from the descriptor, routed without a timeout, and
transcoded to server-sent events for REST clients. The API has no streaming method yet, so these
tests add one (WatchDeployments, as the watch issue designs it) to a copy of the descriptor set
and answer it with the fake upstream."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from pathlib import Path
from typing import Any

from catapult.v1 import deployment_pb2
from catapult_server import envoy
from tests.rest.test_config import http_connection_manager, http_filter, validate
from tests.support.fake_upstream import WATCH_METHOD, WATCH_PATH, FakeStack, descriptor_with_watch


def routes(config: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = http_connection_manager(config)["route_config"]["virtual_hosts"][0][
        "routes"
    ]
    return found


def test_a_streaming_method_is_routed_without_a_timeout(tmp_path: Path) -> None:
    envoy_dir = descriptor_with_watch(tmp_path / "envoy-files")
    settings = envoy.local_config("127.0.0.1", 0, ["127.0.0.1:50051"], envoy_dir=envoy_dir)
    config = envoy.build(settings)
    table = routes(config)
    (watch,) = [r for r in table if r["match"].get("path") == WATCH_METHOD]
    # No deadline on the whole stream (a watch has no end); only a long silence ends it.
    assert watch["route"]["timeout"] == "0s"
    assert watch["route"]["idle_timeout"] == "300s"
    # Before the route that would otherwise match it, which keeps its deadline for unary calls.
    package = next(i for i, r in enumerate(table) if r["match"].get("prefix") == "/catapult.v1.")
    assert table.index(watch) < package
    assert table[package]["route"]["timeout"] == "60s"
    # The committed descriptor has no streaming method: no such route there.
    default = routes(envoy.build(envoy.EnvoyConfig(), envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE))
    assert not [r for r in default if r.get("route", {}).get("timeout") == "0s"]

    assert http_filter(config, envoy.TRANSCODER)["print_options"]["stream_sse_style_delimited"] is True
    path = envoy.write_config(settings, tmp_path / "envoy.yaml")
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def read_events(
    port: int, path: str, count: int, within: float
) -> tuple[http.client.HTTPResponse, list[Any]]:
    """The first `count` server-sent events of GET `path` (each `data: <json>` and a blank line)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=within)
    # A client that accepts gzip too: compressing would hold events back until a buffer fills.
    connection.request("GET", path, headers={"Accept": "text/event-stream", "Accept-Encoding": "gzip"})
    response = connection.getresponse()
    events: list[Any] = []
    deadline = time.monotonic() + within
    while len(events) < count and time.monotonic() < deadline:
        line = response.fp.readline().decode().rstrip("\r\n")
        if line.startswith("data:"):
            events.append(json.loads(line[len("data:") :]))
    connection.close()
    return response, events


async def test_rest_clients_follow_a_stream_as_server_sent_events(fake: FakeStack) -> None:
    fake.upstream.watch_events = [
        deployment_pb2.Deployment(id=f"d-{n}", environment="production", replicas=n) for n in (1, 2, 3)
    ]
    fake.upstream.watch_interval = 0.2
    response, events = await asyncio.to_thread(
        read_events, fake.rest.port, f"/api{WATCH_PATH}?environment=production", 3, 10
    )
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert "content-encoding" not in response.headers
    assert [(e["id"], e["environment"], e["replicas"]) for e in events] == [
        ("d-1", "production", 1),
        ("d-2", "production", 2),
        ("d-3", "production", 3),
    ]
