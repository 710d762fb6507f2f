"""The registry's resources: each proto message, the table it is stored in and how a row is
read. Which fields a client may write, which are immutable and which columns they map to come
from the message's descriptor (field_behavior), so adding a field to a resource is a proto
field plus a column. Validation happens before this (validation.py); here values are only
converted, proto ⇄ row."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.types import DateTime

from catapult.v1 import api_key_pb2, artifact_pb2, audit_log_pb2, deployment_pb2, model_pb2, release_pb2
from catapult_server import versions
from catapult_server.db import schema
from catapult_server.rules import fields, rules_of

M = TypeVar("M", bound=Message)
Row = Mapping[Any, Any]

# Strings longer than this are prose (a description, release notes): an audit row's summary of
# a create leaves them out, as it leaves out metadata.
_SUMMARY_MAX_LEN = 1000


@dataclass(frozen=True)
class Writable:
    """A field a client may set: its proto name, its column, how its value is stored."""

    name: str
    column: str
    descriptor: FieldDescriptor
    immutable: bool
    # How the value is read from a message; worked out once, a create reads every field.
    kind: str = field(init=False)
    has_choices: bool = field(init=False)
    # The value stored when a create does not give one (the proto's rule), or "".
    default: str = field(init=False)

    def __post_init__(self) -> None:
        message_type = _message_name(self.descriptor)
        if message_type == "google.protobuf.Timestamp":
            kind = "timestamp"
        elif message_type == "google.protobuf.Struct":
            kind = "struct"
        elif self.descriptor.is_repeated:
            kind = "repeated"
        elif rules_of(self.descriptor).uuid:
            kind = "uuid"
        else:
            kind = "scalar"
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "has_choices", bool(rules_of(self.descriptor).choices))
        object.__setattr__(self, "default", rules_of(self.descriptor).default)

    def read(self, message: Message) -> Any:
        """The field's value in `message`, as the database stores it (None: a timestamp not set)."""
        raw = getattr(message, self.name)
        kind = self.kind
        if kind == "scalar":
            return raw
        if kind == "timestamp":
            return raw.ToDatetime(tzinfo=UTC) if message.HasField(self.name) else None
        if kind == "struct":
            return struct_to_dict(raw) if message.HasField(self.name) else {}
        if kind == "repeated":
            return list(dict.fromkeys(raw))  # keep order, drop repeats
        return uuid.UUID(raw) if raw else None

    def is_set(self, message: Message) -> bool:
        if self.kind in ("timestamp", "struct"):
            return message.HasField(self.name)
        return bool(getattr(message, self.name))

    def has_column_default(self, value: Any) -> bool:
        """An unset value the column's default fills on insert: a timestamp (now, or NULL)."""
        return value is None

    @property
    def in_summary(self) -> bool:
        limit = rules_of(self.descriptor).max_len
        return self.kind != "struct" and (limit is None or limit <= _SUMMARY_MAX_LEN)


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as a dict, as json_format.MessageToDict makes it, several times faster."""
    return {key: _value(value) for key, value in struct.fields.items()}


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


@dataclass(frozen=True)
class Resource(Generic[M]):
    """A resource of the registry. `name` is the field of the Create request that carries it
    and the audit log's resource_type; `query` reads one with its joined output-only fields."""

    name: str
    message: type[M]
    table: Table
    query: Select[Any]
    # proto field → column, where they differ.
    renamed: Mapping[str, str] = field(default_factory=dict)
    # Columns the server derives from another one: column → (source column, function).
    derived: Mapping[str, tuple[str, Callable[[Any], Any]]] = field(default_factory=dict)
    writable: tuple[Writable, ...] = field(init=False)
    # The query's columns from other tables (e.g. a deployment's model_name), by key.
    joined: Mapping[str, ColumnElement[Any]] = field(init=False)
    _reader: Callable[[Row], M] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        writable = tuple(
            Writable(f.name, self.renamed.get(f.name, f.name), f, rules_of(f).immutable)
            for f in fields(self.message)
            if not rules_of(f).output_only
        )
        object.__setattr__(self, "writable", writable)
        own = set(self.table.c.keys())
        joined = {c.key: c for c in self.query.selected_columns if c.key not in own}
        object.__setattr__(self, "joined", joined)
        object.__setattr__(self, "_reader", _row_reader(self.message, self.query, self.renamed))

    @property
    def title(self) -> str:
        """The resource's type name, e.g. "ApiKey" (in messages and ResourceInfo)."""
        return self.message.DESCRIPTOR.name

    def field(self, name: str) -> Writable | None:
        return next((f for f in self.writable if f.name == name), None)

    def to_proto(self, row: Row) -> M:
        return self._reader(row)

    def values_for_create(self, message: Message) -> dict[str, Any]:
        """Column values for an insert; unset values are left to the columns' defaults."""
        values = {}
        for f in self.writable:
            value = f.read(message)
            if value == "" and f.default:
                value = f.default  # written out, so the audit row and the rules see it
            if not f.has_column_default(value):
                values[f.column] = value
        return values | self.derived_values(values)

    def derived_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The derived columns whose source column is in `values`."""
        return {
            column: derive(values[source])
            for column, (source, derive) in self.derived.items()
            if source in values
        }

    def values_for_update(self, message: Message, mask_paths: Sequence[str]) -> dict[str, Any]:
        """Column values an update writes (AIP-134): the fields in the mask, or without a mask
        every field set in the message. The validator has rejected unknown and output-only
        paths already."""
        return {f.column: f.read(message) for f in self.updated_fields(message, mask_paths)}

    def updated_fields(self, message: Message, mask_paths: Sequence[str]) -> list[Writable]:
        if list(mask_paths) == ["*"]:
            return [f for f in self.writable if not f.immutable]
        if mask_paths:
            return [f for f in self.writable if f.name in mask_paths]
        # Immutable fields may come back unchanged from a read-modify-write client; the
        # repository compares them with the stored values (repository.diff).
        return [f for f in self.writable if f.is_set(message)]

    def summary(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """What a create set, for the audit log: the values given, without metadata and prose.
        Columns that are no field of the message (a key's hash) never appear."""
        shown = {f.column for f in self.writable if f.in_summary} | _output_columns(self)
        return {
            column: jsonable(value)
            for column, value in values.items()
            if column in shown and value not in ("", None, [], {})
        }


def _output_columns(resource: Resource[Any]) -> set[str]:
    """Output-only fields stored in the resource's own table (a key's public prefix)."""
    writable = {f.name for f in resource.writable}
    return {
        f.name
        for f in resource.message.DESCRIPTOR.fields
        if f.name not in writable and f.name in resource.table.c and f.name != "id"
    }


def _message_name(descriptor: FieldDescriptor) -> str:
    return descriptor.message_type.full_name if descriptor.message_type is not None else ""


def _row_reader(message: type[M], query: Select[Any], renamed: Mapping[str, str]) -> Callable[[Row], M]:
    """A function building `message` from a row of `query`: for each field of the message the
    column that holds it and how to convert it, worked out once. One constructor call per
    message, Timestamps from epoch seconds: the cheapest way to make a message in Python, which
    matters at 50 rows × 4 timestamps per list page."""
    columns = {column.key: column for column in query.selected_columns}
    plan: list[tuple[str, str, Callable[[Any], Any] | None]] = []
    for f in message.DESCRIPTOR.fields:
        key = renamed.get(f.name, f.name)
        if f.name == "etag" and "revision" in columns:
            plan.append(("etag", "revision", etag))
        elif key in columns:
            column_type = columns[key].type
            convert: Callable[[Any], Any] | None = None
            if isinstance(column_type, UUID):
                convert = str
            elif isinstance(column_type, DateTime):
                convert = timestamp
            plan.append((f.name, key, convert))
    steps = tuple(plan)

    def read(row: Row) -> M:
        values: dict[str, Any] = {}
        for name, key, convert in steps:
            value = row[key]
            if value is None or value == "":
                continue
            values[name] = convert(value) if convert else value  # Struct takes a dict, repeated a list
        return message(**values)

    return read


def etag(revision: int) -> str:
    """Opaque to clients; plain digits so it needs no escaping in a query string or a shell."""
    return str(revision)


def revision_of(etag_value: str) -> int | None:
    """The revision an etag names, or None if it is not one of ours."""
    return int(etag_value) if etag_value.isascii() and etag_value.isdigit() else None


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """Timestamp from a datetime; several times faster than Timestamp.FromDatetime. asyncpg gives
    0001-01-01T00:00:00Z (its -infinity) as a naive datetime.min: that one is UTC too."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return timestamp_pb2.Timestamp(seconds=int(value.timestamp()), nanos=value.microsecond * 1000)


def jsonable(value: Any) -> Any:
    """A column value as JSON can hold it (the audit log's changes)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def now() -> datetime:
    return datetime.now(UTC)


m, r, a, d = schema.models, schema.releases, schema.artifacts, schema.deployments

MODEL = Resource("model", model_pb2.Model, m, select(m))
RELEASE = Resource(
    "release",
    release_pb2.Release,
    r,
    # With the model's name, so a listing needs no second call.
    select(r, m.c.name.label("model_name")).select_from(r.join(m, r.c.image_id == m.c.id)),
    derived={"version_key": ("version", versions.sort_key)},
)
ARTIFACT = Resource("artifact", artifact_pb2.Artifact, a, select(a), renamed={"artifact_type": "type"})
DEPLOYMENT = Resource(
    "deployment",
    deployment_pb2.Deployment,
    d,
    # With what a release engineer asks next: which model, for whom, which version.
    select(
        d,
        m.c.name.label("model_name"),
        m.c.company.label("company"),
        r.c.version.label("release_version"),
        r.c.tag.label("release_tag"),
        r.c.quantization.label("quantization"),
        r.c.digest.label("release_digest"),
        r.c.status.label("release_status"),
    ).select_from(d.join(r, d.c.release_id == r.c.id).join(m, d.c.model_id == m.c.id)),
)
API_KEY = Resource("api_key", api_key_pb2.ApiKey, schema.api_keys, select(schema.api_keys))
AUDIT_LOG = Resource("audit_log", audit_log_pb2.AuditLog, schema.audit_logs, select(schema.audit_logs))
