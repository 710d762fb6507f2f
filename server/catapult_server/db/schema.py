"""The database schema, as SQLAlchemy Core tables. Alembic migrations (migrations/) are
generated from and checked against this metadata (`alembic check` in CI).

String column lengths and the CHECKed vocabularies are the proto's field rules (max_len,
choices), read from the descriptors: a limit changed in the proto shows up here, and
`alembic check` fails until a migration follows it.

Every mutable table has a `revision` counter: the resource's etag is derived from it and
an update locks the row and checks it (AIP-154)."""

from __future__ import annotations

from google.protobuf.message import Message
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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from catapult.v1 import api_key_pb2, artifact_pb2, deployment_pb2, model_pb2, release_pb2
from catapult_server.rules import choices, max_len, rules

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

# The closed vocabularies the database enforces too (CHECK). Environment and quantization are
# open (any lowercase token, a pattern the server checks), so a new one needs no migration.
RELEASE_STATUSES = choices(release_pb2.Release, "status")
DEPLOYMENT_STATUSES = choices(deployment_pb2.Deployment, "status")
# A deployment is live when its status is "success": it stops being live only by termination,
# which changes the status. Every filter, query, index and page uses this one definition.
LIVE_STATUS = "success"
# A deployment's slot, the place one live deployment holds at a time: its environment and
# endpoint when it has an endpoint, else its model, environment, cluster and namespace.
ENDPOINT_SLOT = ("environment", "endpoint_url")
PLACEMENT_SLOT = ("model_id", "environment", "cluster", "k8s_namespace")
ARTIFACT_TYPES = choices(artifact_pb2.Artifact, "artifact_type")
API_KEY_ROLES = choices(api_key_pb2.ApiKey, "role")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> Column[object]:
    return Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _timestamp(name: str, nullable: bool = False) -> Column[object]:
    if nullable:
        return Column(name, DateTime(timezone=True), nullable=True)
    return Column(name, DateTime(timezone=True), nullable=False, server_default=text("now()"))


def _string(message: type[Message], field: str) -> Column[object]:
    """A required string column, as long as the field's max_len."""
    return Column(field, String(max_len(message, field)), nullable=False)


def _text(message: type[Message], field: str) -> Column[object]:
    """An optional string: empty rather than NULL, as proto3 strings have no null."""
    return Column(field, String(max_len(message, field)), nullable=False, server_default=text("''"))


def _prose(name: str) -> Column[object]:
    """Free text (a description, release notes), limited by the API, not the column."""
    return Column(name, Text, nullable=False, server_default=text("''"))


def _json(name: str, empty: str) -> Column[object]:
    return Column(name, JSONB, nullable=False, server_default=text(f"'{empty}'::jsonb"))


def _deployment_link(name: str) -> Column[object]:
    return Column(
        name,
        UUID(as_uuid=True),
        ForeignKey("deployments.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED"),
        nullable=True,
    )


def _index(table: str, *columns: str) -> Index:
    """An index named after its table and columns; "created_at" sorts descending
    (matching the newest-first keyset scans)."""
    name = "ix_" + table + "_" + "_".join(c.split()[0] for c in columns)
    return Index(name, *(text(c) if " " in c else c for c in columns))


def _status(message: type[Message]) -> Column[object]:
    """A status column, defaulting to the proto's default status."""
    default = rules(message, "status").default
    return Column("status", String(50), nullable=False, server_default=text(f"'{default}'"))


def _revision() -> Column[object]:
    return Column("revision", Integer, nullable=False, server_default=text("1"))


models = Table(
    "models",
    metadata,
    _id(),
    _string(model_pb2.Model, "name"),
    _text(model_pb2.Model, "company"),
    _text(model_pb2.Model, "base_model"),
    _text(model_pb2.Model, "parameter_count"),
    _string(model_pb2.Model, "storage_path"),
    _text(model_pb2.Model, "repository"),
    _prose("description"),
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
    _string(release_pb2.Release, "version"),
    _text(release_pb2.Release, "tag"),
    _text(release_pb2.Release, "digest"),
    # NOT NULL with '' for "none", so the unique key below also holds without a quantization.
    _text(release_pb2.Release, "quantization"),
    Column("size_bytes", BigInteger, nullable=False, server_default=text("0")),
    _text(release_pb2.Release, "platform"),
    _text(release_pb2.Release, "architecture"),
    _text(release_pb2.Release, "os"),
    _status(release_pb2.Release),
    _prose("release_notes"),
    _json("metadata", "{}"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _revision(),
    # `version` as a key that sorts in semantic version order (catapult_server.versions), byte
    # by byte: collation "C", whatever the database's collation.
    Column("version_key", Text(collation="C"), nullable=False, server_default=text("''")),
    UniqueConstraint("image_id", "version", "quantization"),
    CheckConstraint(_in("status", RELEASE_STATUSES), name="status"),
    CheckConstraint("size_bytes >= 0", name="size_bytes"),
    # Latest release of a model, and a model's releases newest first.
    _index("releases", "image_id", "created_at", "id"),
    # "All fp16 releases".
    _index("releases", "quantization", "created_at", "id"),
    _index("releases", "created_at", "id"),
    # Latest by version, a model's releases in version order; all releases in version order.
    _index("releases", "image_id", "version_key", "id"),
    _index("releases", "version_key", "id"),
    # Which releases are this image (a blast radius).
    _index("releases", "digest"),
)

artifacts = Table(
    "artifacts",
    metadata,
    _id(),
    Column("release_id", UUID(as_uuid=True), ForeignKey("releases.id"), nullable=False),
    _string(artifact_pb2.Artifact, "name"),
    # `type` in the design; `artifact_type` on the wire.
    Column("type", String(50), nullable=False),
    _string(artifact_pb2.Artifact, "file_path"),
    Column("size_bytes", BigInteger, nullable=False, server_default=text("0")),
    _text(artifact_pb2.Artifact, "checksum"),
    _text(artifact_pb2.Artifact, "platform"),
    _text(artifact_pb2.Artifact, "python_version"),
    _json("metadata", "{}"),
    _text(artifact_pb2.Artifact, "uploaded_by"),
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
    _string(deployment_pb2.Deployment, "environment"),
    _text(deployment_pb2.Deployment, "cluster"),
    _text(deployment_pb2.Deployment, "k8s_namespace"),
    _text(deployment_pb2.Deployment, "endpoint_url"),
    Column("replicas", Integer, nullable=False, server_default=text("0")),
    _status(deployment_pb2.Deployment),
    _text(deployment_pb2.Deployment, "deployed_by"),
    _timestamp("deployed_at"),
    _timestamp("terminated_at", nullable=True),
    # Live over [live_since, terminated_at); NULL if it never was live.
    _timestamp("live_since", nullable=True),
    # What it superseded and what superseded it. Checked at commit: a deploy terminates its
    # predecessor (naming itself) before the new row exists. A forced delete of history leaves
    # the survivors' links NULL.
    _deployment_link("replaces_id"),
    _deployment_link("superseded_by_id"),
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
    # What served an endpoint, newest first.
    _index("deployments", "endpoint_url", "deployed_at", "id"),
)
_live = deployments.c.status == LIVE_STATUS
# One live deployment per slot, enforced by the database too (deploys into one slot also take
# a lock on it, so they supersede one another instead of failing on these).
Index(
    "uq_deployments_live_endpoint_slot",
    *(deployments.c[column] for column in ENDPOINT_SLOT),
    unique=True,
    postgresql_where=_live & (deployments.c.endpoint_url != ""),
)
Index(
    "uq_deployments_live_placement_slot",
    *(deployments.c[column] for column in PLACEMENT_SLOT),
    unique=True,
    postgresql_where=_live & (deployments.c.endpoint_url == ""),
)
# A model's live deployments by environment (the rollout matrix, "live things are not deleted").
Index(
    "ix_deployments_live_model_id_environment",
    deployments.c.model_id,
    deployments.c.environment,
    postgresql_where=_live,
)
# What was live at a moment: the interval [live_since, terminated_at) contains it. Queries use
# this same expression, so the index serves them.
LIVE_INTERVAL = func.tstzrange(deployments.c.live_since, deployments.c.terminated_at, "[)")
Index(
    "ix_deployments_live_interval",
    LIVE_INTERVAL,
    postgresql_using="gist",
    postgresql_where=deployments.c.live_since.isnot(None),
)
# The same in one environment ("what served production at T"), the question asked most: the
# environment in the GiST index itself (btree_gist) instead of filtering the interval's matches
# of every environment after reading them (6 ms instead of 13-20 at 1,000,000 deployments).
Index(
    "ix_deployments_environment_live_interval",
    deployments.c.environment,
    LIVE_INTERVAL,
    postgresql_using="gist",
    postgresql_where=deployments.c.live_since.isnot(None),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(),
    _string(api_key_pb2.ApiKey, "name"),
    Column("role", String(20), nullable=False, server_default=text("'writer'")),
    # The public part of the key ("ctp_" + 8 characters), used to find the row.
    Column("prefix", String(16), nullable=False),
    # HMAC-SHA256(pepper, key): the key itself is never stored.
    Column("key_hash", LargeBinary(32), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
    _timestamp("last_used_at", nullable=True),
    Column("created_by", String(255), nullable=False, server_default=text("''")),
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
    Column("api_key_name", String(255), nullable=False, server_default=text("''")),
    Column("request_id", String(255), nullable=False, server_default=text("''")),
    _json("changes", "{}"),
    Column("peer", String(255), nullable=False, server_default=text("''")),
    _timestamp("created_at"),
    # The resource after the change (its serialized catapult.v1 message), for the watch streams;
    # NULL for rows that are no change (a denial, a prune).
    Column("snapshot", LargeBinary, nullable=True),
    # The order rows were written in (a sequence, at insert).
    Column("write_seq", BigInteger, nullable=False, server_default=text("nextval('audit_logs_write_seq')")),
    # The change's place in the feed, the watch streams' cursor: given after its transaction
    # committed, by changes.py's numbering, in the order changes became visible (NULL until then).
    Column("commit_seq", BigInteger, nullable=True),
    Index("uq_audit_logs_commit_seq", "commit_seq", unique=True),
    # The changes still to number, oldest first.
    Index(
        "ix_audit_logs_unnumbered",
        "write_seq",
        postgresql_where=text("commit_seq IS NULL AND snapshot IS NOT NULL"),
    ),
    _index("audit_logs", "created_at", "id"),
    _index("audit_logs", "resource_id", "created_at", "id"),
    _index("audit_logs", "resource_type", "created_at", "id"),
    _index("audit_logs", "api_key_name", "created_at", "id"),
    _index("audit_logs", "action", "created_at", "id"),
)

# The change feed's one row: the last number given (its lock orders the numberings), and how far
# `catapult audit prune` has pruned the feed (a watch resuming from a cursor below that has
# missed changes, and is told so: CURSOR_EXPIRED).
change_feed = Table(
    "change_feed",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("numbered_through", BigInteger, nullable=False, server_default=text("0")),
    Column("pruned_through", BigInteger, nullable=False, server_default=text("0")),
    CheckConstraint("id = 1", name="one_row"),
)

# AIP-155: a create's request_id, claimed in the same transaction as the create, so a
# retry finds the original resource instead of making a second one. Ids are scoped to the key
# that sent them (one writer cannot claim another's), and a claim remembers a hash of the request
# it was made for: the same id with another request is an error, not the first one's result.
# Claims are kept for a retention period (CATAPULT_IDEMPOTENCY_RETENTION_HOURS), then pruned.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # The calling key's id, or "cli" for the `catapult` command acting on the database.
    Column("scope", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("method", String(100), nullable=False),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("resource_id", UUID(as_uuid=True), nullable=True),
    _timestamp("created_at"),
    _index("idempotency_keys", "created_at"),
)
