"""Reading the audit log."""

from __future__ import annotations

import logging

from catapult.v1 import audit_log_service_pb2
from catapult_server import audit
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.errors import PermissionDenied
from catapult_server.listing import Listing, at_or_after, before, equals
from catapult_server.resources import API_KEY, AUDIT_LOG

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
