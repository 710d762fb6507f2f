"""Fixtures of the deployment tests that run a deployment's Envoy config in front of real servers
(tests/deploy/loopback.py): the stand-in for the DNS name its upstream is (the test module's
UPSTREAM_NAME), and the replicas behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from catapult_server.config import Settings

from .loopback import Replicas, ServiceDns


@pytest.fixture
def service_dns(request: pytest.FixtureRequest) -> Iterator[ServiceDns]:
    with ServiceDns(request.module.UPSTREAM_NAME) as dns:
        yield dns


@pytest.fixture
async def replicas(settings: Settings) -> AsyncIterator[Replicas]:
    started = Replicas(settings)
    yield started
    for address in list(started.running):
        await started.stop(address)
