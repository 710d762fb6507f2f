import datetime

from catapult.v1 import change_pb2 as _change_pb2
from catapult.v1 import deployment_pb2 as _deployment_pb2
from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateDeploymentRequest(_message.Message):
    __slots__ = ("deployment", "request_id", "force")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    request_id: str
    force: bool
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., request_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class WatchDeploymentsRequest(_message.Message):
    __slots__ = ("cursor", "environment", "status", "cluster", "k8s_namespace", "company", "model_id", "model_name", "release_id", "endpoint_url", "active_only", "digest", "release_status")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    K8S_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_URL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    RELEASE_STATUS_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    environment: str
    status: str
    cluster: str
    k8s_namespace: str
    company: str
    model_id: str
    model_name: str
    release_id: str
    endpoint_url: str
    active_only: bool
    digest: str
    release_status: str
    def __init__(self, cursor: _Optional[str] = ..., environment: _Optional[str] = ..., status: _Optional[str] = ..., cluster: _Optional[str] = ..., k8s_namespace: _Optional[str] = ..., company: _Optional[str] = ..., model_id: _Optional[str] = ..., model_name: _Optional[str] = ..., release_id: _Optional[str] = ..., endpoint_url: _Optional[str] = ..., active_only: _Optional[bool] = ..., digest: _Optional[str] = ..., release_status: _Optional[str] = ...) -> None: ...

class GetDeploymentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListDeploymentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "order_by", "environment", "status", "cluster", "k8s_namespace", "company", "model_id", "release_id", "endpoint_url", "active_only", "deployed_after", "deployed_before", "model_name", "live_at", "digest", "artifact_checksum", "release_status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    K8S_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_URL_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_AFTER_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    LIVE_AT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    RELEASE_STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    order_by: str
    environment: str
    status: str
    cluster: str
    k8s_namespace: str
    company: str
    model_id: str
    release_id: str
    endpoint_url: str
    active_only: bool
    deployed_after: _timestamp_pb2.Timestamp
    deployed_before: _timestamp_pb2.Timestamp
    model_name: str
    live_at: _timestamp_pb2.Timestamp
    digest: str
    artifact_checksum: str
    release_status: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[str] = ..., environment: _Optional[str] = ..., status: _Optional[str] = ..., cluster: _Optional[str] = ..., k8s_namespace: _Optional[str] = ..., company: _Optional[str] = ..., model_id: _Optional[str] = ..., release_id: _Optional[str] = ..., endpoint_url: _Optional[str] = ..., active_only: _Optional[bool] = ..., deployed_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deployed_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model_name: _Optional[str] = ..., live_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., digest: _Optional[str] = ..., artifact_checksum: _Optional[str] = ..., release_status: _Optional[str] = ...) -> None: ...

class ListDeploymentsResponse(_message.Message):
    __slots__ = ("deployments", "next_page_token")
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    next_page_token: str
    def __init__(self, deployments: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDeploymentRequest(_message.Message):
    __slots__ = ("deployment", "update_mask", "etag")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    deployment: _deployment_pb2.Deployment
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteDeploymentRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...
