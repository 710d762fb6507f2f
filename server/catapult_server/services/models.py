"""Models: the customer-facing unit releases are built from."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import error_reason_pb2, model_pb2, model_service_pb2
from catapult_server import audit, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import FailedPrecondition, InvalidArgument, NotFound
from catapult_server.resources import (
    ARTIFACT,
    DEPLOYMENT,
    MODEL,
    RELEASE,
    parse_uuid,
    to_proto,
)
from catapult_server.services import crud

m = schema.models
ORDER_COLUMNS = {"created_at": m.c.created_at, "name": m.c.name, "updated_at": m.c.updated_at}


async def read(conn: AsyncConnection, model_id: uuid.UUID) -> model_pb2.Model:
    row = await repository.fetch_one(conn, select(m).where(m.c.id == model_id), MODEL, model_id)
    return to_proto(MODEL, row)  # type: ignore[no-any-return]


async def create(
    db: Database, caller: Caller, request: model_service_pb2.CreateModelRequest
) -> model_pb2.Model:
    return await crud.create(db, MODEL, request.model, caller, request.request_id, read)  # type: ignore[no-any-return]


async def get(db: Database, request: model_service_pb2.GetModelRequest) -> model_pb2.Model:
    return await crud.get(db, read, MODEL, request.id)  # type: ignore[no-any-return]


async def get_by_name(db: Database, request: model_service_pb2.GetModelByNameRequest) -> model_pb2.Model:
    if not request.name:
        raise InvalidArgument.field("name", "is required")
    async with db.read() as conn:
        row = (await conn.execute(select(m).where(m.c.name == request.name))).mappings().first()
    if row is None:
        raise NotFound("Model", request.name, field="name")
    return to_proto(MODEL, row)  # type: ignore[no-any-return]


def _like(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_models(
    db: Database, request: model_service_pb2.ListModelsRequest
) -> model_service_pb2.ListModelsResponse:
    query = select(m)
    if request.search:
        query = query.where(m.c.name.ilike(_like(request.search)))
    for column in ("company", "base_model", "parameter_count"):
        if value := getattr(request, column):
            query = query.where(m.c[column] == value)
    if request.tag:
        # jsonb containment, served by the GIN index on tags: every tag must be present.
        query = query.where(m.c.tags.contains(list(request.tag)))
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, m.c.id, request, "created_at desc")
    return model_service_pb2.ListModelsResponse(
        models=[to_proto(MODEL, row) for row in rows], next_page_token=token
    )


async def update(
    db: Database, caller: Caller, request: model_service_pb2.UpdateModelRequest
) -> model_pb2.Model:
    return await crud.update(  # type: ignore[no-any-return]
        db, MODEL, request.model, request.update_mask.paths, request.etag, caller, read
    )


async def delete(
    db: Database, caller: Caller, request: model_service_pb2.DeleteModelRequest
) -> model_service_pb2.DeleteModelResponse:
    model_id = parse_uuid(request.id, "id")
    r, a, d = schema.releases, schema.artifacts, schema.deployments
    async with db.transaction() as conn:
        await repository.lock_for_change(conn, MODEL, model_id, request.etag)
        releases = await conn.scalar(select(func.count()).select_from(r).where(r.c.image_id == model_id))
        if releases and not request.force:
            raise FailedPrecondition(
                error_reason_pb2.HAS_CHILDREN,
                f"model {model_id} has {releases} release(s); delete them first or pass force",
            )
        release_ids = select(r.c.id).where(r.c.image_id == model_id).scalar_subquery()
        gone = await crud.deployment_history(conn, d.c.model_id == model_id)
        deleted_deployments = await repository.delete_rows(conn, DEPLOYMENT, d.c.model_id == model_id)
        deleted_artifacts = await repository.delete_rows(conn, ARTIFACT, a.c.release_id.in_(release_ids))
        deleted_releases = await repository.delete_rows(conn, RELEASE, r.c.image_id == model_id)
        await repository.delete_rows(conn, MODEL, m.c.id == model_id)
        changes: dict[str, Any] = {
            "deleted_releases": deleted_releases,
            "deleted_artifacts": deleted_artifacts,
            "deleted_deployments": gone,
        }
        await audit.record(conn, caller, "delete", "model", model_id, changes)
    return model_service_pb2.DeleteModelResponse(
        id=str(model_id),
        deleted_releases=deleted_releases,
        deleted_artifacts=deleted_artifacts,
        deleted_deployments=deleted_deployments,
    )
