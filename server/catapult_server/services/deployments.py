"""Deployments: which release is live where, at which endpoint — and what was before it.
They are never deleted by DeleteDeployment, only terminated."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import deployment_pb2, deployment_service_pb2, error_reason_pb2
from catapult_server import audit, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import FailedPrecondition, NotFound
from catapult_server.resources import DEPLOYMENT, ENVIRONMENTS, now, parse_uuid, to_proto
from catapult_server.services import crud

d, r, m = schema.deployments, schema.releases, schema.models
# A deployment with what a release engineer asks next: which model, for whom, which version.
SELECT = select(
    d,
    m.c.name.label("model_name"),
    m.c.company.label("company"),
    r.c.version.label("release_version"),
    r.c.tag.label("release_tag"),
    r.c.quantization.label("quantization"),
).select_from(d.join(r, d.c.release_id == r.c.id).join(m, d.c.model_id == m.c.id))
ORDER_COLUMNS = {"deployed_at": d.c.deployed_at, "created_at": d.c.created_at}
JOINED = ("model_id", "model_name", "company", "release_version", "release_tag", "quantization")


def _proto(row: Mapping[str, Any]) -> deployment_pb2.Deployment:
    return to_proto(DEPLOYMENT, row, **{name: row[name] for name in JOINED})  # type: ignore[no-any-return]


async def read(conn: AsyncConnection, deployment_id: uuid.UUID) -> deployment_pb2.Deployment:
    row = await repository.fetch_one(conn, SELECT.where(d.c.id == deployment_id), DEPLOYMENT, deployment_id)
    return _proto(row)


def _terminated_at(current: Mapping[str, Any], changed: dict[str, Any]) -> None:
    """terminated_at follows status: set when it becomes "terminated", cleared if it leaves it."""
    if "status" in changed:
        if changed["status"] == "terminated" and current["terminated_at"] is None:
            changed["terminated_at"] = now()
        elif changed["status"] != "terminated":
            changed["terminated_at"] = None


async def create(
    db: Database, caller: Caller, request: deployment_service_pb2.CreateDeploymentRequest
) -> deployment_pb2.Deployment:
    async def from_release(conn: AsyncConnection, values: dict[str, Any]) -> None:
        values["deployed_by"] = values.get("deployed_by") or caller.key_name
        _terminated_at({"terminated_at": None}, values)
        # FOR SHARE: the release cannot be deleted or deprecated until this deployment commits.
        release = (
            await conn.execute(
                select(r.c.image_id, r.c.status)
                .where(r.c.id == values["release_id"])
                .with_for_update(read=True)
            )
        ).first()
        if release is None:
            raise NotFound("Release", str(values["release_id"]), field="deployment.release_id")
        if release.status == "deprecated" and not request.force:
            raise FailedPrecondition(
                error_reason_pb2.RELEASE_DEPRECATED,
                f"release {values['release_id']} is deprecated; pass force to deploy it anyway",
            )
        values["model_id"] = release.image_id

    return await crud.create(  # type: ignore[no-any-return]
        db, DEPLOYMENT, request.deployment, caller, request.request_id, read, from_release
    )


async def get(
    db: Database, request: deployment_service_pb2.GetDeploymentRequest
) -> deployment_pb2.Deployment:
    return await crud.get(db, read, DEPLOYMENT, request.id)  # type: ignore[no-any-return]


async def list_deployments(
    db: Database, request: deployment_service_pb2.ListDeploymentsRequest
) -> deployment_service_pb2.ListDeploymentsResponse:
    query = SELECT
    if request.environment:
        query = query.where(d.c.environment == crud.choice(request.environment, ENVIRONMENTS, "environment"))
    if request.status:
        query = query.where(d.c.status == crud.choice(request.status, schema.DEPLOYMENT_STATUSES, "status"))
    for column in ("cluster", "k8s_namespace", "endpoint_url"):
        if value := getattr(request, column):
            query = query.where(d.c[column] == value)
    if request.company:
        query = query.where(m.c.company == request.company)
    if request.model_name:
        query = query.where(m.c.name == request.model_name)
    if request.model_id:
        query = query.where(d.c.model_id == parse_uuid(request.model_id, "model_id"))
    if request.release_id:
        query = query.where(d.c.release_id == parse_uuid(request.release_id, "release_id"))
    if request.active_only:
        query = query.where(d.c.status != "terminated")
    if request.HasField("deployed_after"):
        query = query.where(d.c.deployed_at >= request.deployed_after.ToDatetime(tzinfo=UTC))
    if request.HasField("deployed_before"):
        query = query.where(d.c.deployed_at < request.deployed_before.ToDatetime(tzinfo=UTC))
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, d.c.id, request, "deployed_at desc")
    return deployment_service_pb2.ListDeploymentsResponse(
        deployments=[_proto(row) for row in rows], next_page_token=token
    )


async def update(
    db: Database, caller: Caller, request: deployment_service_pb2.UpdateDeploymentRequest
) -> deployment_pb2.Deployment:
    return await crud.update(  # type: ignore[no-any-return]
        db,
        DEPLOYMENT,
        request.deployment,
        request.update_mask.paths,
        request.etag,
        caller,
        read,
        _terminated_at,
    )


async def terminate(
    db: Database, caller: Caller, request: deployment_service_pb2.DeleteDeploymentRequest
) -> deployment_pb2.Deployment:
    deployment_id = parse_uuid(request.id, "id")
    async with db.transaction() as conn:
        current = await repository.lock_for_change(conn, DEPLOYMENT, deployment_id, request.etag)
        if current["status"] != "terminated":
            changed: dict[str, Any] = {"status": "terminated"}
            _terminated_at(current, changed)
            await repository.update_row(conn, DEPLOYMENT, current, changed)
            changes = {"status": {"old": current["status"], "new": "terminated"}}
            await audit.record(conn, caller, "terminate", "deployment", deployment_id, changes)
        return await read(conn, deployment_id)
