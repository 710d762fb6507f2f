"""The server's own state: version, database reachability, health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from catapult.v1 import system_pb2, system_service_pb2
from catapult_server import __version__
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.errors import DatabaseUnavailable
from catapult_server.resources import now


async def database_info(db: Database) -> system_pb2.DatabaseInfo:
    try:
        async with db.read() as conn:
            server_version = await conn.scalar(text("SHOW server_version"))
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except DatabaseUnavailable:
        return system_pb2.DatabaseInfo(reachable=False)
    return system_pb2.DatabaseInfo(
        reachable=True, server_version=str(server_version or ""), schema_revision=str(revision or "")
    )


async def get_info(db: Database, started_at: datetime) -> system_pb2.SystemInfo:
    info = system_pb2.SystemInfo(version=__version__, api_version="v1", database=await database_info(db))
    info.server_time.FromDatetime(now())
    info.started_at.FromDatetime(started_at)
    return info


async def ping(db: Database) -> None:
    """Raise DatabaseUnavailable unless the database answers."""
    async with db.read() as conn:
        await conn.execute(text("SELECT 1"))


async def health(db: Database) -> system_service_pb2.HealthResponse:
    await ping(db)
    return system_service_pb2.HealthResponse(status="ok", version=__version__)


def caller(who: Caller) -> system_pb2.Caller:
    return system_pb2.Caller(api_key_id=str(who.key_id or ""), api_key_name=who.key_name, role=who.role)
