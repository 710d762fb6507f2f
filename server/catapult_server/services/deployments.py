"""Deployments: which release is live where, at which endpoint — and what was before it.

Live means status "success" (db/schema.py: LIVE_STATUS). A deployment occupies a slot (its
environment and endpoint, or without an endpoint its model, environment, cluster and namespace),
and a slot holds one live deployment: when one becomes live, the others live in its slot are
terminated in the same transaction, naming it in superseded_by_id. Deploys into one slot take
turns on a lock of the slot, so concurrent ones supersede each other in order. Deployments are
never deleted by DeleteDeployment, only terminated.

Lock order, the same in every write that takes more than one (so none waits in a cycle):
model → release → slot → deployment rows. A deploy takes the model (FOR KEY SHARE) before the
release (FOR SHARE), as a model delete takes the model (FOR UPDATE) before the releases it
deletes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from catapult.v1 import deployment_pb2, deployment_service_pb2, error_reason_pb2
from catapult_server import audit, idempotency, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db.schema import ENDPOINT_SLOT, LIVE_INTERVAL, LIVE_STATUS, PLACEMENT_SLOT
from catapult_server.errors import FailedPrecondition, NotFound
from catapult_server.listing import Listing, at_or_after, before, equals, when_true
from catapult_server.resources import ARTIFACT, DEPLOYMENT, MODEL, RELEASE, Resource, Row
from catapult_server.services import crud

d, r, m, a = DEPLOYMENT.table, RELEASE.table, MODEL.table, ARTIFACT.table
LIVE = d.c.status == LIVE_STATUS
TERMINATED = "terminated"

# Where a deployment's status may go (the lifecycle Deployment.status documents). Leaving
# "success" is termination, so a deployment is live over one interval, [live_since, terminated_at).
TRANSITIONS = {
    "deploying": {"success", "failed", TERMINATED},
    "failed": {"success", TERMINATED},
    "success": {TERMINATED},
    TERMINATED: set(),
}


def _live_at(moment: datetime) -> ColumnElement[bool]:
    # The GiST index's expression and predicate, so the index serves it.
    return and_(d.c.live_since.isnot(None), LIVE_INTERVAL.op("@>")(moment))


def _carrying_artifact(checksum: str) -> ColumnElement[bool]:
    return d.c.release_id.in_(select(a.c.release_id).where(a.c.checksum == checksum))


LISTING = Listing(
    deployment_service_pb2.ListDeploymentsRequest,
    deployment_service_pb2.ListDeploymentsResponse,
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
        "active_only": when_true(LIVE),
        "deployed_after": at_or_after(d.c.deployed_at),
        "deployed_before": before(d.c.deployed_at),
        "model_name": equals(m.c.name),
        "live_at": _live_at,
        "digest": equals(r.c.digest),
        "artifact_checksum": _carrying_artifact,
        "release_status": equals(r.c.status),
    },
    order_columns={"deployed_at": d.c.deployed_at, "created_at": d.c.created_at},
    sorted_when=frozenset({"live_at"}),
)


def _slot(deployment: Mapping[str, Any]) -> tuple[Any, ...]:
    """The slot a deployment occupies, as its (column, value) pairs."""
    columns = ENDPOINT_SLOT if deployment["endpoint_url"] else PLACEMENT_SLOT
    return tuple((column, deployment[column]) for column in columns)


async def _take_slot(tx: AsyncConnection, slot: tuple[Any, ...]) -> datetime:
    """Wait for the slot's lock (held until commit), then the database's clock: the moment this
    deployment becomes live, later than any predecessor's in the slot."""
    key = "\x1f".join(f"{column}={value}" for column, value in slot)
    # One round trip: the clock is read in the outer query, after the subquery took the lock (a
    # volatile function keeps the subquery from being merged into it).
    locked = select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)).label("locked")).subquery()
    moment: datetime | None = await tx.scalar(select(func.clock_timestamp()).select_from(locked))
    assert moment is not None
    return moment


async def _clock(tx: AsyncConnection) -> datetime:
    """The database's clock now (not the transaction's start): one clock for every replica."""
    moment: datetime | None = await tx.scalar(select(func.clock_timestamp()))
    assert moment is not None
    return moment


async def _supersede(
    tx: AsyncConnection, caller: Caller, slot: tuple[Any, ...], successor: uuid.UUID, moment: datetime
) -> uuid.UUID | None:
    """Terminate every other live deployment in the slot, naming the successor; the one that was
    live last (the successor's replaces_id), or None."""
    in_slot = [d.c[column] == value for column, value in slot]
    if slot[-1][0] == "k8s_namespace":  # a placement slot holds only deployments without an endpoint
        in_slot.append(d.c.endpoint_url == "")
    superseded = (
        await tx.execute(
            sql_update(d)
            .where(LIVE, d.c.id != successor, *in_slot)
            .values(
                status=TERMINATED,
                terminated_at=moment,
                superseded_by_id=successor,
                revision=d.c.revision + 1,
                updated_at=moment,
            )
            .returning(d.c.id, d.c.live_since)
        )
    ).all()
    changes = {"status": {"old": LIVE_STATUS, "new": TERMINATED}, "superseded_by_id": str(successor)}
    if superseded:
        ended = DEPLOYMENT.query.where(d.c.id.in_([row.id for row in superseded]))
        for ended_row in (await tx.execute(ended)).mappings():
            snapshot = DEPLOYMENT.to_proto(ended_row)
            await audit.record(
                tx, caller, "supersede", DEPLOYMENT, ended_row["id"], changes, snapshot=snapshot
            )
    if not superseded:
        return None
    last: uuid.UUID = max(superseded, key=lambda row: (row.live_since or moment, row.id)).id
    return last


async def _lock_release(tx: AsyncConnection, release_id: uuid.UUID, force: bool) -> Any:
    """The release to deploy and its model, locked in the lock order (model, then release) until
    the deployment commits: neither can be deleted, nor the release deprecated, meanwhile.
    NOT_FOUND, or FAILED_PRECONDITION when the release is deprecated (unless forced)."""
    model_id = await tx.scalar(select(r.c.image_id).where(r.c.id == release_id))
    if model_id is not None:
        # FOR KEY SHARE (read=True with key_share; key_share alone is FOR NO KEY UPDATE, which
        # serialized every deployment of a model): it blocks the model's delete, not other deploys.
        await tx.execute(select(m.c.id).where(m.c.id == model_id).with_for_update(read=True, key_share=True))
    # With what a deployment shows of its release and model (DEPLOYMENT.joined), so the created
    # deployment is built from its inserted row without reading it back.
    release = (
        (
            await tx.execute(
                select(r.c.image_id, r.c.status, *DEPLOYMENT.joined.values())
                .select_from(r.join(m, r.c.image_id == m.c.id))
                .where(r.c.id == release_id)
                .with_for_update(read=True, of=r)
            )
        )
        .mappings()
        .first()
    )
    if release is None:
        raise NotFound("Release", str(release_id), field="deployment.release_id")
    if release["status"] == "deprecated" and not force:
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
    async with db.transaction() as tx:
        earlier = await idempotency.claim(tx, caller, "CreateDeployment", request)
        if earlier is not None:
            return await repository.read(tx, DEPLOYMENT, earlier)
        release = await _lock_release(tx, values["release_id"], request.force)
        values["id"] = new_id = uuid.uuid4()
        values["model_id"] = release["image_id"]
        if values["status"] == LIVE_STATUS:
            slot = _slot(values)
            values["live_since"] = moment = await _take_slot(tx, slot)
            values["replaces_id"] = await _supersede(tx, caller, slot, new_id, moment)
        elif values["status"] == TERMINATED:
            values["terminated_at"] = await _clock(tx)
        joined = {key: release[key] for key in DEPLOYMENT.joined}
        created = await crud.insert_audited(tx, DEPLOYMENT, values, caller, request.request_id, joined)
        await idempotency.bind(tx, caller, request.request_id, new_id)
        return created


def _check_transition(current: Row, status: str) -> None:
    if status != current["status"] and status not in TRANSITIONS[current["status"]]:
        raise FailedPrecondition(
            error_reason_pb2.STATUS_TRANSITION_NOT_ALLOWED,
            f"deployment {current['id']} is {current['status']}; it cannot become {status} "
            f"(allowed: {', '.join(sorted(TRANSITIONS[current['status']])) or 'nothing: it is final'}); "
            "record a new deployment instead",
        )


async def update(
    db: Database, caller: Caller, request: deployment_service_pb2.UpdateDeploymentRequest, etag: str
) -> deployment_pb2.Deployment:
    deployment_id = uuid.UUID(request.deployment.id)
    values = DEPLOYMENT.values_for_update(request.deployment, list(request.update_mask.paths))
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, DEPLOYMENT, deployment_id, etag)
        after = {**current, **values}
        _check_transition(current, after["status"])
        derived: dict[str, Any] = {}
        moves = _slot(after) != _slot(current)
        if after["status"] == LIVE_STATUS and (current["status"] != LIVE_STATUS or moves):
            # Becoming live, or a live deployment moving to another slot: it supersedes there.
            slot = _slot(after)
            moment = await _take_slot(tx, slot)
            if current["live_since"] is None:
                derived["live_since"] = moment
            replaced = await _supersede(tx, caller, slot, deployment_id, moment)
            if replaced is not None:
                derived["replaces_id"] = replaced
        elif after["status"] == TERMINATED and current["status"] != TERMINATED:
            derived["terminated_at"] = await _clock(tx)
        return await crud.apply_update(tx, DEPLOYMENT, current, values, caller, derived)


async def terminate(
    db: Database, caller: Caller, request: deployment_service_pb2.DeleteDeploymentRequest, etag: str
) -> deployment_pb2.Deployment:
    deployment_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, DEPLOYMENT, deployment_id, etag)
        if current["status"] == TERMINATED:
            return await repository.read(tx, DEPLOYMENT, deployment_id)
        moment = await _clock(tx)
        await repository.update(tx, DEPLOYMENT, current, {"status": TERMINATED, "terminated_at": moment})
        terminated = await repository.read(tx, DEPLOYMENT, deployment_id)
        changes = {"status": {"old": current["status"], "new": TERMINATED}}
        await audit.record(tx, caller, "terminate", DEPLOYMENT, deployment_id, changes, snapshot=terminated)
        return terminated


async def lock_unless_live(
    tx: AsyncConnection,
    resource: Resource[Any],
    resource_id: uuid.UUID,
    etag: str,
    deployed: ColumnElement[bool],
) -> None:
    """Lock a model or release for its delete (the lock order's first step), refusing while any
    of its deployments (`deployed`) is live: even a forced delete removes only history."""
    await repository.lock_for_change(tx, resource, resource_id, etag)
    rows = await tx.execute(select(d.c.id).where(LIVE, deployed).order_by(d.c.deployed_at.desc()).limit(6))
    live = [str(row.id) for row in rows]
    if live:
        shown = ", ".join(live[:5]) + (" and more" if len(live) > 5 else "")
        raise FailedPrecondition(
            error_reason_pb2.HAS_LIVE_DEPLOYMENTS,
            f"{resource.name} {resource_id} is live in deployment(s) {shown}: terminate them first "
            "(DeleteDeployment); force deletes only history that is no longer live",
        )


@dataclass(frozen=True)
class Removed:
    """What a forced delete removed below a release: the deployments (each as its audit row keeps
    it: history is never lost silently) and how many artifacts."""

    deployments: list[dict[str, Any]]
    artifacts: int


async def delete_history(
    tx: AsyncConnection,
    caller: Caller,
    deployed: ColumnElement[bool],
    artifacts: ColumnElement[bool],
    context: dict[str, str],
) -> Removed:
    """Delete the deployment history and artifacts of releases being deleted, each audited."""
    gone = await crud.delete_audited(tx, caller, DEPLOYMENT, deployed, context)
    history = [
        _json_row({column: row[column] for column in HISTORY_COLUMNS})
        for row in sorted(gone, key=lambda row: row["deployed_at"])
    ]
    removed_artifacts = await crud.delete_audited(tx, caller, ARTIFACT, artifacts, context)
    return Removed(history, len(removed_artifacts))


# What a forced delete's audit row keeps of each deployment it removed.
HISTORY_COLUMNS = (
    "id",
    "release_id",
    "environment",
    "cluster",
    "endpoint_url",
    "status",
    "deployed_at",
    "live_since",
    "terminated_at",
)


def _json_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    return dict(json.loads(json.dumps(dict(row), default=str)))


def rollout_query(model_id: uuid.UUID) -> Select[Any]:
    """A model's live deployments by environment, newest live first in each."""
    return DEPLOYMENT.query.where(d.c.model_id == model_id, LIVE).order_by(
        d.c.environment, d.c.live_since.desc(), d.c.id.desc()
    )


async def rollout(tx: AsyncConnection, model_id: uuid.UUID) -> list[deployment_pb2.Deployment]:
    return [DEPLOYMENT.to_proto(row) for row in (await tx.execute(rollout_query(model_id))).mappings()]
