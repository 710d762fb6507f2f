"""Reading the audit log."""

from __future__ import annotations

from catapult.v1 import audit_log_service_pb2
from catapult_server.listing import Listing, at_or_after, before, equals
from catapult_server.resources import AUDIT_LOG

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
