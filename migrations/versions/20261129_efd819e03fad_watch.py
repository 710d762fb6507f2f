"""watch

Why: the registry streams its changes (WatchChanges, WatchDeployments) from the audit log, which
already records every change in the transaction that makes it. Each row now keeps the resource as
it is after the change (`snapshot`) and the order it was written in (`write_seq`). Once its
transaction has committed, the server numbers it (`commit_seq`, changes.py): one numbering at a
time (change_feed's row lock), each taking every change committed and not yet numbered, so the
numbers follow the order changes became visible and a number is never visible before a smaller
one. That number is the stream's cursor: resuming after it never skips a change that committed
late, whatever order the rows were written in. The numbering is done after commit, not in the
writing transaction: a lock taken at every commit would serialize the writes (measured: half
the CreateDeployment throughput). Rows from before this revision have no snapshot and are not
streamed.

Revision ID: efd819e03fad
Revises: c3623a210b68
Create Date: 2026-11-29 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "efd819e03fad"
down_revision: str | None = "c3623a210b68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numbered_through", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_feed_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_feed")),
    )
    op.execute("INSERT INTO change_feed (id) VALUES (1)")
    op.execute("CREATE SEQUENCE audit_logs_write_seq")
    op.add_column("audit_logs", sa.Column("snapshot", sa.LargeBinary(), nullable=True))
    op.add_column(
        "audit_logs",
        sa.Column(
            "write_seq",
            sa.BigInteger(),
            server_default=sa.text("nextval('audit_logs_write_seq')"),
            nullable=False,
        ),
    )
    op.add_column("audit_logs", sa.Column("commit_seq", sa.BigInteger(), nullable=True))
    op.create_index("uq_audit_logs_commit_seq", "audit_logs", ["commit_seq"], unique=True)
    op.create_index(
        "ix_audit_logs_unnumbered",
        "audit_logs",
        ["write_seq"],
        postgresql_where=sa.text("commit_seq IS NULL AND snapshot IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_logs_unnumbered", table_name="audit_logs")
    op.drop_index("uq_audit_logs_commit_seq", table_name="audit_logs")
    op.drop_column("audit_logs", "commit_seq")
    op.drop_column("audit_logs", "write_seq")
    op.drop_column("audit_logs", "snapshot")
    op.execute("DROP SEQUENCE audit_logs_write_seq")
    op.drop_table("change_feed")
