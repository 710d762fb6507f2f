"""Models: the customer-facing unit releases are built from."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from catapult.v1 import error_reason_pb2, model_pb2, model_service_pb2
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.errors import FailedPrecondition, InvalidArgument, NotFound
from catapult_server.listing import Listing, contains_all, contains_text, equals
from catapult_server.resources import ARTIFACT, DEPLOYMENT, MODEL, RELEASE
from catapult_server.services import crud, deployments

m, r, a, d = MODEL.table, RELEASE.table, ARTIFACT.table, DEPLOYMENT.table

LISTING = Listing(
    model_service_pb2.ListModelsRequest,
    model_service_pb2.ListModelsResponse,
    MODEL,
    filters={
        "search": contains_text(m.c.name),
        "company": equals(m.c.company),
        "tag": contains_all(m.c.tags),
        "base_model": equals(m.c.base_model),
        "parameter_count": equals(m.c.parameter_count),
    },
    order_columns={"created_at": m.c.created_at, "name": m.c.name, "updated_at": m.c.updated_at},
)


async def create(
    db: Database, caller: Caller, request: model_service_pb2.CreateModelRequest
) -> model_pb2.Model:
    values = MODEL.values_for_create(request.model)
    return (await crud.create(db, MODEL, values, caller, request)).resource


async def get_by_name(db: Database, request: model_service_pb2.GetModelByNameRequest) -> model_pb2.Model:
    async with db.read() as conn:
        row = (await conn.execute(MODEL.query.where(m.c.name == request.name))).mappings().first()
    if row is None:
        raise NotFound("Model", request.name, field="name")
    return MODEL.to_proto(row)


async def rollout(
    db: Database, request: model_service_pb2.GetModelRolloutRequest
) -> model_service_pb2.ModelRollout:
    if not request.id and not request.model_name:
        raise InvalidArgument.field("id", "give the model as id or model_name")
    where = m.c.id == uuid.UUID(request.id) if request.id else m.c.name == request.model_name
    async with db.read() as conn:
        model = (await conn.execute(select(m.c.id, m.c.name, m.c.company).where(where))).first()
        if model is None:
            raise NotFound(
                "Model", request.id or request.model_name, field="id" if request.id else "model_name"
            )
        live = await deployments.rollout(conn, model.id)
    environments: dict[str, list[Any]] = {}
    for deployment in live:
        environments.setdefault(deployment.environment, []).append(deployment)
    return model_service_pb2.ModelRollout(
        model_id=str(model.id),
        model_name=model.name,
        company=model.company,
        environments=[
            model_service_pb2.EnvironmentRollout(environment=name, live=items)
            for name, items in sorted(environments.items())
        ],
    )


async def delete(
    db: Database, caller: Caller, request: model_service_pb2.DeleteModelRequest, etag: str
) -> model_service_pb2.DeleteModelResponse:
    model_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        await deployments.lock_unless_live(tx, MODEL, model_id, etag, d.c.model_id == model_id)
        releases = await tx.scalar(select(func.count()).select_from(r).where(r.c.image_id == model_id))
        if releases and not request.force:
            raise FailedPrecondition(
                error_reason_pb2.HAS_CHILDREN,
                f"model {model_id} has {releases} release(s), none of them live: delete them first, "
                "or pass force to delete them, their artifacts and their deployment history with it",
            )
        release_ids = select(r.c.id).where(r.c.image_id == model_id).scalar_subquery()
        with_model = {"with_model": str(model_id)}
        removed = await deployments.delete_history(
            tx, caller, d.c.model_id == model_id, a.c.release_id.in_(release_ids), with_model
        )
        deleted_releases = len(
            await crud.delete_audited(tx, caller, RELEASE, r.c.image_id == model_id, with_model)
        )
        changes: dict[str, Any] = {
            "deleted_releases": deleted_releases,
            "deleted_artifacts": removed.artifacts,
            "deleted_deployments": removed.deployments,
        }
        await crud.delete_audited(tx, caller, MODEL, m.c.id == model_id, changes)
    return model_service_pb2.DeleteModelResponse(
        id=str(model_id),
        deleted_releases=deleted_releases,
        deleted_artifacts=removed.artifacts,
        deleted_deployments=len(removed.deployments),
    )
