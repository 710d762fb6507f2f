import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SystemInfo(_message.Message):
    __slots__ = ("version", "api_version", "database", "server_time", "started_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    version: str
    api_version: str
    database: DatabaseInfo
    server_time: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[str] = ..., api_version: _Optional[str] = ..., database: _Optional[_Union[DatabaseInfo, _Mapping]] = ..., server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DatabaseInfo(_message.Message):
    __slots__ = ("reachable", "schema_revision", "server_version")
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_REVISION_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    reachable: bool
    schema_revision: str
    server_version: str
    def __init__(self, reachable: _Optional[bool] = ..., schema_revision: _Optional[str] = ..., server_version: _Optional[str] = ...) -> None: ...

class Caller(_message.Message):
    __slots__ = ("api_key_id", "api_key_name", "role")
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    api_key_id: str
    api_key_name: str
    role: str
    def __init__(self, api_key_id: _Optional[str] = ..., api_key_name: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class RegistrySummary(_message.Message):
    __slots__ = ("model_count", "release_count", "company_count", "live_deployment_count", "environments")
    MODEL_COUNT_FIELD_NUMBER: _ClassVar[int]
    RELEASE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPANY_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIVE_DEPLOYMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTS_FIELD_NUMBER: _ClassVar[int]
    model_count: int
    release_count: int
    company_count: int
    live_deployment_count: int
    environments: _containers.RepeatedCompositeFieldContainer[EnvironmentSummary]
    def __init__(self, model_count: _Optional[int] = ..., release_count: _Optional[int] = ..., company_count: _Optional[int] = ..., live_deployment_count: _Optional[int] = ..., environments: _Optional[_Iterable[_Union[EnvironmentSummary, _Mapping]]] = ...) -> None: ...

class EnvironmentSummary(_message.Message):
    __slots__ = ("environment", "live_deployment_count", "live_model_count")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LIVE_DEPLOYMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIVE_MODEL_COUNT_FIELD_NUMBER: _ClassVar[int]
    environment: str
    live_deployment_count: int
    live_model_count: int
    def __init__(self, environment: _Optional[str] = ..., live_deployment_count: _Optional[int] = ..., live_model_count: _Optional[int] = ...) -> None: ...
