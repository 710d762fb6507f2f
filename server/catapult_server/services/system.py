"""The server's own state: version, database reachability, health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select, text, true

from catapult.v1 import system_pb2, system_service_pb2
from catapult_server import __version__
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db.schema import deployments, models, releases
from catapult_server.errors import DatabaseUnavailable
from catapult_server.resources import now
from catapult_server.services.deployments import LIVE


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


def summary_query() -> Any:
    """Every count in one statement, so they agree with one another (one snapshot): the
    registry's totals, joined to one row per environment something is live in (none: one row of
    totals, its environment NULL). The live counts use the partial index of live deployments."""
    totals = select(
        select(func.count()).select_from(models).scalar_subquery().label("model_count"),
        select(func.count()).select_from(releases).scalar_subquery().label("release_count"),
        select(func.count(distinct(models.c.company)))
        .where(models.c.company != "")
        .scalar_subquery()
        .label("company_count"),
    ).subquery("totals")
    live = (
        select(
            deployments.c.environment,
            func.count().label("live_deployment_count"),
            func.count(distinct(deployments.c.model_id)).label("live_model_count"),
        )
        .where(LIVE)
        .group_by(deployments.c.environment)
        .subquery("live")
    )
    return select(totals, live).select_from(totals.outerjoin(live, true())).order_by(live.c.environment)


async def registry_summary(db: Database) -> system_pb2.RegistrySummary:
    async with db.read() as conn:
        rows = (await conn.execute(summary_query())).mappings().all()
    first = rows[0]
    environments = [
        system_pb2.EnvironmentSummary(
            environment=row["environment"],
            live_deployment_count=row["live_deployment_count"],
            live_model_count=row["live_model_count"],
        )
        for row in rows
        if row["environment"] is not None
    ]
    return system_pb2.RegistrySummary(
        model_count=first["model_count"],
        release_count=first["release_count"],
        company_count=first["company_count"],
        live_deployment_count=sum(e.live_deployment_count for e in environments),
        environments=environments,
    )


async def ping(db: Database) -> None:
    """Raise DatabaseUnavailable unless the database answers."""
    async with db.read() as conn:
        await conn.execute(text("SELECT 1"))


async def health(db: Database) -> system_service_pb2.HealthResponse:
    await ping(db)
    return system_service_pb2.HealthResponse(status="ok", version=__version__)


def caller(who: Caller) -> system_pb2.Caller:
    return system_pb2.Caller(api_key_id=str(who.key_id or ""), api_key_name=who.key_name, role=who.role)
