"""SQL every resource shares: insert, read, lock-and-check-etag, update, delete. These run inside
the caller's transaction (Database.transaction()); they commit nothing, and the driver errors
they raise are translated by the Database they run in."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server.errors import EtagMismatch, InvalidArgument, NotFound
from catapult_server.resources import M, Resource, Row, jsonable, revision_of


async def insert(conn: AsyncConnection, resource: Resource[Any], values: Mapping[str, Any]) -> Row:
    """Insert a row; the row as stored (every column, the defaults filled in)."""
    t = resource.table
    # The values go as parameters, not into the statement: SQLAlchemy then finds the compiled
    # INSERT in its cache by the columns alone, without building and hashing a bind per value.
    row: Row = (await conn.execute(sql_insert(t).returning(*t.c), dict(values))).mappings().one()
    return row


async def read(conn: AsyncConnection, resource: Resource[M], resource_id: uuid.UUID) -> M:
    """The resource with this id, with its joined fields; NOT_FOUND if there is none."""
    query = resource.query.where(resource.table.c.id == resource_id)
    row: Row | None = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(resource.title, str(resource_id))
    return resource.to_proto(row)


async def lock_for_change(
    conn: AsyncConnection, resource: Resource[Any], resource_id: uuid.UUID, etag: str
) -> Row:
    """The current row, locked until the transaction ends, after checking the caller's etag."""
    t = resource.table
    row: Row | None = (
        (await conn.execute(select(t).where(t.c.id == resource_id).with_for_update())).mappings().first()
    )
    if row is None:
        raise NotFound(resource.title, str(resource_id))
    if etag and revision_of(etag) != row["revision"]:
        raise EtagMismatch(resource.title, str(resource_id))
    return row


def diff(resource: Resource[Any], current: Row, values: Mapping[str, Any]) -> dict[str, Any]:
    """{column: {"old": …, "new": …}} for the values that change; immutable fields must match."""
    changes: dict[str, Any] = {}
    for spec in resource.writable:
        if spec.column not in values or values[spec.column] == current[spec.column]:
            continue
        if spec.immutable:
            raise InvalidArgument.field(f"{resource.name}.{spec.name}", "cannot change after creation")
        changes[spec.column] = {"old": jsonable(current[spec.column]), "new": jsonable(values[spec.column])}
    return changes


async def update(
    conn: AsyncConnection, resource: Resource[Any], current: Row, values: Mapping[str, Any]
) -> None:
    """Write changed values to a row locked by lock_for_change, bumping its revision (its etag)."""
    t = resource.table
    await conn.execute(
        sql_update(t)
        .where(t.c.id == current["id"])
        .values(**values, revision=t.c.revision + 1, updated_at=func.now())
    )


async def delete(conn: AsyncConnection, resource: Resource[Any], *where: Any) -> int:
    """Delete the rows matching `where`; how many went."""
    result = await conn.execute(sql_delete(resource.table).where(*where))
    return int(result.rowcount)
