"""The create, read and update steps most resources share. Each function is one RPC's whole
transaction, or one step of it that a service composes in its own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from catapult_server import audit, idempotency, repository
from catapult_server.auth import Caller
from catapult_server.database import Database
from catapult_server.resources import M, Resource, Row


@dataclass(frozen=True)
class Created(Generic[M]):
    resource: M
    # False when a retried request_id returned what an earlier call created.
    is_new: bool


async def create(
    db: Database, resource: Resource[M], values: Mapping[str, Any], caller: Caller, request: Message
) -> Created[M]:
    """AIP-133 create in one transaction, at most once per request_id (AIP-155)."""
    request_id: str = getattr(request, "request_id")  # noqa: B009 - every create request has one
    async with db.transaction() as tx:
        earlier = await idempotency.claim(tx, caller, f"Create{resource.title}", request)
        if earlier is not None:
            return Created(await repository.read(tx, resource, earlier), is_new=False)
        created = await insert_audited(tx, resource, values, caller, request_id)
        await idempotency.bind(tx, caller, request_id, uuid.UUID(getattr(created, "id")))  # noqa: B009
        return Created(created, is_new=True)


async def insert_audited(
    tx: AsyncConnection,
    resource: Resource[M],
    values: Mapping[str, Any],
    caller: Caller,
    request_id: str,
    joined: Mapping[str, Any] | None = None,
) -> M:
    """Insert the row and its audit row ("create", with a summary of the values); the resource.
    It is built from the inserted row, with `joined` (the fields its query joins from other
    tables) when the caller read them already; otherwise it is read back."""
    row = await repository.insert(tx, resource, values)
    new_id: uuid.UUID = row["id"]
    if resource.joined and joined is None:
        created = await repository.read(tx, resource, new_id)
    else:
        created = resource.to_proto({**row, **(joined or {})})
    summary = resource.summary(values)
    await audit.record(tx, caller, "create", resource, new_id, summary, request_id, snapshot=created)
    return created


async def get(db: Database, resource: Resource[M], resource_id: str) -> M:
    """The resource by id (the id's form was validated against the request's rules)."""
    async with db.read() as conn:
        return await repository.read(conn, resource, uuid.UUID(resource_id))


async def update(
    db: Database, resource: Resource[M], message: Message, mask: list[str], etag: str, caller: Caller
) -> M:
    """AIP-134 update: lock the row, check the etag, write what changed, audit it."""
    resource_id = uuid.UUID(getattr(message, "id"))  # noqa: B009 - every resource has an id
    values = resource.values_for_update(message, mask)
    async with db.transaction() as tx:
        current = await repository.lock_for_change(tx, resource, resource_id, etag)
        return await apply_update(tx, resource, current, values, caller)


async def apply_update(
    tx: AsyncConnection,
    resource: Resource[M],
    current: Row,
    values: Mapping[str, Any],
    caller: Caller,
    derived: Mapping[str, Any] | None = None,
) -> M:
    """Write the values that differ from `current` (plus `derived`, columns the server sets
    along with them) and audit the change; nothing when nothing differs. The resource after."""
    changes = repository.diff(resource, current, values)
    if changes:
        written = {column: values[column] for column in changes}
        written |= resource.derived_values(written) | dict(derived or {})
        await repository.update(tx, resource, current, written)
    after = await repository.read(tx, resource, current["id"])
    if changes:
        await audit.record(tx, caller, "update", resource, current["id"], changes, snapshot=after)
    return after


async def delete_audited(
    tx: AsyncConnection,
    caller: Caller,
    resource: Resource[Any],
    where: ColumnElement[bool],
    changes: Mapping[str, Any] | None = None,
) -> list[Row]:
    """Delete the resources matching `where`, each with a "delete" audit row holding what it was
    (a watcher's "deleted" event); the rows that went, as they were."""
    rows = list((await tx.execute(resource.query.where(where))).mappings())
    await repository.delete(tx, resource, where)
    for row in rows:
        item = resource.to_proto(row)
        item_id = uuid.UUID(getattr(item, "id"))  # noqa: B009 - every resource has an id
        await audit.record(tx, caller, "delete", resource, item_id, dict(changes or {}), snapshot=item)
    return rows
