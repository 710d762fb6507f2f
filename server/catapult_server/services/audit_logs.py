"""Reading the audit log, recording denials, and pruning old rows."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update

from catapult.v1 import audit_log_service_pb2
from catapult_server import audit
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db.schema import change_feed as feed
from catapult_server.errors import InvalidArgument, PermissionDenied
from catapult_server.listing import Listing, at_or_after, before, equals
from catapult_server.resources import API_KEY, AUDIT_LOG, now

log = logging.getLogger(__name__)

t = AUDIT_LOG.table

LISTING = Listing(
    audit_log_service_pb2.ListAuditLogsRequest,
    audit_log_service_pb2.ListAuditLogsResponse,
    AUDIT_LOG,
    filters={
        "resource_type": equals(t.c.resource_type),
        "resource_id": equals(t.c.resource_id),
        "action": equals(t.c.action),
        "api_key_name": equals(t.c.api_key_name),
        "after": at_or_after(t.c.created_at),
        "before": before(t.c.created_at),
    },
    order_columns={"created_at": t.c.created_at},
    fixed_order="created_at desc",
)


async def record_denial(db: Database, caller: Caller, method: str, denied: PermissionDenied) -> None:
    """A known key refused a call its role does not allow: recorded (in a transaction of its own,
    as the call makes none), so probing with a stolen reader key leaves a trace. A failure to
    record is logged, not returned: the caller gets PERMISSION_DENIED either way."""
    if caller.key_id is None:
        return
    changes = {"method": method, "reason": denied.error_info().reason, "role": caller.role}
    try:
        async with db.transaction() as tx:
            await audit.record(tx, caller, "deny", API_KEY, caller.key_id, changes)
    except Exception:
        log.warning("could not record the denial of %s to %s", method, caller.key_name, exc_info=True)


# Rows deleted per transaction: a prune of years of history holds no lock for long and makes no
# transaction the size of the table.
PRUNE_BATCH = 5000


async def prune(db: Database, caller: Caller, before: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete the audit rows created before `before`, `batch` rows per transaction; how many.

    The prune is audited itself: one row (action "prune", resource_type "audit_log", a new
    resource_id, changes {"before", "deleted"}), written in the transaction of the last batch,
    so it names every row deleted. (A prune interrupted halfway leaves the batches it committed
    unrecorded; running it again records the rest.)

    The rows are the change feed too: the feed is marked pruned through the last change deleted,
    so a watch resuming from a cursor before it is told it missed changes (CURSOR_EXPIRED)."""
    if before > now():
        raise InvalidArgument.field("before", "must not be in the future: the audit log would be emptied")
    deleted = 0
    while True:
        async with db.transaction() as tx:
            oldest = select(t.c.id).where(t.c.created_at < before).order_by(t.c.created_at).limit(batch)
            removed = (
                (
                    await tx.execute(
                        delete(t).where(t.c.id.in_(oldest.scalar_subquery())).returning(t.c.commit_seq)
                    )
                )
                .scalars()
                .all()
            )
            deleted += len(removed)
            numbers = [n for n in removed if n is not None]
            if numbers:
                pruned = func.greatest(feed.c.pruned_through, max(numbers))
                await tx.execute(update(feed).values(pruned_through=pruned))
            if len(removed) < batch:
                changes = {"before": before.isoformat(), "deleted": deleted}
                await audit.record(tx, caller, "prune", AUDIT_LOG, uuid.uuid4(), changes)
                return deleted
