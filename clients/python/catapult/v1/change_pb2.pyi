import datetime

from catapult.v1 import api_key_pb2 as _api_key_pb2
from catapult.v1 import artifact_pb2 as _artifact_pb2
from catapult.v1 import deployment_pb2 as _deployment_pb2
from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from catapult.v1 import model_pb2 as _model_pb2
from catapult.v1 import release_pb2 as _release_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeBatch(_message.Message):
    __slots__ = ("events", "cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ChangeEvent]
    cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[ChangeEvent, _Mapping]]] = ..., cursor: _Optional[str] = ...) -> None: ...

class ChangeEvent(_message.Message):
    __slots__ = ("cursor", "type", "resource_type", "resource_id", "time", "api_key_name", "model", "release", "artifact", "deployment", "api_key")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    API_KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    type: str
    resource_type: str
    resource_id: str
    time: _timestamp_pb2.Timestamp
    api_key_name: str
    model: _model_pb2.Model
    release: _release_pb2.Release
    artifact: _artifact_pb2.Artifact
    deployment: _deployment_pb2.Deployment
    api_key: _api_key_pb2.ApiKey
    def __init__(self, cursor: _Optional[str] = ..., type: _Optional[str] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., api_key_name: _Optional[str] = ..., model: _Optional[_Union[_model_pb2.Model, _Mapping]] = ..., release: _Optional[_Union[_release_pb2.Release, _Mapping]] = ..., artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ..., deployment: _Optional[_Union[_deployment_pb2.Deployment, _Mapping]] = ..., api_key: _Optional[_Union[_api_key_pb2.ApiKey, _Mapping]] = ...) -> None: ...
