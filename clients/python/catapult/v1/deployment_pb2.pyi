import datetime

from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Deployment(_message.Message):
    __slots__ = ("id", "release_id", "environment", "cluster", "k8s_namespace", "endpoint_url", "replicas", "status", "deployed_by", "deployed_at", "terminated_at", "metadata", "created_at", "updated_at", "etag", "model_id", "model_name", "company", "release_version", "release_tag", "quantization", "release_digest", "release_status", "live_since", "replaces_id", "superseded_by_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    RELEASE_ID_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    K8S_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_URL_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_BY_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_AT_FIELD_NUMBER: _ClassVar[int]
    TERMINATED_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    RELEASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    RELEASE_TAG_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    RELEASE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    RELEASE_STATUS_FIELD_NUMBER: _ClassVar[int]
    LIVE_SINCE_FIELD_NUMBER: _ClassVar[int]
    REPLACES_ID_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_BY_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    release_id: str
    environment: str
    cluster: str
    k8s_namespace: str
    endpoint_url: str
    replicas: int
    status: str
    deployed_by: str
    deployed_at: _timestamp_pb2.Timestamp
    terminated_at: _timestamp_pb2.Timestamp
    metadata: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    model_id: str
    model_name: str
    company: str
    release_version: str
    release_tag: str
    quantization: str
    release_digest: str
    release_status: str
    live_since: _timestamp_pb2.Timestamp
    replaces_id: str
    superseded_by_id: str
    def __init__(self, id: _Optional[str] = ..., release_id: _Optional[str] = ..., environment: _Optional[str] = ..., cluster: _Optional[str] = ..., k8s_namespace: _Optional[str] = ..., endpoint_url: _Optional[str] = ..., replicas: _Optional[int] = ..., status: _Optional[str] = ..., deployed_by: _Optional[str] = ..., deployed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., terminated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., model_id: _Optional[str] = ..., model_name: _Optional[str] = ..., company: _Optional[str] = ..., release_version: _Optional[str] = ..., release_tag: _Optional[str] = ..., quantization: _Optional[str] = ..., release_digest: _Optional[str] = ..., release_status: _Optional[str] = ..., live_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replaces_id: _Optional[str] = ..., superseded_by_id: _Optional[str] = ...) -> None: ...
