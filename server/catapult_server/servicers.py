"""gRPC servicers: each method takes the caller from the interceptor (which has authenticated
it and validated the request) and calls one service function. No SQL, no rules and no error
mapping here. The standard Get, List and Update of a resource are the shared ones in
services/crud.py and listing.py; the rest are the resource's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from catapult.v1 import (
    api_key_service_pb2,
    api_key_service_pb2_grpc,
    artifact_service_pb2_grpc,
    audit_log_service_pb2_grpc,
    change_service_pb2_grpc,
    deployment_service_pb2_grpc,
    model_service_pb2_grpc,
    release_service_pb2_grpc,
    system_service_pb2_grpc,
)
from catapult_server.changes import ChangeFeed
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.errors import InvalidArgument
from catapult_server.interceptors import current_caller, key_recheck
from catapult_server.pagination import PageTokens
from catapult_server.resources import ARTIFACT, DEPLOYMENT, MODEL, RELEASE
from catapult_server.services import (
    api_keys,
    artifacts,
    audit_logs,
    crud,
    deployments,
    models,
    releases,
    system,
    watch,
)

# The request and context parameters are typed Any: the generated *_pb2_grpc bases are untyped.


def etag_of(context: Any, *given: str) -> str:
    """The etag a change is conditional on (AIP-154), wherever the client put it: the request's
    `etag` field (REST: ?etag=), the resource's own `etag` in the body of an update, or an HTTP
    If-Match header (`"3"`, W/"3"). Several that differ are a contradiction, not a choice."""
    metadata = dict(context.invocation_metadata() or ())
    if_match = str(metadata.get("if-match", "")).strip().removeprefix("W/").strip('"')
    found = {value for value in (*given, if_match) if value}
    if len(found) > 1:
        raise InvalidArgument.field("etag", f"the etags given differ ({', '.join(sorted(found))}): give one")
    return found.pop() if found else ""


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, db: Database, pages: PageTokens) -> None:
        self.db = db
        self.pages = pages

    async def CreateModel(self, request: Any, context: Any) -> Any:
        return await models.create(self.db, current_caller(), request)

    async def GetModel(self, request: Any, context: Any) -> Any:
        return await crud.get(self.db, MODEL, request.id)

    async def GetModelByName(self, request: Any, context: Any) -> Any:
        return await models.get_by_name(self.db, request)

    async def ListModels(self, request: Any, context: Any) -> Any:
        return await models.LISTING.page(self.db, self.pages, request)

    async def UpdateModel(self, request: Any, context: Any) -> Any:
        mask = list(request.update_mask.paths)
        etag = etag_of(context, request.etag, request.model.etag)
        return await crud.update(self.db, MODEL, request.model, mask, etag, current_caller())

    async def DeleteModel(self, request: Any, context: Any) -> Any:
        return await models.delete(self.db, current_caller(), request, etag_of(context, request.etag))

    async def GetModelRollout(self, request: Any, context: Any) -> Any:
        return await models.rollout(self.db, request)


class ReleaseServicer(release_service_pb2_grpc.ReleaseServiceServicer):
    def __init__(self, db: Database, pages: PageTokens) -> None:
        self.db = db
        self.pages = pages

    async def CreateRelease(self, request: Any, context: Any) -> Any:
        return await releases.create(self.db, current_caller(), request)

    async def GetRelease(self, request: Any, context: Any) -> Any:
        return await crud.get(self.db, RELEASE, request.id)

    async def GetLatestRelease(self, request: Any, context: Any) -> Any:
        return await releases.get_latest(self.db, request)

    async def ListReleases(self, request: Any, context: Any) -> Any:
        return await releases.LISTING.page(self.db, self.pages, request)

    async def UpdateRelease(self, request: Any, context: Any) -> Any:
        mask = list(request.update_mask.paths)
        etag = etag_of(context, request.etag, request.release.etag)
        return await crud.update(self.db, RELEASE, request.release, mask, etag, current_caller())

    async def DeleteRelease(self, request: Any, context: Any) -> Any:
        return await releases.delete(self.db, current_caller(), request, etag_of(context, request.etag))


class ArtifactServicer(artifact_service_pb2_grpc.ArtifactServiceServicer):
    def __init__(self, db: Database, pages: PageTokens) -> None:
        self.db = db
        self.pages = pages

    async def CreateArtifact(self, request: Any, context: Any) -> Any:
        return await artifacts.create(self.db, current_caller(), request)

    async def GetArtifact(self, request: Any, context: Any) -> Any:
        return await crud.get(self.db, ARTIFACT, request.id)

    async def ListArtifacts(self, request: Any, context: Any) -> Any:
        return await artifacts.LISTING.page(self.db, self.pages, request)

    async def UpdateArtifact(self, request: Any, context: Any) -> Any:
        mask = list(request.update_mask.paths)
        etag = etag_of(context, request.etag, request.artifact.etag)
        return await crud.update(self.db, ARTIFACT, request.artifact, mask, etag, current_caller())

    async def DeleteArtifact(self, request: Any, context: Any) -> Any:
        return await artifacts.delete(self.db, current_caller(), request, etag_of(context, request.etag))


class DeploymentServicer(deployment_service_pb2_grpc.DeploymentServiceServicer):
    def __init__(self, db: Database, pages: PageTokens, feed: ChangeFeed) -> None:
        self.db = db
        self.pages = pages
        self.feed = feed

    async def CreateDeployment(self, request: Any, context: Any) -> Any:
        return await deployments.create(self.db, current_caller(), request)

    async def GetDeployment(self, request: Any, context: Any) -> Any:
        return await crud.get(self.db, DEPLOYMENT, request.id)

    async def ListDeployments(self, request: Any, context: Any) -> Any:
        return await deployments.LISTING.page(self.db, self.pages, request)

    async def WatchDeployments(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for batch in watch.DEPLOYMENTS.stream(self.feed, request, current_caller(), key_recheck()):
            yield batch

    async def UpdateDeployment(self, request: Any, context: Any) -> Any:
        etag = etag_of(context, request.etag, request.deployment.etag)
        return await deployments.update(self.db, current_caller(), request, etag)

    async def DeleteDeployment(self, request: Any, context: Any) -> Any:
        return await deployments.terminate(self.db, current_caller(), request, etag_of(context, request.etag))


class ApiKeyServicer(api_key_service_pb2_grpc.ApiKeyServiceServicer):
    def __init__(self, db: Database, pages: PageTokens, pepper: str) -> None:
        self.db = db
        self.pages = pages
        self.pepper = pepper

    async def CreateApiKey(self, request: Any, context: Any) -> Any:
        created = await api_keys.create(self.db, self.pepper, current_caller(), request)
        return api_key_service_pb2.CreateApiKeyResponse(api_key=created.api_key, secret=created.secret)

    async def ListApiKeys(self, request: Any, context: Any) -> Any:
        return await api_keys.LISTING.page(self.db, self.pages, request)

    async def RevokeApiKey(self, request: Any, context: Any) -> Any:
        return await api_keys.revoke(self.db, current_caller(), request)


class AuditLogServicer(audit_log_service_pb2_grpc.AuditLogServiceServicer):
    def __init__(self, db: Database, pages: PageTokens) -> None:
        self.db = db
        self.pages = pages

    async def ListAuditLogs(self, request: Any, context: Any) -> Any:
        return await audit_logs.LISTING.page(self.db, self.pages, request)


class ChangeServicer(change_service_pb2_grpc.ChangeServiceServicer):
    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed

    async def WatchChanges(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for batch in watch.CHANGES.stream(self.feed, request, current_caller(), key_recheck()):
            yield batch


class SystemServicer(system_service_pb2_grpc.SystemServiceServicer):
    def __init__(self, db: Database, started_at: datetime) -> None:
        self.db = db
        self.started_at = started_at

    async def GetInfo(self, request: Any, context: Any) -> Any:
        return await system.get_info(self.db, self.started_at)

    async def GetCaller(self, request: Any, context: Any) -> Any:
        return system.caller(current_caller())

    async def GetRegistrySummary(self, request: Any, context: Any) -> Any:
        return await system.registry_summary(self.db)

    async def Health(self, request: Any, context: Any) -> Any:
        return await system.health(self.db)


def register(server: Any, db: Database, feed: ChangeFeed, settings: Settings, started_at: datetime) -> None:
    """Add every catapult.v1 servicer to a grpc.aio server."""
    pages = PageTokens(settings.page_token_secret)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(db, pages), server)
    release_service_pb2_grpc.add_ReleaseServiceServicer_to_server(ReleaseServicer(db, pages), server)
    artifact_service_pb2_grpc.add_ArtifactServiceServicer_to_server(ArtifactServicer(db, pages), server)
    deployment_service_pb2_grpc.add_DeploymentServiceServicer_to_server(
        DeploymentServicer(db, pages, feed), server
    )
    change_service_pb2_grpc.add_ChangeServiceServicer_to_server(ChangeServicer(feed), server)
    api_keys = ApiKeyServicer(db, pages, settings.key_pepper)
    api_key_service_pb2_grpc.add_ApiKeyServiceServicer_to_server(api_keys, server)
    audit_log_service_pb2_grpc.add_AuditLogServiceServicer_to_server(AuditLogServicer(db, pages), server)
    system_service_pb2_grpc.add_SystemServiceServicer_to_server(SystemServicer(db, started_at), server)
