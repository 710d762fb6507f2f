"""Reading the audit log."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from catapult.v1 import audit_log_service_pb2
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.resources import audit_to_proto, parse_uuid
from catapult_server.services import crud

t = schema.audit_logs
ORDER_COLUMNS = {"created_at": t.c.created_at}
RESOURCE_TYPES = ("model", "release", "artifact", "deployment", "api_key")
ACTIONS = ("create", "update", "delete", "terminate", "revoke")


async def list_audit_logs(
    db: Database, request: audit_log_service_pb2.ListAuditLogsRequest
) -> audit_log_service_pb2.ListAuditLogsResponse:
    query = select(t)
    if request.resource_type:
        query = query.where(
            t.c.resource_type == crud.choice(request.resource_type, RESOURCE_TYPES, "resource_type")
        )
    if request.resource_id:
        query = query.where(t.c.resource_id == parse_uuid(request.resource_id, "resource_id"))
    if request.action:
        query = query.where(t.c.action == crud.choice(request.action, ACTIONS, "action"))
    if request.api_key_name:
        query = query.where(t.c.api_key_name == request.api_key_name)
    if request.HasField("after"):
        query = query.where(t.c.created_at >= request.after.ToDatetime(tzinfo=UTC))
    if request.HasField("before"):
        query = query.where(t.c.created_at < request.before.ToDatetime(tzinfo=UTC))
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, t.c.id, request, "created_at desc")
    return audit_log_service_pb2.ListAuditLogsResponse(
        audit_logs=[audit_to_proto(row) for row in rows], next_page_token=token
    )
