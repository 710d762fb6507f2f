"""Artifacts: the wheels and binaries baked into a release."""

from __future__ import annotations

import uuid

from catapult.v1 import artifact_pb2, artifact_service_pb2
from catapult_server import repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.listing import Listing, equals
from catapult_server.resources import ARTIFACT
from catapult_server.services import crud

a = ARTIFACT.table

LISTING = Listing(
    artifact_service_pb2.ListArtifactsRequest,
    artifact_service_pb2.ListArtifactsResponse,
    ARTIFACT,
    filters={
        "release_id": equals(a.c.release_id),
        "artifact_type": equals(a.c.type),
        "checksum": equals(a.c.checksum),
    },
    order_columns={"created_at": a.c.created_at, "name": a.c.name},
)


async def create(
    db: Database, caller: Caller, request: artifact_service_pb2.CreateArtifactRequest
) -> artifact_pb2.Artifact:
    values = ARTIFACT.values_for_create(request.artifact)
    values["uploaded_by"] = values.get("uploaded_by") or caller.key_name
    return (await crud.create(db, ARTIFACT, values, caller, request)).resource


async def delete(
    db: Database, caller: Caller, request: artifact_service_pb2.DeleteArtifactRequest, etag: str
) -> artifact_service_pb2.DeleteArtifactResponse:
    artifact_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, ARTIFACT, artifact_id, etag)
        summary = {"name": current["name"], "release_id": str(current["release_id"])}
        await crud.delete_audited(tx, caller, ARTIFACT, a.c.id == artifact_id, summary)
    return artifact_service_pb2.DeleteArtifactResponse(id=str(artifact_id))
