"""AIP-155 request ids: a create claims its request_id in its own transaction. A retry (or a
concurrent duplicate, which waits on the first one's row lock) finds the claim and gets the
original resource back instead of creating a second one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import InvalidArgument, RequestIdReused

T = TypeVar("T")
MAX_REQUEST_ID = 255


async def create_once(
    db: Database,
    method: str,
    request_id: str,
    create: Callable[[AsyncConnection], Awaitable[uuid.UUID]],
    read: Callable[[AsyncConnection, uuid.UUID], Awaitable[T]],
) -> T:
    """Run `create` at most once per request_id, in one transaction, and return `read` of the result."""
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument.field("request_id", f"must be at most {MAX_REQUEST_ID} characters")
    t = schema.idempotency_keys
    async with db.transaction() as conn:
        if request_id:
            claimed = await conn.scalar(
                insert(t)
                .values(request_id=request_id, method=method)
                .on_conflict_do_nothing(index_elements=[t.c.request_id])
                .returning(t.c.request_id)
            )
            if claimed is None:
                earlier = (
                    await conn.execute(
                        select(t.c.method, t.c.resource_id).where(t.c.request_id == request_id)
                    )
                ).one()
                if earlier.method != method or earlier.resource_id is None:
                    raise RequestIdReused(earlier.method)
                return await read(conn, earlier.resource_id)
        new_id = await create(conn)
        if request_id:
            await conn.execute(update(t).where(t.c.request_id == request_id).values(resource_id=new_id))
        return await read(conn, new_id)
