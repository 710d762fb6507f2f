"""The audit log: one row per change, written in the transaction of the change itself. A change's
row also holds the resource as it is after the change (`snapshot`), and is numbered in commit
order when its transaction commits: the audit log is the change feed the watch streams read
(changes.py)."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server.auth import Caller
from catapult_server.db import schema
from catapult_server.resources import Resource

_INSERT = insert(schema.audit_logs)


async def record(
    conn: AsyncConnection,
    caller: Caller,
    action: str,
    resource: Resource[Any],
    resource_id: uuid.UUID,
    changes: dict[str, Any],
    request_id: str = "",
    snapshot: Message | None = None,
) -> None:
    await conn.execute(
        _INSERT,  # the values as parameters: the compiled statement is found in the cache as is
        {
            "action": action,
            "resource_type": resource.name,
            "resource_id": resource_id,
            "api_key_id": caller.key_id,
            "api_key_name": caller.key_name,
            "request_id": request_id,
            "changes": changes,
            "peer": caller.peer[:255],
            "snapshot": snapshot.SerializeToString() if snapshot is not None else None,
        },
    )
