"""Releases: a model's Docker images, one per version and quantization."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import error_reason_pb2, release_pb2, release_service_pb2
from catapult_server import audit, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import FailedPrecondition, InvalidArgument, NotFound
from catapult_server.resources import (
    ARTIFACT,
    DEPLOYMENT,
    ENVIRONMENTS,
    QUANTIZATIONS,
    RELEASE,
    parse_uuid,
    to_proto,
)
from catapult_server.services import crud

r, m = schema.releases, schema.models
# Releases with their model's name, so a listing needs no second call.
SELECT = select(r, m.c.name.label("model_name")).select_from(r.join(m, r.c.image_id == m.c.id))
ORDER_COLUMNS = {"created_at": r.c.created_at, "version": r.c.version}


def _proto(row: Any) -> release_pb2.Release:
    return to_proto(RELEASE, row, model_name=row["model_name"])  # type: ignore[no-any-return]


async def read(conn: AsyncConnection, release_id: uuid.UUID) -> release_pb2.Release:
    return _proto(await repository.fetch_one(conn, SELECT.where(r.c.id == release_id), RELEASE, release_id))


async def create(
    db: Database, caller: Caller, request: release_service_pb2.CreateReleaseRequest
) -> release_pb2.Release:
    return await crud.create(db, RELEASE, request.release, caller, request.request_id, read)  # type: ignore[no-any-return]


async def get(db: Database, request: release_service_pb2.GetReleaseRequest) -> release_pb2.Release:
    return await crud.get(db, read, RELEASE, request.id)  # type: ignore[no-any-return]


async def _model_id(conn: AsyncConnection, image_id: str, model_name: str) -> uuid.UUID:
    """The model named by id or by name; NOT_FOUND if it does not exist."""
    if image_id:
        model_id = parse_uuid(image_id, "image_id")
        found = await conn.scalar(select(m.c.id).where(m.c.id == model_id))
        if found is None:
            raise NotFound("Model", image_id, field="image_id")
        return model_id
    by_name: uuid.UUID | None = await conn.scalar(select(m.c.id).where(m.c.name == model_name))
    if by_name is None:
        raise NotFound("Model", model_name, field="model_name")
    return by_name


async def get_latest(
    db: Database, request: release_service_pb2.GetLatestReleaseRequest
) -> release_pb2.Release:
    if not request.image_id and not request.model_name:
        raise InvalidArgument.field("image_id", "give the model as image_id or model_name")
    crud.choice(request.quantization, QUANTIZATIONS, "quantization")
    crud.choice(request.environment, ENVIRONMENTS, "environment")
    async with db.read() as conn:
        model_id = await _model_id(conn, request.image_id, request.model_name)
        query = SELECT.where(r.c.image_id == model_id)
        if request.quantization:
            query = query.where(r.c.quantization == request.quantization)
        if request.environment:
            d = schema.deployments
            query = query.where(
                exists().where(
                    d.c.release_id == r.c.id, d.c.environment == request.environment, d.c.status == "success"
                )
            )
        row = (
            (await conn.execute(query.order_by(r.c.created_at.desc(), r.c.id.desc()).limit(1)))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound("Release", f"latest of model {request.image_id or request.model_name}")
    return _proto(row)


async def list_releases(
    db: Database, request: release_service_pb2.ListReleasesRequest
) -> release_service_pb2.ListReleasesResponse:
    query = SELECT
    if request.image_id:
        query = query.where(r.c.image_id == parse_uuid(request.image_id, "image_id"))
    if request.model_name:
        query = query.where(m.c.name == request.model_name)
    if request.version:
        query = query.where(r.c.version == request.version)
    if request.quantization:
        query = query.where(
            r.c.quantization == crud.choice(request.quantization, QUANTIZATIONS, "quantization")
        )
    if request.status:
        query = query.where(r.c.status == crud.choice(request.status, schema.RELEASE_STATUSES, "status"))
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, r.c.id, request, "created_at desc")
    return release_service_pb2.ListReleasesResponse(
        releases=[_proto(row) for row in rows], next_page_token=token
    )


async def update(
    db: Database, caller: Caller, request: release_service_pb2.UpdateReleaseRequest
) -> release_pb2.Release:
    return await crud.update(  # type: ignore[no-any-return]
        db, RELEASE, request.release, request.update_mask.paths, request.etag, caller, read
    )


async def delete(
    db: Database, caller: Caller, request: release_service_pb2.DeleteReleaseRequest
) -> release_service_pb2.DeleteReleaseResponse:
    release_id = parse_uuid(request.id, "id")
    a, d = schema.artifacts, schema.deployments
    async with db.transaction() as conn:
        await repository.lock_for_change(conn, RELEASE, release_id, request.etag)
        artifacts = await conn.scalar(select(func.count()).select_from(a).where(a.c.release_id == release_id))
        deployments = await conn.scalar(
            select(func.count()).select_from(d).where(d.c.release_id == release_id)
        )
        if (artifacts or deployments) and not request.force:
            raise FailedPrecondition(
                error_reason_pb2.HAS_CHILDREN,
                f"release {release_id} has {artifacts} artifact(s) and {deployments} deployment(s); "
                "delete them first or pass force",
            )
        gone = await crud.deployment_history(conn, d.c.release_id == release_id)
        deleted_deployments = await repository.delete_rows(conn, DEPLOYMENT, d.c.release_id == release_id)
        deleted_artifacts = await repository.delete_rows(conn, ARTIFACT, a.c.release_id == release_id)
        await repository.delete_rows(conn, RELEASE, r.c.id == release_id)
        changes = {"deleted_artifacts": deleted_artifacts, "deleted_deployments": gone}
        await audit.record(conn, caller, "delete", "release", release_id, changes)
    return release_service_pb2.DeleteReleaseResponse(
        id=str(release_id), deleted_artifacts=deleted_artifacts, deleted_deployments=deleted_deployments
    )
