"""Releases: Docker images of a model, one version at one quantization."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import error_reason_pb2, release_pb2, release_service_pb2
from catapult_server import versions
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.errors import FailedPrecondition, InvalidArgument, NotFound
from catapult_server.listing import Listing, equals
from catapult_server.resources import ARTIFACT, DEPLOYMENT, MODEL, RELEASE
from catapult_server.services import crud, deployments

r, m, a, d = RELEASE.table, MODEL.table, ARTIFACT.table, DEPLOYMENT.table

LISTING = Listing(
    release_service_pb2.ListReleasesRequest,
    release_service_pb2.ListReleasesResponse,
    RELEASE,
    filters={
        "image_id": equals(r.c.image_id),
        "model_name": equals(m.c.name),
        "version": equals(r.c.version),
        "quantization": equals(r.c.quantization),
        "status": equals(r.c.status),
        "digest": equals(r.c.digest),
    },
    order_columns={"created_at": r.c.created_at, "version": r.c.version_key},
)


async def create(
    db: Database, caller: Caller, request: release_service_pb2.CreateReleaseRequest
) -> release_pb2.Release:
    # The model's existence is checked by the foreign key: a missing one is NOT_FOUND (image_id).
    values = RELEASE.values_for_create(request.release)
    return (await crud.create(db, RELEASE, values, caller, request)).resource


async def _model_id(conn: AsyncConnection, image_id: str, model_name: str) -> uuid.UUID:
    """The model named by id or by name; NOT_FOUND if it does not exist."""
    query = select(m.c.id).where(m.c.id == uuid.UUID(image_id) if image_id else m.c.name == model_name)
    found: uuid.UUID | None = await conn.scalar(query)
    if found is None:
        raise NotFound("Model", image_id or model_name, field="image_id" if image_id else "model_name")
    return found


def latest_query(
    model_id: uuid.UUID, quantization: str, environment: str
) -> Select[Any] | CompoundSelect[Any]:
    """A model's latest release, of one quantization if given. In an environment: what serves
    there now, the release of the live deployment that became live last. Otherwise the highest
    semantic version (one that is not a semantic version only if none is)."""
    query = RELEASE.query.where(r.c.image_id == model_id)
    if quantization:
        query = query.where(r.c.quantization == quantization)
    if environment:
        serving = query.join(d, d.c.release_id == r.c.id).where(
            d.c.model_id == model_id, d.c.environment == environment, deployments.LIVE
        )
        return serving.order_by(d.c.live_since.desc(), d.c.id.desc()).limit(1)
    # Two walks down the (image_id, version_key) index, the second only if the first finds
    # nothing: the highest semantic key (they sort below every other key), else the highest
    # key. One sort over both kinds would read every release of the model.
    newest_first = (r.c.version_key.desc(), r.c.created_at.desc(), r.c.id.desc())
    semantic = query.where(r.c.version_key < versions.OTHER).order_by(*newest_first).limit(1)
    return union_all(semantic, query.order_by(*newest_first).limit(1)).limit(1)


async def get_latest(
    db: Database, request: release_service_pb2.GetLatestReleaseRequest
) -> release_pb2.Release:
    if not request.image_id and not request.model_name:
        raise InvalidArgument.field("image_id", "give the model as image_id or model_name")
    async with db.read() as conn:
        model_id = await _model_id(conn, request.image_id, request.model_name)
        latest = latest_query(model_id, request.quantization, request.environment)
        row = (await conn.execute(latest)).mappings().first()
    if row is None:
        raise NotFound("Release", f"latest of model {request.image_id or request.model_name}")
    return RELEASE.to_proto(row)


async def delete(
    db: Database, caller: Caller, request: release_service_pb2.DeleteReleaseRequest, etag: str
) -> release_service_pb2.DeleteReleaseResponse:
    release_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        deployed = d.c.release_id == release_id
        await deployments.lock_unless_live(tx, RELEASE, release_id, etag, deployed)
        artifacts = await tx.scalar(select(func.count()).select_from(a).where(a.c.release_id == release_id))
        records = await tx.scalar(select(func.count()).select_from(d).where(deployed))
        if (artifacts or records) and not request.force:
            raise FailedPrecondition(
                error_reason_pb2.HAS_CHILDREN,
                f"release {release_id} has {artifacts} artifact(s) and {records} deployment record(s), "
                "none live: pass force to delete them with it",
            )
        with_release = {"with_release": str(release_id)}
        removed = await deployments.delete_history(
            tx, caller, deployed, a.c.release_id == release_id, with_release
        )
        changes = {"deleted_artifacts": removed.artifacts, "deleted_deployments": removed.deployments}
        await crud.delete_audited(tx, caller, RELEASE, r.c.id == release_id, changes)
    return release_service_pb2.DeleteReleaseResponse(
        id=str(release_id),
        deleted_artifacts=removed.artifacts,
        deleted_deployments=len(removed.deployments),
    )
