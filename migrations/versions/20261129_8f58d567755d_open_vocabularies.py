"""open vocabularies

Why: environment became an open vocabulary (any lowercase token of at most 50 characters,
the proto's rule), so its column is as long as the rule allows. Existing values (production,
staging, development) fit.

Revision ID: 8f58d567755d
Revises: 853b572d8e58
Create Date: 2026-11-29 12:56:19.988698
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8f58d567755d"
down_revision: str | None = "853b572d8e58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "deployments",
        "environment",
        existing_type=sa.VARCHAR(length=100),
        type_=sa.String(length=50),
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "deployments",
        "environment",
        existing_type=sa.String(length=50),
        type_=sa.VARCHAR(length=100),
        existing_nullable=False,
    )
