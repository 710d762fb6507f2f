"""API keys: created by admins (or the `catapult` CLI against the database), revoked, listed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from catapult.v1 import api_key_pb2, api_key_service_pb2, error_reason_pb2
from catapult_server import audit, auth, repository
from catapult_server.auth import CLI_CALLER, Caller
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.errors import FailedPrecondition, InvalidArgument, NotFound
from catapult_server.listing import Listing, unless_true
from catapult_server.resources import API_KEY, now
from catapult_server.services import crud

k = API_KEY.table

LISTING = Listing(
    api_key_service_pb2.ListApiKeysRequest,
    api_key_service_pb2.ListApiKeysResponse,
    API_KEY,
    filters={"include_revoked": unless_true(k.c.revoked_at.is_(None))},
    order_columns={"created_at": k.c.created_at},
    fixed_order="created_at desc",
)


@dataclass
class CreatedKey:
    api_key: api_key_pb2.ApiKey
    secret: str  # "" when a retried request_id returns an existing key: the secret is not stored


async def create(
    db: Database, pepper: str, caller: Caller, request: api_key_service_pb2.CreateApiKeyRequest
) -> CreatedKey:
    values = API_KEY.values_for_create(request.api_key)
    if values.get("expires_at") is not None and values["expires_at"] <= now():
        raise InvalidArgument.field("api_key.expires_at", "must be in the future")
    secret, prefix = auth.new_key()
    values.update(prefix=prefix, key_hash=auth.key_hash(pepper, secret), created_by=caller.key_name)
    created = await crud.create(db, API_KEY, values, caller, request)
    return CreatedKey(created.resource, secret if created.is_new else "")


async def revoke(
    db: Database, caller: Caller, request: api_key_service_pb2.RevokeApiKeyRequest
) -> api_key_pb2.ApiKey:
    key_id = uuid.UUID(request.id)
    async with db.transaction() as tx:
        # Every usable admin key locked, in one order: two admins revoking each other at once
        # take turns, and the second sees that it would remove the last one.
        admins = (
            (
                await tx.execute(
                    select(k.c.id).where(k.c.role == "admin", *_usable()).order_by(k.c.id).with_for_update()
                )
            )
            .scalars()
            .all()
        )
        if list(admins) == [key_id]:
            raise FailedPrecondition(
                error_reason_pb2.LAST_ADMIN_KEY,
                f"API key {key_id} is the last active admin key: create another admin key first "
                "(catapult api-key create --role admin), then revoke this one",
            )
        revoked = await tx.scalar(
            update(k)
            .where(k.c.id == key_id, k.c.revoked_at.is_(None))
            .values(revoked_at=now())
            .returning(k.c.id)
        )
        key = await repository.read(tx, API_KEY, key_id)
        if revoked is not None:
            await audit.record(tx, caller, "revoke", API_KEY, key_id, {}, snapshot=key)
        return key


def _usable() -> list[Any]:
    """A key that authenticates: not revoked, not expired."""
    return [k.c.revoked_at.is_(None), or_(k.c.expires_at.is_(None), k.c.expires_at > func.now())]


async def any_exist(db: Database) -> bool:
    """Whether any key was ever created (a new stack has none, and gets a bootstrap admin key)."""
    async with db.read() as conn:
        return bool(await conn.scalar(select(k.c.id).limit(1)))


async def find(db: Database, key: str) -> uuid.UUID:
    """The id of the key named by its id, name or public prefix (the CLI's way to name one)."""
    try:
        by_id = [k.c.id == uuid.UUID(key)]
    except ValueError:
        by_id = []
    async with db.read() as conn:
        found: uuid.UUID | None = await conn.scalar(
            select(k.c.id).where(or_(k.c.name == key, k.c.prefix == key, *by_id))
        )
    if found is None:
        raise NotFound("ApiKey", key, field="key")
    return found


async def create_key_directly(
    settings: Settings,
    name: str,
    role: str = "writer",
    expires_at: datetime | None = None,
    caller: Caller = CLI_CALLER,
) -> CreatedKey:
    """Create a key straight in the database: the CLI's `api-key create` and the bootstrap key."""
    key = api_key_pb2.ApiKey(name=name, role=role)
    if expires_at is not None:
        key.expires_at.FromDatetime(expires_at)
    async with Database.open(settings) as db:
        return await create(
            db, settings.key_pepper, caller, api_key_service_pb2.CreateApiKeyRequest(api_key=key)
        )
