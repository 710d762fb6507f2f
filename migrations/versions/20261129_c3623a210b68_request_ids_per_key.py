"""request ids per key

Why: a request_id belongs to the key that sent it (one writer could pre-claim another's
deterministic ids), and a claim remembers a hash of its request, so reusing an id for a
different request is an error instead of silently returning the first result. Existing claims
belong to no key (scope "") and match any request hash (an empty one): they age out.

Revision ID: c3623a210b68
Revises: dc541fd4a9ad
Create Date: 2026-11-29 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3623a210b68"
down_revision: str | None = "dc541fd4a9ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=64), server_default=sa.text("''"), nullable=False),
    )
    op.add_column(
        "idempotency_keys",
        sa.Column(
            "request_hash", sa.LargeBinary(length=32), server_default=sa.text("''::bytea"), nullable=False
        ),
    )
    op.alter_column("idempotency_keys", "scope", server_default=None)
    op.alter_column("idempotency_keys", "request_hash", server_default=None)
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys", ["scope", "request_id"])
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    # Two keys may have claimed one id: keep the oldest claim of each.
    op.execute(
        "DELETE FROM idempotency_keys a USING idempotency_keys b "
        "WHERE a.request_id = b.request_id AND (a.created_at, a.scope) > (b.created_at, b.scope)"
    )
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys", ["request_id"])
    op.drop_column("idempotency_keys", "request_hash")
    op.drop_column("idempotency_keys", "scope")
