from catapult.v1 import deployment_pb2 as _deployment_pb2
from catapult.v1 import field_rules_pb2 as _field_rules_pb2
from catapult.v1 import model_pb2 as _model_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateModelRequest(_message.Message):
    __slots__ = ("model", "request_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    model: _model_pb2.Model
    request_id: str
    def __init__(self, model: _Optional[_Union[_model_pb2.Model, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetModelByNameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "order_by", "search", "company", "tag", "base_model", "parameter_count")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    order_by: str
    search: str
    company: str
    tag: _containers.RepeatedScalarFieldContainer[str]
    base_model: str
    parameter_count: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[str] = ..., search: _Optional[str] = ..., company: _Optional[str] = ..., tag: _Optional[_Iterable[str]] = ..., base_model: _Optional[str] = ..., parameter_count: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "next_page_token")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_model_pb2.Model]
    next_page_token: str
    def __init__(self, models: _Optional[_Iterable[_Union[_model_pb2.Model, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateModelRequest(_message.Message):
    __slots__ = ("model", "update_mask", "etag")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    model: _model_pb2.Model
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, model: _Optional[_Union[_model_pb2.Model, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteModelRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class GetModelRolloutRequest(_message.Message):
    __slots__ = ("id", "model_name")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    model_name: str
    def __init__(self, id: _Optional[str] = ..., model_name: _Optional[str] = ...) -> None: ...

class ModelRollout(_message.Message):
    __slots__ = ("model_id", "model_name", "company", "environments")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENTS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    model_name: str
    company: str
    environments: _containers.RepeatedCompositeFieldContainer[EnvironmentRollout]
    def __init__(self, model_id: _Optional[str] = ..., model_name: _Optional[str] = ..., company: _Optional[str] = ..., environments: _Optional[_Iterable[_Union[EnvironmentRollout, _Mapping]]] = ...) -> None: ...

class EnvironmentRollout(_message.Message):
    __slots__ = ("environment", "live")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    environment: str
    live: _containers.RepeatedCompositeFieldContainer[_deployment_pb2.Deployment]
    def __init__(self, environment: _Optional[str] = ..., live: _Optional[_Iterable[_Union[_deployment_pb2.Deployment, _Mapping]]] = ...) -> None: ...

class DeleteModelResponse(_message.Message):
    __slots__ = ("id", "deleted_releases", "deleted_artifacts", "deleted_deployments")
    ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_RELEASES_FIELD_NUMBER: _ClassVar[int]
    DELETED_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    DELETED_DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    deleted_releases: int
    deleted_artifacts: int
    deleted_deployments: int
    def __init__(self, id: _Optional[str] = ..., deleted_releases: _Optional[int] = ..., deleted_artifacts: _Optional[int] = ..., deleted_deployments: _Optional[int] = ...) -> None: ...
