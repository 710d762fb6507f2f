"""watch

Why: the registry streams its changes (WatchChanges, WatchDeployments) from the audit log, which
already records every change in the transaction that makes it. Each row now keeps the resource as
it is after the change, and is numbered in commit order when its transaction commits — by a
deferred trigger that numbers one committing transaction at a time, holding a lock until that
transaction's commit is visible, so a number is never visible before a smaller one. That number
is the stream's cursor: resuming after it never skips a change that committed late, whatever the
order the rows were written in. The trigger also NOTIFYs `catapult_changes` (delivered at
commit), which wakes the servers' watchers on every replica. Rows from before this revision have
no number and are not streamed.

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

# pg_advisory_xact_lock's key for numbering commits: any constant no other lock in the database uses.
COMMIT_ORDER_LOCK = 0x6361_7461_7075_6C74  # "catapult"

NUMBER_AT_COMMIT = f"""
CREATE FUNCTION catapult_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Held until this transaction's commit is visible: the next committer numbers after it.
    PERFORM pg_advisory_xact_lock({COMMIT_ORDER_LOCK});
    UPDATE audit_logs SET commit_seq = nextval('audit_logs_commit_seq') WHERE id = NEW.id;
    -- Delivered when the transaction commits; identical ones in one transaction fold into one.
    PERFORM pg_notify('catapult_changes', '');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "change_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_feed_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_feed")),
    )
    op.execute("INSERT INTO change_feed (id, pruned_through) VALUES (1, 0)")
    op.add_column("audit_logs", sa.Column("snapshot", sa.LargeBinary(), nullable=True))
    op.add_column("audit_logs", sa.Column("commit_seq", sa.BigInteger(), nullable=True))
    op.create_index("uq_audit_logs_commit_seq", "audit_logs", ["commit_seq"], unique=True)
    op.execute("CREATE SEQUENCE audit_logs_commit_seq")
    op.execute(NUMBER_AT_COMMIT)
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_logs_number_at_commit AFTER INSERT ON audit_logs "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catapult_number_at_commit()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_logs_number_at_commit ON audit_logs")
    op.execute("DROP FUNCTION catapult_number_at_commit()")
    op.execute("DROP SEQUENCE audit_logs_commit_seq")
    op.drop_index("uq_audit_logs_commit_seq", table_name="audit_logs")
    op.drop_column("audit_logs", "commit_seq")
    op.drop_column("audit_logs", "snapshot")
    op.drop_table("change_feed")
