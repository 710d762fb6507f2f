"""The catapult.v1 RPCs the clients call, each with its typed request and response.

Paths, whether an RPC has side effects and whether it streams its responses (a watch) are read
from the generated descriptors, not restated; the request and response classes are named here only
so the type checker knows them, and are checked against the descriptor when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Generic, TypeVar

from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    artifact_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    change_pb2,
    change_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
    system_pb2,
    system_service_pb2,
)

REQUEST_ID = "request_id"

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)

SERVICE_MODULES: tuple[ModuleType, ...] = (
    model_service_pb2,
    release_service_pb2,
    artifact_service_pb2,
    deployment_service_pb2,
    change_service_pb2,
    api_key_service_pb2,
    audit_log_service_pb2,
    system_service_pb2,
)


@dataclass(frozen=True)
class Rpc(Generic[Req, Resp]):
    """One RPC: its path (``/catapult.v1.ModelService/CreateModel``) and message types; a
    ``server_streaming`` one (a watch) answers with a stream of ``response`` messages."""

    path: str
    request: type[Req]
    response: type[Resp]
    no_side_effects: bool
    server_streaming: bool
    takes_request_id: bool = False
    """A create: its request's ``request_id`` is also sent as ``idempotency-key`` metadata, which lets
    a proxy in front of several servers (the Envoy of a scaled-out deployment) retry it safely."""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _rpc(
    module: ModuleType, service: str, method: str, request: type[Req], response: type[Resp]
) -> Rpc[Req, Resp]:
    descriptor = module.DESCRIPTOR.services_by_name[service]
    m = descriptor.methods_by_name[method]
    if m.input_type is not request.DESCRIPTOR or m.output_type is not response.DESCRIPTOR:
        raise TypeError(f"{service}.{method} is {m.input_type.full_name} -> {m.output_type.full_name}")
    if m.client_streaming:
        raise TypeError(f"{service}.{method} streams requests, which no client method does")
    no_side_effects = m.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
    takes_request_id = REQUEST_ID in m.input_type.fields_by_name
    return Rpc(
        f"/{descriptor.full_name}/{method}",
        request,
        response,
        no_side_effects,
        m.server_streaming,
        takes_request_id,
    )


_ms, _rs, _as, _ds = model_service_pb2, release_service_pb2, artifact_service_pb2, deployment_service_pb2
_ks, _ls, _ss = api_key_service_pb2, audit_log_service_pb2, system_service_pb2
_cs = change_service_pb2

CREATE_MODEL = _rpc(_ms, "ModelService", "CreateModel", _ms.CreateModelRequest, model_pb2.Model)
GET_MODEL = _rpc(_ms, "ModelService", "GetModel", _ms.GetModelRequest, model_pb2.Model)
GET_MODEL_BY_NAME = _rpc(_ms, "ModelService", "GetModelByName", _ms.GetModelByNameRequest, model_pb2.Model)
LIST_MODELS = _rpc(_ms, "ModelService", "ListModels", _ms.ListModelsRequest, _ms.ListModelsResponse)
UPDATE_MODEL = _rpc(_ms, "ModelService", "UpdateModel", _ms.UpdateModelRequest, model_pb2.Model)
DELETE_MODEL = _rpc(_ms, "ModelService", "DeleteModel", _ms.DeleteModelRequest, _ms.DeleteModelResponse)
GET_MODEL_ROLLOUT = _rpc(_ms, "ModelService", "GetModelRollout", _ms.GetModelRolloutRequest, _ms.ModelRollout)

CREATE_RELEASE = _rpc(_rs, "ReleaseService", "CreateRelease", _rs.CreateReleaseRequest, release_pb2.Release)
GET_RELEASE = _rpc(_rs, "ReleaseService", "GetRelease", _rs.GetReleaseRequest, release_pb2.Release)
GET_LATEST_RELEASE = _rpc(
    _rs, "ReleaseService", "GetLatestRelease", _rs.GetLatestReleaseRequest, release_pb2.Release
)
LIST_RELEASES = _rpc(_rs, "ReleaseService", "ListReleases", _rs.ListReleasesRequest, _rs.ListReleasesResponse)
UPDATE_RELEASE = _rpc(_rs, "ReleaseService", "UpdateRelease", _rs.UpdateReleaseRequest, release_pb2.Release)
DELETE_RELEASE = _rpc(
    _rs, "ReleaseService", "DeleteRelease", _rs.DeleteReleaseRequest, _rs.DeleteReleaseResponse
)

CREATE_ARTIFACT = _rpc(
    _as, "ArtifactService", "CreateArtifact", _as.CreateArtifactRequest, artifact_pb2.Artifact
)
GET_ARTIFACT = _rpc(_as, "ArtifactService", "GetArtifact", _as.GetArtifactRequest, artifact_pb2.Artifact)
LIST_ARTIFACTS = _rpc(
    _as, "ArtifactService", "ListArtifacts", _as.ListArtifactsRequest, _as.ListArtifactsResponse
)
UPDATE_ARTIFACT = _rpc(
    _as, "ArtifactService", "UpdateArtifact", _as.UpdateArtifactRequest, artifact_pb2.Artifact
)
DELETE_ARTIFACT = _rpc(
    _as, "ArtifactService", "DeleteArtifact", _as.DeleteArtifactRequest, _as.DeleteArtifactResponse
)

CREATE_DEPLOYMENT = _rpc(
    _ds, "DeploymentService", "CreateDeployment", _ds.CreateDeploymentRequest, deployment_pb2.Deployment
)
GET_DEPLOYMENT = _rpc(
    _ds, "DeploymentService", "GetDeployment", _ds.GetDeploymentRequest, deployment_pb2.Deployment
)
LIST_DEPLOYMENTS = _rpc(
    _ds, "DeploymentService", "ListDeployments", _ds.ListDeploymentsRequest, _ds.ListDeploymentsResponse
)
UPDATE_DEPLOYMENT = _rpc(
    _ds, "DeploymentService", "UpdateDeployment", _ds.UpdateDeploymentRequest, deployment_pb2.Deployment
)
DELETE_DEPLOYMENT = _rpc(
    _ds, "DeploymentService", "DeleteDeployment", _ds.DeleteDeploymentRequest, deployment_pb2.Deployment
)
WATCH_DEPLOYMENTS = _rpc(
    _ds, "DeploymentService", "WatchDeployments", _ds.WatchDeploymentsRequest, change_pb2.ChangeBatch
)

WATCH_CHANGES = _rpc(_cs, "ChangeService", "WatchChanges", _cs.WatchChangesRequest, change_pb2.ChangeBatch)

CREATE_API_KEY = _rpc(_ks, "ApiKeyService", "CreateApiKey", _ks.CreateApiKeyRequest, _ks.CreateApiKeyResponse)
LIST_API_KEYS = _rpc(_ks, "ApiKeyService", "ListApiKeys", _ks.ListApiKeysRequest, _ks.ListApiKeysResponse)
REVOKE_API_KEY = _rpc(_ks, "ApiKeyService", "RevokeApiKey", _ks.RevokeApiKeyRequest, api_key_pb2.ApiKey)

LIST_AUDIT_LOGS = _rpc(
    _ls, "AuditLogService", "ListAuditLogs", _ls.ListAuditLogsRequest, _ls.ListAuditLogsResponse
)

GET_INFO = _rpc(_ss, "SystemService", "GetInfo", _ss.GetInfoRequest, system_pb2.SystemInfo)
GET_CALLER = _rpc(_ss, "SystemService", "GetCaller", _ss.GetCallerRequest, system_pb2.Caller)
GET_REGISTRY_SUMMARY = _rpc(
    _ss, "SystemService", "GetRegistrySummary", _ss.GetRegistrySummaryRequest, system_pb2.RegistrySummary
)
HEALTH = _rpc(_ss, "SystemService", "Health", _ss.HealthRequest, _ss.HealthResponse)

ALL: tuple[Rpc[Message, Message], ...] = tuple(
    value for value in globals().values() if isinstance(value, Rpc)
)
