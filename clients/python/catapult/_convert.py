"""Plain Python values ⇄ protobuf: dicts ⇄ Struct, datetimes ⇄ Timestamp, keyword arguments ⇄
messages and update masks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import field_mask_pb2, json_format, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

__all__ = ["as_datetime", "as_dict"]


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (so an id rather than a name)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def model_filter(model: str | None) -> dict[str, str]:
    """A filter on a model given by id or by name: ``model_id`` for a UUID, else ``model_name``."""
    if model is None:
        return {}
    return {"model_id": model} if is_uuid(model) else {"model_name": model}


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """A Struct from a JSON-like dict (numbers become floats, as in JSON)."""
    out = struct_pb2.Struct()
    out.update(dict(value))
    return out


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp from a datetime; a naive datetime is taken as local time, as Python does."""
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


def _value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return struct(value)
    if isinstance(value, datetime):
        return timestamp(value)
    return value


def message(cls: type[M], **fields: Any) -> M:
    """``cls(**fields)`` with dicts as Structs and datetimes as Timestamps; None means "not set"."""
    return cls(**{name: _value(value) for name, value in fields.items() if value is not None})


def update(cls: type[M], id: str, fields: Mapping[str, Any]) -> tuple[M, field_mask_pb2.FieldMask]:
    """The resource ``cls`` with ``id`` and every field that is not None, and the update mask naming
    exactly those fields, so an empty value ("" or [] or {}) clears a field and an omitted one
    stays as it is."""
    given = {name: value for name, value in fields.items() if value is not None}
    if not given:
        raise ValueError("nothing to update: pass at least one field")
    return message(cls, id=id, **given), field_mask_pb2.FieldMask(paths=list(given))


def as_dict(value: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct (e.g. ``model.metadata``) as a plain dict."""
    out: dict[str, Any] = json_format.MessageToDict(value)
    return out


def as_datetime(value: timestamp_pb2.Timestamp) -> datetime | None:
    """A Timestamp (e.g. ``deployment.terminated_at``) as an aware UTC datetime; None when unset."""
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime(tzinfo=UTC)
