"""The create / update / list steps every resource shares."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from catapult_server import audit, pagination, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import InvalidArgument
from catapult_server.idempotency import create_once
from catapult_server.resources import Resource, parse_uuid, values_for_create, values_for_update

Reader = Callable[[AsyncConnection, uuid.UUID], Awaitable[Any]]


async def insert_audited(
    conn: AsyncConnection, resource: Resource, values: Mapping[str, Any], caller: Caller, request_id: str
) -> uuid.UUID:
    new_id = await repository.insert_row(conn, resource, values)
    await audit.record(
        conn, caller, "create", resource.name, new_id, repository.summary(resource, values), request_id
    )
    return new_id


async def create(
    db: Database,
    resource: Resource,
    message: Message,
    caller: Caller,
    request_id: str,
    read: Reader,
    prepare: Callable[[AsyncConnection, dict[str, Any]], Awaitable[None]] | None = None,
) -> Any:
    """AIP-133 create: validate, insert and audit in one transaction, at most once per request_id.
    `prepare(conn, values)` runs first in that transaction (e.g. to check and copy from a parent)."""
    values = values_for_create(resource, message)

    async def insert(conn: AsyncConnection) -> uuid.UUID:
        if prepare:
            await prepare(conn, values)
        return await insert_audited(conn, resource, values, caller, request_id)

    return await create_once(db, f"Create{resource.title}", request_id, insert, read)


async def update(
    db: Database,
    resource: Resource,
    message: Message,
    mask_paths: Sequence[str],
    etag: str,
    caller: Caller,
    read: Reader,
    extra: Callable[[Mapping[str, Any], dict[str, Any]], None] | None = None,
) -> Any:
    """AIP-134 update: validate, lock the row, check the etag, write what changed, audit it.
    `extra(current, values)` may add derived columns (e.g. terminated_at with a status)."""
    resource_id = parse_uuid(getattr(message, "id"), f"{resource.name}.id")  # noqa: B009
    values = values_for_update(resource, message, list(mask_paths))
    async with db.transaction() as conn:
        current = await repository.lock_for_change(conn, resource, resource_id, etag)
        changes = repository.diff(resource, current, values)
        if changes:
            changed = {column: values[column] for column in changes}
            if extra:
                extra(current, changed)
            await repository.update_row(conn, resource, current, changed)
            await audit.record(conn, caller, "update", resource.name, resource_id, changes)
        return await read(conn, resource_id)


async def get(db: Database, read: Reader, resource: Resource, raw_id: str) -> Any:
    resource_id = parse_uuid(raw_id, "id")
    async with db.read() as conn:
        return await read(conn, resource_id)


def choice(value: str, allowed: Sequence[str], field: str) -> str:
    """A filter value from a vocabulary: a typo is an error, not an empty result."""
    if value and value not in allowed:
        raise InvalidArgument.field(
            field, f"must be one of {', '.join(a for a in allowed if a)} (got {value!r})"
        )
    return value


async def list_page(
    db: Database,
    query: Select[Any],
    columns: Mapping[str, ColumnElement[Any]],
    id_column: ColumnElement[Any],
    request: Any,
    default_order: str,
) -> tuple[Sequence[Mapping[str, Any]], str]:
    """One keyset page of `query` (already filtered) and the next page token."""
    filters = filters_of(request)
    size = pagination.page_size(request.page_size)
    order = pagination.parse_order_by(getattr(request, "order_by", ""), list(columns), default_order)
    paged = pagination.apply(
        query, columns[order.column], id_column, order, size, request.page_token, filters
    )
    async with db.read() as conn:
        rows = (await conn.execute(paged)).mappings().all()
    return pagination.next_token(rows, size, order.column, filters, order)


PAGING_FIELDS = ("page_size", "page_token", "order_by")


def filters_of(request: Message) -> dict[str, Any]:
    """Every filter of a List request (all its fields but paging), for the page token fingerprint:
    read from the message, so a filter added to the proto is bound to tokens without more code."""
    out: dict[str, Any] = {}
    for name in request.DESCRIPTOR.fields_by_name:
        if name in PAGING_FIELDS:
            continue
        value = getattr(request, name)
        if hasattr(value, "ToJsonString"):
            value = value.ToJsonString() if request.HasField(name) else ""
        elif not isinstance(value, (str, int, bool)):
            value = list(value)
        out[name] = value
    return out


async def deployment_history(conn: AsyncConnection, where: Any) -> list[dict[str, Any]]:
    """The deployments a forced delete removes, kept in its audit row: history is never lost silently."""
    d = schema.deployments
    rows = await conn.execute(
        select(
            d.c.id,
            d.c.release_id,
            d.c.environment,
            d.c.cluster,
            d.c.endpoint_url,
            d.c.status,
            d.c.deployed_at,
        )
        .where(where)
        .order_by(d.c.deployed_at)
    )
    return [json.loads(json.dumps(dict(row._mapping), default=str)) for row in rows]
