"""A deployment's Envoy config run on this machine, in front of real servers: docker compose's
(envoy/compose.yaml) and Kubernetes' (deploy/k8s). No Docker engine and no cluster here, so the
replicas are servers on 127.0.0.1, 127.0.0.2, 127.0.0.3 (one port: the replicas behind a DNS name
differ by address only), and the DNS that names them (compose's, or a headless Service's) is a
small DNS server answering for that name whatever addresses the test gives it."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
import socket
import struct
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catapult_server import envoy
from catapult_server.config import Settings
from catapult_server.server import CatapultServer
from tests.support.paths import REPO
from tests.support.servers import stop_server

# --- a stand-in for the deployment's DNS --------------------------------------------------------------


class ServiceDns:
    """A DNS server on 127.0.0.1 that answers A queries for one name with the current replica
    addresses and AAAA queries with ::1 (a dual-stack network: IPv6 must not be preferred,
    the servers listen on IPv4 only); any other name is NXDOMAIN."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.addresses: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="service-dns", daemon=True)

    def __enter__(self) -> ServiceDns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                query, client = self._sock.recvfrom(512)
            except TimeoutError:
                continue
            reply = self.answer(query)
            if reply:
                self._sock.sendto(reply, client)

    def answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        (query_id,) = struct.unpack("!H", query[:2])
        labels, offset = [], 12
        while offset < len(query) and query[offset] != 0:
            length = query[offset]
            labels.append(query[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
            offset += 1 + length
        question = query[12 : offset + 5]
        qtype = struct.unpack("!H", query[offset + 1 : offset + 3])[0]
        found = ".".join(labels).lower() == self.name
        if qtype == 1:  # A
            records = [ipaddress.IPv4Address(a).packed for a in self.addresses] if found else []
        elif qtype == 28:  # AAAA
            records = [ipaddress.IPv6Address("::1").packed] if found else []
        else:
            records = []
        flags = 0x8180 if found else 0x8183  # a response, recursion available; NXDOMAIN if not ours
        header = struct.pack("!HHHHHH", query_id, flags, 1, len(records), 0, 0)
        answers = b"".join(
            # A pointer to the question's name, the type, class IN, TTL 0 (never cached), the data.
            struct.pack("!HHHIH", 0xC00C, qtype, 1, 0, len(data)) + data
            for data in records
        )
        return header + question + answers


# --- Envoy as the deployment runs it, and replicas of the server -------------------------------------


def on_this_machine(deployed: Path, service: str, work_dir: Path, dns_port: int, upstream_port: int) -> Path:
    """A deployment's Envoy config (`deployed`, whose one upstream is `service`) with only what
    differs outside a container changed: listener and admin on loopback ports of the OS's
    choosing, the replicas' port, and the DNS server."""
    config: dict[str, Any] = yaml.safe_load(deployed.read_text())
    config["static_resources"]["listeners"][0]["address"]["socket_address"].update(
        address="127.0.0.1", port_value=0
    )
    config["admin"]["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    (cluster,) = config["static_resources"]["clusters"]
    (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"]["socket_address"]["address"] == service
    endpoint["endpoint"]["address"]["socket_address"]["port_value"] = upstream_port
    cluster["typed_dns_resolver_config"] = {
        "name": "envoy.network.dns_resolver.cares",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3."
            "CaresDnsResolverConfig",
            "resolvers": [{"socket_address": {"address": "127.0.0.1", "port_value": dns_port}}],
            "dns_resolver_options": {"no_default_search_domain": True},
        },
    }
    path = work_dir / "envoy.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclasses.dataclass
class Replicas:
    """Servers on 127.0.0.N:port, one database, like `--scale server=N` on one network."""

    settings: Settings
    port: int = 0
    running: dict[str, CatapultServer] = dataclasses.field(default_factory=dict)

    async def start(self, address: str) -> None:
        server = CatapultServer(dataclasses.replace(self.settings, grpc_host=address, grpc_port=self.port))
        await server.start()
        self.port = server.port
        self.running[address] = server

    async def stop(self, address: str) -> None:
        await stop_server(self.running.pop(address))


def cluster_hosts(admin_url: str) -> dict[str, dict[str, str]]:
    """Envoy's /clusters for the upstream cluster: {"127.0.0.2": {"rq_success": "7", …}}."""
    with urllib.request.urlopen(admin_url + "/clusters", timeout=5) as response:
        text = response.read().decode()
    hosts: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        match = re.match(rf"{envoy.UPSTREAM_CLUSTER}::([\d.]+):\d+::(\w+)::(.*)", line)
        if match:
            hosts.setdefault(match.group(1), {})[match.group(2)] = match.group(3)
    return hosts


async def wait_for_hosts(proxy: envoy.EnvoyProcess, expected: set[str]) -> None:
    """Until Envoy's endpoints are exactly `expected`, each passing its health check (DNS is
    looked up again every 5 s)."""
    deadline = time.monotonic() + 30
    while True:
        hosts = await asyncio.to_thread(cluster_hosts, proxy.admin_url())
        if set(hosts) == expected and all(h.get("health_flags") == "healthy" for h in hosts.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Envoy's endpoints are {hosts}, expected {expected} healthy")
        await asyncio.sleep(0.2)


async def wait_until_each_serves(proxy: envoy.EnvoyProcess, port: int, hosts: set[str]) -> None:
    """Until a round of calls reaches every one of `hosts`: Envoy's workers learn of a host that
    passed its health check a moment after the admin interface shows it healthy."""
    deadline = time.monotonic() + 20
    while True:
        reached = await served_by(proxy, port, 3 * len(hosts))
        if {host for host, count in reached.items() if count} == hosts:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"calls reached {reached}, expected every one of {hosts}")
        await asyncio.sleep(0.2)


async def served_by(proxy: envoy.EnvoyProcess, port: int, calls: int) -> dict[str, int]:
    """Make `calls` gRPC calls through Envoy (every one must succeed); the replicas they reached."""
    before = await asyncio.to_thread(cluster_hosts, proxy.admin_url())
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(calls):
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    after = await asyncio.to_thread(cluster_hosts, proxy.admin_url())
    return {
        host: int(stats["rq_success"]) - int(before.get(host, {}).get("rq_success", "0"))
        for host, stats in after.items()
    }


@asynccontextmanager
async def deployed_envoy(
    deployed: Path, dns: ServiceDns, replicas: Replicas, work_dir: Path
) -> AsyncIterator[tuple[envoy.EnvoyProcess, int]]:
    """For the block, the Envoy of the config `deployed` (whose upstream is the name `dns` answers
    for) in front of `replicas` (started, two of them, 127.0.0.1 and .2, until the test starts
    more), ready and balancing over both: the process and its listener's port. Run from the
    repository root, which has the image's WORKDIR layout (envoy/, web/dist)."""
    await replicas.start("127.0.0.1")
    await replicas.start("127.0.0.2")
    dns.addresses = ["127.0.0.1", "127.0.0.2"]
    config = on_this_machine(deployed, dns.name, work_dir, dns.port, replicas.port)
    proxy = envoy.EnvoyProcess(config, work_dir)
    proxy.start(cwd=REPO)
    try:
        await asyncio.to_thread(proxy.wait_ready)
        port = await asyncio.to_thread(proxy.listen_port)
        await wait_for_hosts(proxy, {"127.0.0.1", "127.0.0.2"})
        yield proxy, port
    finally:
        await asyncio.to_thread(proxy.stop)  # off the loop: the replicas Envoy talks to run on it
