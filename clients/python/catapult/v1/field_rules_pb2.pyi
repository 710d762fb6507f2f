from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
RULES_FIELD_NUMBER: _ClassVar[int]
rules: _descriptor.FieldDescriptor

class FieldRules(_message.Message):
    __slots__ = ("max_len", "pattern", "choices", "examples", "min", "max", "url", "uuid", "max_items", "max_json_bytes", "order_by", "same_as", "default")
    MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_JSON_BYTES_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SAME_AS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    max_len: int
    pattern: str
    choices: _containers.RepeatedScalarFieldContainer[str]
    examples: _containers.RepeatedScalarFieldContainer[str]
    min: int
    max: int
    url: bool
    uuid: bool
    max_items: int
    max_json_bytes: int
    order_by: OrderBy
    same_as: str
    default: str
    def __init__(self, max_len: _Optional[int] = ..., pattern: _Optional[str] = ..., choices: _Optional[_Iterable[str]] = ..., examples: _Optional[_Iterable[str]] = ..., min: _Optional[int] = ..., max: _Optional[int] = ..., url: _Optional[bool] = ..., uuid: _Optional[bool] = ..., max_items: _Optional[int] = ..., max_json_bytes: _Optional[int] = ..., order_by: _Optional[_Union[OrderBy, _Mapping]] = ..., same_as: _Optional[str] = ..., default: _Optional[str] = ...) -> None: ...

class OrderBy(_message.Message):
    __slots__ = ("fields", "default")
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedScalarFieldContainer[str]
    default: str
    def __init__(self, fields: _Optional[_Iterable[str]] = ..., default: _Optional[str] = ...) -> None: ...
