from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from catapult.v1 import release_pb2 as _release_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateReleaseRequest(_message.Message):
    __slots__ = ("release", "request_id")
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    release: _release_pb2.Release
    request_id: str
    def __init__(self, release: _Optional[_Union[_release_pb2.Release, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetReleaseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetLatestReleaseRequest(_message.Message):
    __slots__ = ("image_id", "model_name", "quantization", "environment")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    model_name: str
    quantization: str
    environment: str
    def __init__(self, image_id: _Optional[str] = ..., model_name: _Optional[str] = ..., quantization: _Optional[str] = ..., environment: _Optional[str] = ...) -> None: ...

class ListReleasesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "order_by", "image_id", "model_name", "version", "quantization", "status", "digest")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    order_by: str
    image_id: str
    model_name: str
    version: str
    quantization: str
    status: str
    digest: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[str] = ..., image_id: _Optional[str] = ..., model_name: _Optional[str] = ..., version: _Optional[str] = ..., quantization: _Optional[str] = ..., status: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class ListReleasesResponse(_message.Message):
    __slots__ = ("releases", "next_page_token")
    RELEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    releases: _containers.RepeatedCompositeFieldContainer[_release_pb2.Release]
    next_page_token: str
    def __init__(self, releases: _Optional[_Iterable[_Union[_release_pb2.Release, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateReleaseRequest(_message.Message):
    __slots__ = ("release", "update_mask", "etag")
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    release: _release_pb2.Release
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, release: _Optional[_Union[_release_pb2.Release, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteReleaseRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteReleaseResponse(_message.Message):
    __slots__ = ("id", "deleted_artifacts", "deleted_deployments")
    ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    DELETED_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    deleted_artifacts: int
    deleted_deployments: int
    def __init__(self, id: _Optional[str] = ..., deleted_artifacts: _Optional[int] = ..., deleted_deployments: _Optional[int] = ...) -> None: ...
