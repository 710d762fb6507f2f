"""environment live interval

Why: "what served production at T" (ListDeployments with environment and live_at) read every
environment's deployments live at T from the interval index and dropped the other environments'
afterwards: 13-20 ms at 1,000,000 deployments, at the edge of the 20 ms the live-truth questions
are held to. A GiST index on (environment, live interval) finds only production's: 6 ms. GiST
indexes a varchar through the btree_gist extension, which ships with PostgreSQL and is trusted
(PostgreSQL 13+: the database's owner may create it, no superuser needed). The interval-only index
stays: queries without an environment use it.

Revision ID: 5b0e7c2d41a9
Revises: efd819e03fad
Create Date: 2026-11-29 23:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0e7c2d41a9"
down_revision: str | None = "efd819e03fad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_index(
        "ix_deployments_environment_live_interval",
        "deployments",
        ["environment", sa.text("tstzrange(live_since, terminated_at, '[)')")],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("live_since IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_deployments_environment_live_interval",
        table_name="deployments",
        postgresql_using="gist",
        postgresql_where=sa.text("live_since IS NOT NULL"),
    )
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
