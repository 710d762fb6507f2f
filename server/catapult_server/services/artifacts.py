"""Artifacts: the wheels and binaries baked into a release."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import artifact_pb2, artifact_service_pb2
from catapult_server import audit, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.resources import ARTIFACT, parse_uuid, to_proto
from catapult_server.services import crud

a = schema.artifacts
ORDER_COLUMNS = {"created_at": a.c.created_at, "name": a.c.name}


async def read(conn: AsyncConnection, artifact_id: uuid.UUID) -> artifact_pb2.Artifact:
    row = await repository.fetch_one(conn, select(a).where(a.c.id == artifact_id), ARTIFACT, artifact_id)
    return to_proto(ARTIFACT, row)  # type: ignore[no-any-return]


async def create(
    db: Database, caller: Caller, request: artifact_service_pb2.CreateArtifactRequest
) -> artifact_pb2.Artifact:
    async def default_uploader(conn: AsyncConnection, values: dict[str, Any]) -> None:
        values["uploaded_by"] = values.get("uploaded_by") or caller.key_name

    return await crud.create(  # type: ignore[no-any-return]
        db, ARTIFACT, request.artifact, caller, request.request_id, read, default_uploader
    )


async def get(db: Database, request: artifact_service_pb2.GetArtifactRequest) -> artifact_pb2.Artifact:
    return await crud.get(db, read, ARTIFACT, request.id)  # type: ignore[no-any-return]


async def list_artifacts(
    db: Database, request: artifact_service_pb2.ListArtifactsRequest
) -> artifact_service_pb2.ListArtifactsResponse:
    query = select(a)
    if request.release_id:
        query = query.where(a.c.release_id == parse_uuid(request.release_id, "release_id"))
    if request.artifact_type:
        query = query.where(
            a.c.type == crud.choice(request.artifact_type, schema.ARTIFACT_TYPES, "artifact_type")
        )
    if request.checksum:
        query = query.where(a.c.checksum == request.checksum)
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, a.c.id, request, "created_at desc")
    return artifact_service_pb2.ListArtifactsResponse(
        artifacts=[to_proto(ARTIFACT, row) for row in rows], next_page_token=token
    )


async def update(
    db: Database, caller: Caller, request: artifact_service_pb2.UpdateArtifactRequest
) -> artifact_pb2.Artifact:
    return await crud.update(  # type: ignore[no-any-return]
        db, ARTIFACT, request.artifact, request.update_mask.paths, request.etag, caller, read
    )


async def delete(
    db: Database, caller: Caller, request: artifact_service_pb2.DeleteArtifactRequest
) -> artifact_service_pb2.DeleteArtifactResponse:
    artifact_id = parse_uuid(request.id, "id")
    async with db.transaction() as conn:
        current = await repository.lock_for_change(conn, ARTIFACT, artifact_id, request.etag)
        await repository.delete_rows(conn, ARTIFACT, a.c.id == artifact_id)
        summary = {"name": current["name"], "release_id": str(current["release_id"])}
        await audit.record(conn, caller, "delete", "artifact", artifact_id, summary)
    return artifact_service_pb2.DeleteArtifactResponse(id=str(artifact_id))
