"""live truth

Why: the registry knows what is live: deployments record when they became live and what they
superseded, one live deployment per slot is enforced, releases sort by semantic version, and a
recorded deployment is live by default.

Existing data is brought under the same rules: deployments that are or were live ("success",
or "terminated") get live_since from deployed_at; where several are live in one slot, the newest
deployed_at stays live and the older ones are terminated, each superseded by the next newer one
(terminated_at = that one's deployed_at), the links recorded both ways.

Revision ID: dc541fd4a9ad
Revises: 8f58d567755d
Create Date: 2026-11-29 13:21:35.449382
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The application's semantic version key, imported rather than copied: a migration that changes
# the key's format must recompute it anyway.
from catapult_server.versions import sort_key

revision: str = "dc541fd4a9ad"
down_revision: str | None = "8f58d567755d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status = 'success'"
# The two kinds of slot (catapult_server.db.schema: ENDPOINT_SLOT, PLACEMENT_SLOT).
SLOTS = {
    "endpoint": ("environment, endpoint_url", "endpoint_url <> ''"),
    "placement": ("model_id, environment, cluster, k8s_namespace", "endpoint_url = ''"),
}


def upgrade() -> None:
    op.add_column(
        "releases",
        sa.Column("version_key", sa.Text(collation="C"), server_default=sa.text("''"), nullable=False),
    )
    releases = op.get_bind().execute(sa.text("SELECT id, version FROM releases")).all()
    if releases:
        op.get_bind().execute(
            sa.text("UPDATE releases SET version_key = :key WHERE id = :id"),
            [{"id": row.id, "key": sort_key(row.version)} for row in releases],
        )
    op.create_index("ix_releases_digest", "releases", ["digest"], unique=False)
    op.create_index(
        "ix_releases_image_id_version_key_id", "releases", ["image_id", "version_key", "id"], unique=False
    )
    op.create_index("ix_releases_version_key_id", "releases", ["version_key", "id"], unique=False)

    op.add_column("deployments", sa.Column("live_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deployments", sa.Column("replaces_id", sa.UUID(), nullable=True))
    op.add_column("deployments", sa.Column("superseded_by_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_deployments_replaces_id_deployments"),
        "deployments",
        "deployments",
        ["replaces_id"],
        ["id"],
        ondelete="SET NULL",
        initially="DEFERRED",
        deferrable=True,
    )
    op.create_foreign_key(
        op.f("fk_deployments_superseded_by_id_deployments"),
        "deployments",
        "deployments",
        ["superseded_by_id"],
        ["id"],
        ondelete="SET NULL",
        initially="DEFERRED",
        deferrable=True,
    )
    op.execute("UPDATE deployments SET live_since = deployed_at WHERE status IN ('success', 'terminated')")
    for columns, kind in SLOTS.values():
        # Live deployments sharing a slot, newest first; each older one is superseded by the next newer.
        op.execute(
            f"""
            WITH ranked AS (
                SELECT id, deployed_at,
                       lag(id) OVER slot AS successor,
                       lag(deployed_at) OVER slot AS successor_since,
                       lead(id) OVER slot AS predecessor
                FROM deployments
                WHERE {LIVE} AND {kind}
                WINDOW slot AS (PARTITION BY {columns} ORDER BY deployed_at DESC, id DESC)
            )
            UPDATE deployments d
            SET status = CASE WHEN ranked.successor IS NULL THEN d.status ELSE 'terminated' END,
                terminated_at = coalesce(ranked.successor_since, d.terminated_at),
                superseded_by_id = ranked.successor,
                replaces_id = ranked.predecessor,
                revision = d.revision + 1
            FROM ranked
            WHERE d.id = ranked.id AND (ranked.successor IS NOT NULL OR ranked.predecessor IS NOT NULL)
            """
        )
    op.alter_column("deployments", "status", server_default=sa.text("'success'"))
    op.drop_index(op.f("ix_deployments_endpoint_url"), table_name="deployments")
    op.create_index(
        "ix_deployments_endpoint_url_deployed_at_id",
        "deployments",
        ["endpoint_url", "deployed_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_deployments_live_interval",
        "deployments",
        [sa.literal_column("tstzrange(live_since, terminated_at, '[)')")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("live_since IS NOT NULL"),
    )
    op.create_index(
        "ix_deployments_live_model_id_environment",
        "deployments",
        ["model_id", "environment"],
        unique=False,
        postgresql_where=sa.text(LIVE),
    )
    for name, (columns, kind) in SLOTS.items():
        op.create_index(
            f"uq_deployments_live_{name}_slot",
            "deployments",
            [c.strip() for c in columns.split(",")],
            unique=True,
            postgresql_where=sa.text(f"{LIVE} AND {kind}"),
        )


def downgrade() -> None:
    for name in SLOTS:
        op.drop_index(f"uq_deployments_live_{name}_slot", table_name="deployments")
    op.drop_index("ix_deployments_live_model_id_environment", table_name="deployments")
    op.drop_index("ix_deployments_live_interval", table_name="deployments")
    op.drop_index("ix_deployments_endpoint_url_deployed_at_id", table_name="deployments")
    op.create_index(op.f("ix_deployments_endpoint_url"), "deployments", ["endpoint_url"], unique=False)
    op.alter_column("deployments", "status", server_default=sa.text("'deploying'"))
    op.drop_constraint(op.f("fk_deployments_superseded_by_id_deployments"), "deployments", type_="foreignkey")
    op.drop_constraint(op.f("fk_deployments_replaces_id_deployments"), "deployments", type_="foreignkey")
    op.drop_column("deployments", "superseded_by_id")
    op.drop_column("deployments", "replaces_id")
    op.drop_column("deployments", "live_since")
    op.drop_index("ix_releases_version_key_id", table_name="releases")
    op.drop_index("ix_releases_image_id_version_key_id", table_name="releases")
    op.drop_index("ix_releases_digest", table_name="releases")
    op.drop_column("releases", "version_key")
