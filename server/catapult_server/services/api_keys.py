"""API keys: created by admins (or the `catapult` CLI against the database), revoked, listed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult.v1 import api_key_pb2, api_key_service_pb2
from catapult_server import audit, auth, repository
from catapult_server.auth import CLI_CALLER, Caller
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import InvalidArgument
from catapult_server.idempotency import create_once
from catapult_server.resources import API_KEY, now, parse_uuid, to_proto, values_for_create
from catapult_server.services import crud

k = schema.api_keys
ORDER_COLUMNS = {"created_at": k.c.created_at}


async def read(conn: AsyncConnection, key_id: uuid.UUID) -> api_key_pb2.ApiKey:
    row = await repository.fetch_one(conn, select(k).where(k.c.id == key_id), API_KEY, key_id)
    return to_proto(API_KEY, row, prefix=row["prefix"], created_by=row["created_by"])  # type: ignore[no-any-return]


@dataclass
class CreatedKey:
    api_key: api_key_pb2.ApiKey
    secret: str  # "" when a retried request_id returns an existing key


async def create(
    db: Database, pepper: str, caller: Caller, request: api_key_service_pb2.CreateApiKeyRequest
) -> CreatedKey:
    values = values_for_create(API_KEY, request.api_key)
    if values.get("expires_at") is not None and values["expires_at"] <= now():
        raise InvalidArgument.field("api_key.expires_at", "must be in the future")
    secret, prefix = auth.new_key()
    values.update(prefix=prefix, key_hash=auth.key_hash(pepper, secret), created_by=caller.key_name)
    created_here: list[uuid.UUID] = []

    async def insert(conn: AsyncConnection) -> uuid.UUID:
        summary = {"name": values["name"], "role": values.get("role", "writer"), "prefix": prefix}
        new_id = await repository.insert_row(conn, API_KEY, values)
        await audit.record(conn, caller, "create", "api_key", new_id, summary, request.request_id)
        created_here.append(new_id)
        return new_id

    key = await create_once(db, "CreateApiKey", request.request_id, insert, read)
    # The secret exists only in this call; a retry gets the key without it (it is not stored).
    return CreatedKey(key, secret if created_here else "")


async def list_keys(
    db: Database, request: api_key_service_pb2.ListApiKeysRequest
) -> api_key_service_pb2.ListApiKeysResponse:
    query = select(k)
    if not request.include_revoked:
        query = query.where(k.c.revoked_at.is_(None))
    rows, token = await crud.list_page(db, query, ORDER_COLUMNS, k.c.id, request, "created_at desc")
    keys = [to_proto(API_KEY, row, prefix=row["prefix"], created_by=row["created_by"]) for row in rows]
    return api_key_service_pb2.ListApiKeysResponse(api_keys=keys, next_page_token=token)


async def revoke(
    db: Database, caller: Caller, request: api_key_service_pb2.RevokeApiKeyRequest
) -> api_key_pb2.ApiKey:
    key_id = parse_uuid(request.id, "id")
    async with db.transaction() as conn:
        revoked = await conn.scalar(
            update(k)
            .where(k.c.id == key_id, k.c.revoked_at.is_(None))
            .values(revoked_at=now())
            .returning(k.c.id)
        )
        if revoked is not None:
            await audit.record(conn, caller, "revoke", "api_key", key_id, {})
        return await read(conn, key_id)


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
