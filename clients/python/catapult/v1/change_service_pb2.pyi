from catapult.v1 import change_pb2 as _change_pb2
from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class WatchChangesRequest(_message.Message):
    __slots__ = ("cursor", "resource_type", "resource_id")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    resource_type: str
    resource_id: str
    def __init__(self, cursor: _Optional[str] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ...) -> None: ...
