"""SQL shared by the resources: insert, read, update with an etag check, delete. These run
inside the caller's transaction (an AsyncConnection from engine.begin()); they flush nothing
and commit nothing. Driver errors become domain errors here and nowhere else."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, delete, exc, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server.db.engine import (
    CHECK_VIOLATION,
    FOREIGN_KEY_VIOLATION,
    UNIQUE_VIOLATION,
    constraint_name,
    sqlstate,
)
from catapult_server.errors import AlreadyExists, EtagMismatch, InvalidArgument, NotFound
from catapult_server.resources import Resource, revision_of

Row = Mapping[Any, Any]

# Which unique constraint means what, for the ALREADY_EXISTS message.
UNIQUE_KEYS = {
    "uq_models_name": "this name",
    "uq_releases_image_id_version_quantization": "this model, version and quantization",
    "uq_api_keys_name": "this name",
}
# Which foreign key names which missing parent, for the NOT_FOUND error.
PARENTS = {
    "fk_releases_image_id_models": ("Model", "image_id"),
    "fk_artifacts_release_id_releases": ("Release", "release_id"),
    "fk_deployments_release_id_releases": ("Release", "release_id"),
    "fk_deployments_model_id_models": ("Model", "model_id"),
}


def translate(error: exc.DBAPIError, resource: Resource, values: Mapping[str, Any]) -> Exception:
    """A constraint violation as the domain error a client understands; anything else unchanged."""
    state = sqlstate(error)
    name = constraint_name(error)
    if state == UNIQUE_VIOLATION:
        return AlreadyExists(resource.title, UNIQUE_KEYS.get(name, "the same unique key"))
    if state == FOREIGN_KEY_VIOLATION and name in PARENTS:
        parent, field = PARENTS[name]
        return NotFound(parent, str(values.get(field, "")), field=f"{resource.name}.{field}")
    if state == CHECK_VIOLATION:
        return InvalidArgument.field(resource.name, f"violates the rule {name}")
    return error


async def insert_row(conn: AsyncConnection, resource: Resource, values: Mapping[str, Any]) -> uuid.UUID:
    try:
        new_id: uuid.UUID | None = await conn.scalar(
            insert(resource.table).values(**values).returning(resource.table.c.id)
        )
    except exc.DBAPIError as error:
        raise translate(error, resource, values) from error
    assert new_id is not None
    return new_id


async def fetch_one(
    conn: AsyncConnection, query: Select[Any], resource: Resource, resource_id: uuid.UUID
) -> Row:
    row: Row | None = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(resource.title, str(resource_id))
    return row


async def lock_for_change(
    conn: AsyncConnection, resource: Resource, resource_id: uuid.UUID, etag: str
) -> Row:
    """The current row, locked until the transaction ends, after checking the caller's etag."""
    t = resource.table
    row = await fetch_one(
        conn, select(t).where(t.c.id == resource_id).with_for_update(), resource, resource_id
    )
    if etag and revision_of(etag) != row["revision"]:
        raise EtagMismatch(resource.title, str(resource_id))
    return row


def diff(resource: Resource, current: Row, values: Mapping[str, Any]) -> dict[str, Any]:
    """{column: {"old": …, "new": …}} for the values that change; immutable fields must match."""
    changes: dict[str, Any] = {}
    for spec in resource.fields:
        if spec.col not in values or values[spec.col] == current[spec.col]:
            continue
        if spec.immutable:
            raise InvalidArgument.field(f"{resource.name}.{spec.name}", "cannot change after creation")
        changes[spec.col] = {"old": _jsonable(current[spec.col]), "new": _jsonable(values[spec.col])}
    return changes


def _jsonable(value: Any) -> Any:
    if isinstance(value, (uuid.UUID,)):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def update_row(
    conn: AsyncConnection, resource: Resource, current: Row, values: Mapping[str, Any]
) -> None:
    """Write changed values and bump the revision (so the etag changes)."""
    t = resource.table
    statement = (
        update(t)
        .where(t.c.id == current["id"], t.c.revision == current["revision"])
        .values(**values, revision=t.c.revision + 1, updated_at=func.now())
    )
    try:
        result = await conn.execute(statement)
    except exc.DBAPIError as error:
        raise translate(error, resource, values) from error
    if result.rowcount != 1:  # cannot happen under the row lock; kept as a guard
        raise EtagMismatch(resource.title, str(current["id"]))


async def delete_rows(conn: AsyncConnection, resource: Resource, *where: Any) -> int:
    result = await conn.execute(delete(resource.table).where(*where))
    return int(result.rowcount)


def summary(resource: Resource, values: Mapping[str, Any]) -> dict[str, Any]:
    """What a create set, for the audit log (metadata and long text left out)."""
    return {
        key: _jsonable(value)
        for key, value in values.items()
        if key not in ("metadata", "description", "release_notes") and value not in ("", None, [], {})
    }
