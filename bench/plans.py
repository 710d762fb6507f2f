"""The README's "What is live?" questions at the database: EXPLAIN ANALYZE of the first page of
each, built by the server's own code (the Listing tables, the rollout and latest queries), on the
seeded table. Each must use an index (no sequential scan of deployments) and answer within the
target, whatever the table's size.

    await plans.live_truth(dsn)  # after bench/seed.py has filled the database
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import timestamp_pb2
from sqlalchemy import CompoundSelect, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench import seed
from catapult.v1 import deployment_service_pb2, release_service_pb2
from catapult_server import pagination
from catapult_server.db.schema import deployments, releases
from catapult_server.listing import Listing
from catapult_server.services import deployments as deployment_service
from catapult_server.services import releases as release_service

TARGET_MS = 20.0


@dataclass
class Plan:
    question: str
    execution_ms: float
    rows: int
    seq_scan_of: list[str]  # tables read by a sequential scan (the target: none of the big ones)

    @property
    def met(self) -> bool:
        return self.execution_ms <= TARGET_MS and "deployments" not in self.seq_scan_of


def _first_page(listing: Listing[Any, Any], request: Any) -> Select[Any]:
    """The SQL of a List RPC's first page, as the server runs it."""
    query = listing.resource.query.where(*listing.where(request))
    order = pagination.parse_order_by(getattr(request, "order_by", ""), listing.order)
    column = listing.sort_columns(request)[order.column]
    return pagination.seek(query, column, listing.resource.table.c.id, order, 50, None)


def _scans(node: dict[str, Any]) -> list[str]:
    found = [node["Relation Name"]] if node.get("Node Type") == "Seq Scan" else []
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


async def _explain(conn: AsyncConnection, question: str, query: Select[Any] | CompoundSelect[Any]) -> Plan:
    compiled = query.compile(dialect=conn.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", params)
    explained = result.scalar_one()  # asyncpg decodes the json column; a string if it does not
    (plan,) = json.loads(explained) if isinstance(explained, str) else explained
    return Plan(question, plan["Execution Time"], plan["Plan"].get("Actual Rows", 0), _scans(plan["Plan"]))


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def live_truth(database_url: str) -> list[Plan]:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            d, r = deployments, releases
            sample = (
                await conn.execute(
                    select(d.c.endpoint_url, d.c.model_id, d.c.live_since, r.c.digest)
                    .join(r, d.c.release_id == r.c.id)
                    .where(d.c.status == "success")
                    .order_by(d.c.deployed_at.desc())
                    .limit(1)
                )
            ).one()
            checksum = seed.SHARED_CHECKSUM
            moment = sample.live_since + timedelta(seconds=1)
            company = "company-7"
            deployment_questions: list[tuple[str, deployment_service_pb2.ListDeploymentsRequest]] = [
                (
                    "1. point in time (endpoint, live_at)",
                    deployment_service_pb2.ListDeploymentsRequest(
                        endpoint_url=sample.endpoint_url, live_at=_timestamp(moment)
                    ),
                ),
                (
                    "1. point in time (production, live_at)",
                    deployment_service_pb2.ListDeploymentsRequest(
                        environment="production", live_at=_timestamp(datetime(2024, 6, 1, tzinfo=UTC))
                    ),
                ),
                (
                    "2. endpoint history",
                    deployment_service_pb2.ListDeploymentsRequest(endpoint_url=sample.endpoint_url),
                ),
                (
                    "4. deployments by digest, live",
                    deployment_service_pb2.ListDeploymentsRequest(digest=sample.digest, active_only=True),
                ),
                (
                    "4. deployments by artifact checksum, live",
                    deployment_service_pb2.ListDeploymentsRequest(
                        artifact_checksum=checksum, active_only=True
                    ),
                ),
                (
                    "5. deprecated but live",
                    deployment_service_pb2.ListDeploymentsRequest(
                        release_status="deprecated", active_only=True
                    ),
                ),
                (
                    "6. per customer, live",
                    deployment_service_pb2.ListDeploymentsRequest(company=company, active_only=True),
                ),
                (
                    "7. failures since",
                    deployment_service_pb2.ListDeploymentsRequest(
                        status="failed", deployed_after=_timestamp(datetime(2025, 1, 1, tzinfo=UTC))
                    ),
                ),
            ]
            plans = [
                await _explain(conn, question, _first_page(deployment_service.LISTING, request))
                for question, request in deployment_questions
            ]
            rollout = deployment_service.rollout_query(uuid.UUID(str(sample.model_id)))
            plans.append(await _explain(conn, "3. environment matrix (rollout)", rollout))
            by_digest = release_service_pb2.ListReleasesRequest(digest=sample.digest)
            plans.append(
                await _explain(conn, "4. releases by digest", _first_page(release_service.LISTING, by_digest))
            )
            serving = release_service.latest_query(uuid.UUID(str(sample.model_id)), "", "production")
            plans.append(await _explain(conn, "latest release serving in production", serving))
            highest = release_service.latest_query(uuid.UUID(str(sample.model_id)), "", "")
            plans.append(await _explain(conn, "latest release (highest version)", highest))
            return plans
    finally:
        await engine.dispose()
