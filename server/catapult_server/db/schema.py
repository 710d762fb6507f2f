"""The database schema, as SQLAlchemy Core tables. Alembic migrations (migrations/) are
generated from and checked against this metadata (`alembic check` in CI).

Every mutable table has a `revision` counter: the resource's etag is derived from it and
updates are `UPDATE … WHERE id = :id AND revision = :seen` (AIP-154)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

# Stable constraint names, so autogenerate never sees a spurious difference.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Vocabularies the database enforces (CHECK). Environment and quantization are validated by
# the server only (catapult_server.validation), so adding one needs no migration.
RELEASE_STATUSES = ("active", "deprecated")
DEPLOYMENT_STATUSES = ("deploying", "success", "failed", "terminated")
ARTIFACT_TYPES = ("wheel", "binary", "sdist", "tarball")
API_KEY_ROLES = ("admin", "writer", "reader")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> Column[object]:
    return Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _timestamp(name: str, nullable: bool = False) -> Column[object]:
    if nullable:
        return Column(name, DateTime(timezone=True), nullable=True)
    return Column(name, DateTime(timezone=True), nullable=False, server_default=text("now()"))


def _text(name: str, length: int | None = None) -> Column[object]:
    """Optional text: empty string rather than NULL, as proto3 strings have no null."""
    return Column(name, String(length) if length else Text, nullable=False, server_default=text("''"))


def _json(name: str, empty: str) -> Column[object]:
    return Column(name, JSONB, nullable=False, server_default=text(f"'{empty}'::jsonb"))


def _index(table: str, *columns: str) -> Index:
    """An index named after its table and columns; "created_at" sorts descending
    (matching the newest-first keyset scans)."""
    name = "ix_" + table + "_" + "_".join(c.split()[0] for c in columns)
    return Index(name, *(text(c) if " " in c else c for c in columns))


def _revision() -> Column[object]:
    return Column("revision", Integer, nullable=False, server_default=text("1"))


models = Table(
    "models",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    _text("company", 255),
    _text("base_model", 100),
    _text("parameter_count", 50),
    Column("storage_path", String(1000), nullable=False),
    _text("repository", 500),
    _text("description"),
    _json("tags", "[]"),
    _json("metadata", "{}"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _revision(),
    UniqueConstraint("name"),
    # "Models of a company", "7B models", "models with tag X"; keyset on (created_at, id).
    _index("models", "company", "created_at", "id"),
    _index("models", "parameter_count", "created_at", "id"),
    _index("models", "base_model", "created_at", "id"),
    _index("models", "created_at", "id"),
    Index("ix_models_tags", "tags", postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"}),
)

releases = Table(
    "releases",
    metadata,
    _id(),
    # The model; "image_id" is the existing API's name for it.
    Column("image_id", UUID(as_uuid=True), ForeignKey("models.id"), nullable=False),
    Column("version", String(100), nullable=False),
    _text("tag", 100),
    _text("digest", 255),
    # NOT NULL with '' for "none", so the unique key below also holds without a quantization.
    _text("quantization", 50),
    Column("size_bytes", BigInteger, nullable=False, server_default=text("0")),
    _text("platform", 50),
    _text("architecture", 50),
    _text("os", 50),
    Column("status", String(50), nullable=False, server_default=text("'active'")),
    _text("release_notes"),
    _json("metadata", "{}"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _revision(),
    UniqueConstraint("image_id", "version", "quantization"),
    CheckConstraint(_in("status", RELEASE_STATUSES), name="status"),
    CheckConstraint("size_bytes >= 0", name="size_bytes"),
    # Latest release of a model, and a model's releases newest first.
    _index("releases", "image_id", "created_at", "id"),
    # "All fp16 releases".
    _index("releases", "quantization", "created_at", "id"),
    _index("releases", "created_at", "id"),
)

artifacts = Table(
    "artifacts",
    metadata,
    _id(),
    Column("release_id", UUID(as_uuid=True), ForeignKey("releases.id"), nullable=False),
    Column("name", String(255), nullable=False),
    # `type` in the design; `artifact_type` on the wire.
    Column("type", String(50), nullable=False),
    Column("file_path", String(1000), nullable=False),
    Column("size_bytes", BigInteger, nullable=False, server_default=text("0")),
    _text("checksum", 255),
    _text("platform", 50),
    _text("python_version", 20),
    _json("metadata", "{}"),
    _text("uploaded_by", 255),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _revision(),
    CheckConstraint(_in("type", ARTIFACT_TYPES), name="type"),
    CheckConstraint("size_bytes >= 0", name="size_bytes"),
    _index("artifacts", "release_id", "created_at", "id"),
    _index("artifacts", "checksum"),
    _index("artifacts", "created_at", "id"),
)

deployments = Table(
    "deployments",
    metadata,
    _id(),
    Column("release_id", UUID(as_uuid=True), ForeignKey("releases.id"), nullable=False),
    # Copied from the release at insert (a release never changes model), so "deployment
    # history of a model" and the company filter are served by an index, not a join.
    Column("model_id", UUID(as_uuid=True), ForeignKey("models.id"), nullable=False),
    Column("environment", String(100), nullable=False),
    _text("cluster", 255),
    _text("k8s_namespace", 255),
    _text("endpoint_url", 500),
    Column("replicas", Integer, nullable=False, server_default=text("0")),
    Column("status", String(50), nullable=False, server_default=text("'deploying'")),
    _text("deployed_by", 255),
    _timestamp("deployed_at"),
    _timestamp("terminated_at", nullable=True),
    _json("metadata", "{}"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _revision(),
    CheckConstraint(_in("status", DEPLOYMENT_STATUSES), name="status"),
    CheckConstraint("replicas >= 0", name="replicas"),
    # Default listing, newest first; "failed deployments, newest first".
    _index("deployments", "deployed_at", "id"),
    _index("deployments", "status", "deployed_at", "id"),
    # "Successful production deployments".
    _index("deployments", "environment", "status", "deployed_at", "id"),
    # "Deployment history of a model" and (through models.company) "deployments of a company".
    _index("deployments", "model_id", "deployed_at", "id"),
    _index("deployments", "release_id", "deployed_at", "id"),
    _index("deployments", "endpoint_url"),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    Column("role", String(20), nullable=False, server_default=text("'writer'")),
    # The public part of the key ("ctp_" + 8 characters), used to find the row.
    Column("prefix", String(16), nullable=False),
    # HMAC-SHA256(pepper, key): the key itself is never stored.
    Column("key_hash", LargeBinary(32), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    _timestamp("last_used_at", nullable=True),
    _text("created_by", 255),
    UniqueConstraint("name"),
    UniqueConstraint("prefix"),
    CheckConstraint(_in("role", API_KEY_ROLES), name="role"),
    _index("api_keys", "created_at", "id"),
)

audit_logs = Table(
    "audit_logs",
    metadata,
    _id(),
    Column("action", String(20), nullable=False),
    Column("resource_type", String(20), nullable=False),
    Column("resource_id", UUID(as_uuid=True), nullable=False),
    Column("api_key_id", UUID(as_uuid=True), nullable=True),
    _text("api_key_name", 255),
    _text("request_id", 255),
    _json("changes", "{}"),
    _text("peer", 255),
    _timestamp("created_at"),
    _index("audit_logs", "created_at", "id"),
    _index("audit_logs", "resource_id", "created_at", "id"),
    _index("audit_logs", "resource_type", "created_at", "id"),
    _index("audit_logs", "api_key_name", "created_at", "id"),
    _index("audit_logs", "action", "created_at", "id"),
)

# AIP-155: a create's request_id, claimed in the same transaction as the create, so a
# retry finds the original resource instead of making a second one.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("request_id", String(255), primary_key=True),
    Column("method", String(100), nullable=False),
    Column("resource_id", UUID(as_uuid=True), nullable=True),
    _timestamp("created_at"),
)
