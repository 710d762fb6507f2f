"""The create, read and update steps most resources share. Each function is one RPC's whole
transaction, or one step of it that a service composes in its own."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

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
        new_id = await insert_audited(tx, resource, values, caller, request_id)
        await idempotency.bind(tx, caller, request_id, new_id)
        return Created(await repository.read(tx, resource, new_id), is_new=True)


async def insert_audited(
    tx: AsyncConnection, resource: Resource[Any], values: Mapping[str, Any], caller: Caller, request_id: str
) -> uuid.UUID:
    """Insert the row and its audit row ("create", with a summary of the values)."""
    new_id = await repository.insert(tx, resource, values)
    await audit.record(tx, caller, "create", resource, new_id, resource.summary(values), request_id)
    return new_id


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
        await apply_update(tx, resource, current, values, caller)
        return await repository.read(tx, resource, resource_id)


async def apply_update(
    tx: AsyncConnection,
    resource: Resource[Any],
    current: Row,
    values: Mapping[str, Any],
    caller: Caller,
    derived: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the values that differ from `current` (plus `derived`, columns the server sets
    along with them) and audit the change; nothing when nothing differs. The changes."""
    changes = repository.diff(resource, current, values)
    if changes:
        written = {column: values[column] for column in changes}
        written |= resource.derived_values(written) | dict(derived or {})
        await repository.update(tx, resource, current, written)
        await audit.record(tx, caller, "update", resource, current["id"], changes)
    return changes
