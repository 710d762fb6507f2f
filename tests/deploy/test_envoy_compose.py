"""The Envoy config of docker-compose.yml (envoy/compose.yaml): the generator's output for the
command in the Makefile, accepted by the real envoy binary, and balancing over every replica the
name `server` resolves to, as compose's DNS does for `--scale server=N` (tests/deploy/loopback.py
stands in for compose's network). Everything else is the committed config as the Envoy container
runs it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.paths import REPO
from tests.support.rest import envoy_validate, request

from .files import COMPOSE_ENVOY_CONFIG, make_generate_writes
from .loopback import Replicas, ServiceDns, deployed_envoy, served_by, wait_for_hosts, wait_until_each_serves

# The compose service the Envoy config names; tests/deploy/conftest.py's DNS answers for it.
UPSTREAM_NAME = "server"


def test_the_committed_compose_config_is_what_make_generate_writes(tmp_path: Path) -> None:
    assert COMPOSE_ENVOY_CONFIG.read_text() == make_generate_writes(COMPOSE_ENVOY_CONFIG, tmp_path), (
        "envoy/compose.yaml is out of date: run `make generate` and commit it"
    )


def test_the_compose_config_loads_in_the_real_envoy() -> None:
    result = envoy_validate("-c", str(COMPOSE_ENVOY_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


# --- Envoy as the compose file runs it, in front of replicas ------------------------------------------


async def test_envoy_balances_over_every_replica_and_follows_scaling(
    tmp_path: Path, service_dns: ServiceDns, replicas: Replicas
) -> None:
    # docker compose up --scale server=2
    async with deployed_envoy(COMPOSE_ENVOY_CONFIG, service_dns, replicas, tmp_path) as (proxy, port):
        reached = await served_by(proxy, port, 20)
        assert reached == {"127.0.0.1": 10, "127.0.0.2": 10}, reached  # round robin
        # The console, from web/dist as the image has it (WORKDIR /app/web/dist).
        console = await asyncio.to_thread(request, port, "GET", "/models/123")
        assert (console.status, console.body) == (200, (REPO / "web" / "dist" / "index.html").read_bytes())

        # docker compose up -d --scale server=3: a new replica, found by the next DNS lookup
        # (every 5 s), sent requests once it passes its health check.
        await replicas.start("127.0.0.3")
        service_dns.addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        await wait_for_hosts(proxy, {"127.0.0.1", "127.0.0.2", "127.0.0.3"})
        await wait_until_each_serves(proxy, port, {"127.0.0.1", "127.0.0.2", "127.0.0.3"})
        reached = await served_by(proxy, port, 30)
        assert reached == {"127.0.0.1": 10, "127.0.0.2": 10, "127.0.0.3": 10}, reached

        # docker compose up -d --scale server=1: replicas stop and leave the DNS; no call fails.
        service_dns.addresses = ["127.0.0.1"]
        await replicas.stop("127.0.0.2")
        await replicas.stop("127.0.0.3")
        assert sum((await served_by(proxy, port, 10)).values()) == 10
        await wait_for_hosts(proxy, {"127.0.0.1"})
        assert await served_by(proxy, port, 5) == {"127.0.0.1": 5}
