"""AIP-155 request ids. A create claims its request_id first thing in its transaction and binds
it to what it created last thing; a retry (or a concurrent duplicate, which waits on the first
one's row lock) finds the claim and gets the original resource back instead of a second one.

A request_id belongs to the key that sends it: two keys may use the same id without meeting.
The claim keeps a hash of the request, so the same id sent with a different request is refused
(REQUEST_ID_REUSED) instead of silently answered with the first one's result.

The request_id may also come as an `idempotency-key` header (metadata): REST clients send it
there, and Envoy retries a create that carries the header on another server (envoy/routes.py),
which is safe only because the server then deduplicates by it. So a header without a request_id
becomes the request_id, and a header that differs from the request_id is refused."""

from __future__ import annotations

import hashlib
import uuid

from google.protobuf.message import Message
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from catapult_server import headers
from catapult_server.auth import Caller
from catapult_server.db import schema
from catapult_server.errors import InvalidArgument, RequestIdReused

t = schema.idempotency_keys

REQUEST_ID = "request_id"
HEADER = headers.IDEMPOTENCY_KEY


def adopt_header(request: Message, metadata: dict[str, str]) -> None:
    """Make the create's request_id the `idempotency-key` header's value, if it has one."""
    key = metadata.get(HEADER, "")
    if not key:
        return
    request_id: str = getattr(request, REQUEST_ID)
    if not request_id:
        setattr(request, REQUEST_ID, key)
    elif request_id != key:
        raise InvalidArgument.field(
            REQUEST_ID, f"differs from the {HEADER} header; send one value, or the same in both"
        )


def _scope(caller: Caller) -> str:
    return str(caller.key_id) if caller.key_id is not None else "cli"


def _fingerprint(request: Message) -> bytes:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).digest()


# The values go as parameters: the compiled statement is found in SQLAlchemy's cache as is.
_CLAIM = (
    insert(t).on_conflict_do_nothing(index_elements=[t.c.scope, t.c.request_id]).returning(t.c.request_id)
)


async def claim(tx: AsyncConnection, caller: Caller, method: str, request: Message) -> uuid.UUID | None:
    """Claim the request's request_id for this call of `method`. Returns None when this call is
    the first with it (go on and create), or the id of what an earlier identical call created."""
    request_id: str = getattr(request, "request_id")  # noqa: B009 - every create request has one
    if not request_id:
        return None
    scope, fingerprint = _scope(caller), _fingerprint(request)
    claimed = await tx.scalar(
        _CLAIM,
        {"scope": scope, "request_id": request_id, "method": method, "request_hash": fingerprint},
    )
    if claimed is not None:
        return None
    earlier = (
        await tx.execute(
            select(t.c.method, t.c.request_hash, t.c.resource_id).where(
                t.c.scope == scope, t.c.request_id == request_id
            )
        )
    ).one()
    same_request = earlier.request_hash in (fingerprint, b"")  # b"": a claim older than hashes
    if earlier.method != method or not same_request or earlier.resource_id is None:
        raise RequestIdReused(earlier.method, same_method=earlier.method == method)
    earlier_id: uuid.UUID = earlier.resource_id
    return earlier_id


async def bind(tx: AsyncConnection, caller: Caller, request_id: str, resource_id: uuid.UUID) -> None:
    """Record what the call that claimed `request_id` created."""
    if request_id:
        await tx.execute(
            update(t)
            .where(t.c.scope == _scope(caller), t.c.request_id == request_id)
            .values(resource_id=resource_id)
        )


async def prune(tx: AsyncConnection, older_than_hours: float) -> int:
    """Forget claims older than the retention period; how many went."""
    cutoff = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_hours * 3600)
    result = await tx.execute(delete(t).where(t.c.created_at < cutoff))
    return int(result.rowcount)
