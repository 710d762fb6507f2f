"""Deployments: which release is live where, at which endpoint — and what was before it.
They are never deleted by DeleteDeployment, only terminated."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import deployment_pb2, deployment_service_pb2, error_reason_pb2
from catapult_server import audit, idempotency, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.errors import FailedPrecondition, NotFound
from catapult_server.listing import Listing, at_or_after, before, equals, when_true
from catapult_server.resources import DEPLOYMENT, MODEL, RELEASE, now
from catapult_server.services import crud

d, r, m = DEPLOYMENT.table, RELEASE.table, MODEL.table

LISTING = Listing(
    deployment_service_pb2.ListDeploymentsRequest,
    DEPLOYMENT,
    filters={
        "environment": equals(d.c.environment),
        "status": equals(d.c.status),
        "cluster": equals(d.c.cluster),
        "k8s_namespace": equals(d.c.k8s_namespace),
        "company": equals(m.c.company),
        "model_id": equals(d.c.model_id),
        "release_id": equals(d.c.release_id),
        "endpoint_url": equals(d.c.endpoint_url),
        "active_only": when_true(d.c.status != "terminated"),
        "deployed_after": at_or_after(d.c.deployed_at),
        "deployed_before": before(d.c.deployed_at),
        "model_name": equals(m.c.name),
    },
    order_columns={"deployed_at": d.c.deployed_at, "created_at": d.c.created_at},
)


def _status_times(current_status: str | None, status: str) -> dict[str, Any]:
    """terminated_at follows status: set when it becomes "terminated", cleared if it leaves it."""
    if status == current_status:
        return {}
    return {"terminated_at": now() if status == "terminated" else None}


async def _deployable_release(tx: AsyncConnection, release_id: uuid.UUID, force: bool) -> Any:
    """The release to deploy, share-locked so it cannot be deleted or deprecated until the new
    deployment commits; NOT_FOUND, or FAILED_PRECONDITION when deprecated (unless forced)."""
    release = (
        await tx.execute(
            select(r.c.image_id, r.c.status).where(r.c.id == release_id).with_for_update(read=True)
        )
    ).first()
    if release is None:
        raise NotFound("Release", str(release_id), field="deployment.release_id")
    if release.status == "deprecated" and not force:
        raise FailedPrecondition(
            error_reason_pb2.RELEASE_DEPRECATED,
            f"release {release_id} is deprecated; pass force to deploy it anyway",
        )
    return release


async def create(
    db: Database, caller: Caller, request: deployment_service_pb2.CreateDeploymentRequest
) -> deployment_pb2.Deployment:
    values = DEPLOYMENT.values_for_create(request.deployment)
    values["deployed_by"] = values.get("deployed_by") or caller.key_name
    values |= _status_times(None, values.get("status", ""))
    async with db.transaction() as tx:
        earlier = await idempotency.claim(tx, "CreateDeployment", request.request_id)
        if earlier is not None:
            return await repository.read(tx, DEPLOYMENT, earlier)
        release = await _deployable_release(tx, values["release_id"], request.force)
        values["model_id"] = release.image_id
        new_id = await crud.insert_audited(tx, DEPLOYMENT, values, caller, request.request_id)
        await idempotency.bind(tx, request.request_id, new_id)
        return await repository.read(tx, DEPLOYMENT, new_id)


async def get(
    db: Database, request: deployment_service_pb2.GetDeploymentRequest
) -> deployment_pb2.Deployment:
    return await crud.get(db, DEPLOYMENT, request.id)


async def list_deployments(
    db: Database, request: deployment_service_pb2.ListDeploymentsRequest
) -> deployment_service_pb2.ListDeploymentsResponse:
    deployments, token = await LISTING.page(db, request)
    return deployment_service_pb2.ListDeploymentsResponse(deployments=deployments, next_page_token=token)


async def update(
    db: Database, caller: Caller, request: deployment_service_pb2.UpdateDeploymentRequest
) -> deployment_pb2.Deployment:
    deployment_id = uuid.UUID(request.deployment.id)
    values = DEPLOYMENT.values_for_update(request.deployment, list(request.update_mask.paths))
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, DEPLOYMENT, deployment_id, request.etag)
        derived = _status_times(current["status"], values["status"]) if "status" in values else {}
        await crud.apply_update(tx, DEPLOYMENT, current, values, caller, derived)
        return await repository.read(tx, DEPLOYMENT, deployment_id)


async def terminate(
    db: Database, caller: Caller, request: deployment_service_pb2.DeleteDeploymentRequest
) -> deployment_pb2.Deployment:
    deployment_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, DEPLOYMENT, deployment_id, request.etag)
        if current["status"] != "terminated":
            await repository.update(tx, DEPLOYMENT, current, {"status": "terminated", "terminated_at": now()})
            changes = {"status": {"old": current["status"], "new": "terminated"}}
            await audit.record(tx, caller, "terminate", DEPLOYMENT, deployment_id, changes)
        return await repository.read(tx, DEPLOYMENT, deployment_id)


async def history(tx: AsyncConnection, where: Any) -> list[dict[str, Any]]:
    """The deployments a forced delete removes, kept in its audit row: history is never lost silently."""
    rows = await tx.execute(
        select(
            d.c.id,
            d.c.release_id,
            d.c.environment,
            d.c.cluster,
            d.c.endpoint_url,
            d.c.status,
            d.c.deployed_at,
        )
        .where(where)
        .order_by(d.c.deployed_at)
    )
    return [_json_row(row._mapping) for row in rows]


def _json_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(dict(row), default=str)))
