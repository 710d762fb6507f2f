"""AIP-155 request ids. A create claims its request_id first thing in its transaction and binds
it to what it created last thing; a retry (or a concurrent duplicate, which waits on the first
one's row lock) finds the claim and gets the original resource back instead of a second one."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server.db import schema
from catapult_server.errors import RequestIdReused

t = schema.idempotency_keys


async def claim(conn: AsyncConnection, method: str, request_id: str) -> uuid.UUID | None:
    """Claim `request_id` for this call of `method`. Returns None when this call is the first
    with it (go on and create), or the id of what an earlier call with it created."""
    if not request_id:
        return None
    claimed = await conn.scalar(
        insert(t)
        .values(request_id=request_id, method=method)
        .on_conflict_do_nothing(index_elements=[t.c.request_id])
        .returning(t.c.request_id)
    )
    if claimed is not None:
        return None
    earlier = (
        await conn.execute(select(t.c.method, t.c.resource_id).where(t.c.request_id == request_id))
    ).one()
    if earlier.method != method or earlier.resource_id is None:
        raise RequestIdReused(earlier.method)
    earlier_id: uuid.UUID = earlier.resource_id
    return earlier_id


async def bind(conn: AsyncConnection, request_id: str, resource_id: uuid.UUID) -> None:
    """Record what the call that claimed `request_id` created."""
    if request_id:
        await conn.execute(update(t).where(t.c.request_id == request_id).values(resource_id=resource_id))
