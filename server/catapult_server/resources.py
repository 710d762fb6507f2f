"""What each resource is made of: its proto fields, the column each maps to, and the rules
a value must follow. Validation and the proto ⇄ row conversion both read these specs, so a
field's limit is written once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message
from sqlalchemy import Table

from catapult.v1 import api_key_pb2, artifact_pb2, audit_log_pb2, deployment_pb2, model_pb2, release_pb2
from catapult_server.db import schema
from catapult_server.errors import FieldViolation, InvalidArgument

# Vocabularies the server validates. Release status, deployment status, artifact type and
# key role are also CHECK constraints (db/schema.py); these two are not, so adding a value
# needs no migration.
QUANTIZATIONS = ("", "fp32", "bf16", "fp16", "fp8", "int8", "int4")
ENVIRONMENTS = ("production", "staging", "development")

METADATA_MAX_BYTES = 64 * 1024
TEXT_MAX = 64 * 1024
TAGS_MAX = 64
TAG_MAX_LEN = 100


class Kind(Enum):
    STRING = "string"
    INT = "int"
    TAGS = "tags"
    STRUCT = "struct"
    TIMESTAMP = "timestamp"
    UUID = "uuid"


@dataclass(frozen=True)
class Field:
    name: str  # the proto field name
    kind: Kind = Kind.STRING
    column: str = ""  # defaults to name
    max_len: int | None = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    # Fixed once created (a release's model, an artifact's release).
    immutable: bool = False
    minimum: int | None = None
    url: bool = False

    @property
    def col(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Resource:
    name: str  # "model": the proto request field, the audit resource_type
    message: type[Message]
    table: Table
    fields: tuple[Field, ...]

    @property
    def title(self) -> str:
        return self.name.replace("_", " ").title().replace(" ", "")

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _s(name: str, max_len: int, **kw: Any) -> Field:
    return Field(name, Kind.STRING, max_len=max_len, **kw)


MODEL = Resource(
    "model",
    model_pb2.Model,
    schema.models,
    (
        _s("name", 255, required=True),
        _s("company", 255),
        _s("base_model", 100),
        _s("parameter_count", 50),
        _s("storage_path", 1000, required=True),
        _s("repository", 500),
        _s("description", TEXT_MAX),
        Field("tags", Kind.TAGS),
        Field("metadata", Kind.STRUCT),
    ),
)

RELEASE = Resource(
    "release",
    release_pb2.Release,
    schema.releases,
    (
        Field("image_id", Kind.UUID, required=True, immutable=True),
        _s("version", 100, required=True),
        _s("tag", 100),
        _s("digest", 255),
        _s("quantization", 50, choices=QUANTIZATIONS),
        Field("size_bytes", Kind.INT, minimum=0),
        _s("platform", 50),
        _s("architecture", 50),
        _s("os", 50),
        _s("status", 50, choices=schema.RELEASE_STATUSES),
        _s("release_notes", TEXT_MAX),
        Field("metadata", Kind.STRUCT),
    ),
)

ARTIFACT = Resource(
    "artifact",
    artifact_pb2.Artifact,
    schema.artifacts,
    (
        Field("release_id", Kind.UUID, required=True, immutable=True),
        _s("name", 255, required=True),
        _s("artifact_type", 50, column="type", required=True, choices=schema.ARTIFACT_TYPES),
        _s("file_path", 1000, required=True),
        Field("size_bytes", Kind.INT, minimum=0),
        _s("checksum", 255),
        _s("platform", 50),
        _s("python_version", 20),
        Field("metadata", Kind.STRUCT),
        _s("uploaded_by", 255),
    ),
)

DEPLOYMENT = Resource(
    "deployment",
    deployment_pb2.Deployment,
    schema.deployments,
    (
        Field("release_id", Kind.UUID, required=True, immutable=True),
        _s("environment", 100, required=True, choices=ENVIRONMENTS),
        _s("cluster", 255),
        _s("k8s_namespace", 255),
        _s("endpoint_url", 500, url=True),
        Field("replicas", Kind.INT, minimum=0),
        _s("status", 50, choices=schema.DEPLOYMENT_STATUSES),
        _s("deployed_by", 255),
        Field("deployed_at", Kind.TIMESTAMP),
        Field("metadata", Kind.STRUCT),
    ),
)

API_KEY = Resource(
    "api_key",
    api_key_pb2.ApiKey,
    schema.api_keys,
    (
        _s("name", 255, required=True),
        _s("role", 20, choices=schema.API_KEY_ROLES),
        Field("expires_at", Kind.TIMESTAMP),
    ),
)


# --- validation ------------------------------------------------------------------------


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.field(field, f"must be a UUID, got {value[:64]!r}") from None


def _check(spec: Field, value: Any) -> str | None:
    """The problem with a value, or None."""
    if spec.kind is Kind.STRING:
        if spec.required and not value.strip():
            return "is required"
        if spec.max_len is not None and len(value) > spec.max_len:
            return f"must be at most {spec.max_len} characters (got {len(value)})"
        if spec.choices is not None and value and value not in spec.choices:
            return f"must be one of {', '.join(c for c in spec.choices if c)} (got {value[:64]!r})"
        if spec.url and value:
            parts = urlsplit(value)
            if not parts.scheme or not parts.netloc:
                return f"must be an absolute URL such as https://host/path (got {value[:64]!r})"
    elif spec.kind is Kind.UUID:
        if not value:
            return "is required" if spec.required else None
        try:
            uuid.UUID(value)
        except ValueError:
            return f"must be a UUID (got {value[:64]!r})"
    elif spec.kind is Kind.INT:
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum} (got {value})"
    elif spec.kind is Kind.TAGS:
        if len(value) > TAGS_MAX:
            return f"at most {TAGS_MAX} tags (got {len(value)})"
        for tag in value:
            if not tag.strip() or len(tag) > TAG_MAX_LEN:
                return f"each tag must be 1 to {TAG_MAX_LEN} characters (got {tag[:64]!r})"
    elif spec.kind is Kind.STRUCT:
        size = len(json.dumps(value, separators=(",", ":")))
        if size > METADATA_MAX_BYTES:
            return f"must be at most {METADATA_MAX_BYTES} bytes as JSON (got {size})"
    return None


def _read(message: Message, spec: Field) -> Any:
    """A field's value from a proto message, as the database stores it."""
    raw = getattr(message, spec.name)
    if spec.kind is Kind.TAGS:
        return list(dict.fromkeys(raw))  # keep order, drop repeats
    if spec.kind is Kind.STRUCT:
        return json_format.MessageToDict(raw) if message.HasField(spec.name) else {}
    if spec.kind is Kind.TIMESTAMP:
        return raw.ToDatetime(tzinfo=UTC) if message.HasField(spec.name) else None
    return raw


def _is_set(message: Message, spec: Field) -> bool:
    if spec.kind in (Kind.STRUCT, Kind.TIMESTAMP):
        return message.HasField(spec.name)
    return bool(getattr(message, spec.name))


def _validated(resource: Resource, message: Message, specs: Sequence[Field]) -> dict[str, Any]:
    """{column: value} of these fields; every field is checked and every problem reported at once."""
    values: dict[str, Any] = {}
    problems = []
    for spec in specs:
        value = _read(message, spec)
        problem = _check(spec, value)
        if problem:
            problems.append(FieldViolation(f"{resource.name}.{spec.name}", problem))
            continue
        values[spec.col] = uuid.UUID(value) if spec.kind is Kind.UUID and value else value
    if problems:
        raise InvalidArgument(problems)
    return values


def _defaulted(spec: Field, value: Any) -> bool:
    """An unset value whose column default applies on insert (a timestamp, a status)."""
    if spec.kind is Kind.TIMESTAMP:
        return value is None
    return spec.kind is Kind.STRING and spec.choices is not None and value == "" and "" not in spec.choices


def values_for_create(resource: Resource, message: Message) -> dict[str, Any]:
    """Column values for an insert."""
    values = _validated(resource, message, resource.fields)
    return {spec.col: values[spec.col] for spec in resource.fields if not _defaulted(spec, values[spec.col])}


def values_for_update(resource: Resource, message: Message, mask_paths: list[str]) -> dict[str, Any]:
    """Column values an update changes (AIP-134): the mask's fields, or without a mask every
    field set in the message. Output-only, immutable and unknown paths are rejected."""
    if mask_paths == ["*"]:
        chosen = [f for f in resource.fields if not f.immutable]
    elif mask_paths:
        chosen = []
        for path in mask_paths:
            spec = resource.field(path)
            if spec is None:
                writable = ", ".join(f.name for f in resource.fields if not f.immutable)
                raise InvalidArgument.field(
                    "update_mask", f"{path!r} is not a field that can be updated (one of: {writable})"
                )
            if spec.immutable:
                raise InvalidArgument.field("update_mask", f"{path!r} cannot change after creation")
            chosen.append(spec)
    else:
        # Immutable fields may come back unchanged from a read-modify-write client; the
        # repository compares them with the stored values (repository.update).
        chosen = [f for f in resource.fields if _is_set(message, f)]
    return _validated(resource, message, chosen)


# --- rows to protos --------------------------------------------------------------------


def etag(revision: int) -> str:
    """Opaque to clients; plain digits so it needs no escaping in a query string or a shell."""
    return str(revision)


def revision_of(etag_value: str) -> int | None:
    """The revision an etag names, or None if it is not one of ours."""
    return int(etag_value) if etag_value.isdigit() else None


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """Timestamp from an aware datetime; several times faster than Timestamp.FromDatetime,
    which matters at 50 rows × 4 timestamps per list page."""
    return timestamp_pb2.Timestamp(seconds=int(value.timestamp()), nanos=value.microsecond * 1000)


# Output-only timestamp columns a resource's message may carry besides its writable fields.
_OUTPUT_TIMESTAMPS = ("created_at", "updated_at", "terminated_at", "revoked_at", "last_used_at")


_Plan = tuple[tuple[tuple[str, str, Kind], ...], tuple[str, ...], bool]
_plans: dict[str, _Plan] = {}  # by resource name: hashing a Resource costs more than the plan saves


def _plan(resource: Resource) -> _Plan:
    """How to read a row into this resource's message: (field, column, kind)s, the output-only
    timestamps it has, and whether it has an etag."""
    plan = _plans.get(resource.name)
    if plan is None:
        fields = resource.message.DESCRIPTOR.fields_by_name
        columns = set(resource.table.c.keys())
        readers = tuple((f.name, f.col, f.kind) for f in resource.fields)
        stamps = tuple(name for name in _OUTPUT_TIMESTAMPS if name in fields and name in columns)
        plan = _plans[resource.name] = (readers, stamps, "revision" in columns)
    return plan


def to_proto(resource: Resource, row: Mapping[Any, Any], **extra: Any) -> Any:
    """A proto message from a row; `extra` fills output-only fields (joined names). Built with
    one constructor call: the cheapest way to make a message in Python."""
    readers, stamps, has_etag = _plan(resource)
    values: dict[str, Any] = {"id": str(row["id"])}
    for name, column, kind in readers:
        value = row[column]
        if value is None or value == "":
            continue
        if kind is Kind.TIMESTAMP:
            value = timestamp(value)
        elif kind is Kind.UUID:
            value = str(value)
        values[name] = value  # Struct fields take a dict, repeated fields a list
    for name in stamps:
        value = row[name]
        if value is not None:
            values[name] = timestamp(value)
    if has_etag:
        values["etag"] = etag(row["revision"])
    for name, value in extra.items():
        if value is not None:
            values[name] = str(value) if isinstance(value, uuid.UUID) else value
    return resource.message(**values)


def audit_to_proto(row: Mapping[Any, Any]) -> audit_log_pb2.AuditLog:
    log = audit_log_pb2.AuditLog(
        id=str(row["id"]),
        action=row["action"],
        resource_type=row["resource_type"],
        resource_id=str(row["resource_id"]),
        api_key_id=str(row["api_key_id"]) if row["api_key_id"] else "",
        api_key_name=row["api_key_name"],
        request_id=row["request_id"],
        peer=row["peer"],
    )
    if row["changes"]:
        log.changes.update(row["changes"])
    log.created_at.CopyFrom(timestamp(row["created_at"]))
    return log


def now() -> datetime:
    return datetime.now(UTC)
