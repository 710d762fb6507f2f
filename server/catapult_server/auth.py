"""API keys: how they are made, stored (only an HMAC) and checked on every request.

A key reads `ctp_<8 public chars>_<43 secret chars>`. The public prefix finds the row; the
HMAC-SHA256 of the whole key under a server-side pepper is compared in constant time.
Random 256-bit keys need no slow password hash: the pepper keeps a stolen table useless.

Lookups are cached per process for KEY_CACHE_SECONDS, which bounds how long a revoked key
keeps working. last_used_at is collected in memory and flushed in one UPDATE every
`last_used_flush_seconds`, not written on every request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update

from catapult.v1 import error_reason_pb2
from catapult_server.config import KEY_CACHE_SECONDS
from catapult_server.db import schema
from catapult_server.errors import PermissionDenied, Unauthenticated

if TYPE_CHECKING:
    from catapult_server.database import Database

log = logging.getLogger(__name__)

KEY_PREFIX = "ctp_"
PUBLIC_LEN = 8


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's identity and role, and the peer for the audit log."""

    key_id: uuid.UUID | None
    key_name: str
    role: str
    peer: str = ""

    def require_write(self) -> None:
        if self.role not in ("writer", "admin"):
            raise PermissionDenied(f"the {self.role} key {self.key_name!r} cannot change the registry")

    def require_admin(self) -> None:
        if self.role != "admin":
            raise PermissionDenied(f"managing API keys needs an admin key; {self.key_name!r} is {self.role}")


# The `catapult` CLI acting on the database directly (bootstrap, api-key commands).
CLI_CALLER = Caller(key_id=None, key_name="catapult-cli", role="admin", peer="local")


def new_key() -> tuple[str, str]:
    """(full key, public prefix)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    public = "".join(secrets.choice(alphabet) for _ in range(PUBLIC_LEN))
    prefix = KEY_PREFIX + public
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_hash(pepper: str, key: str) -> bytes:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class _StoredKey:
    id: uuid.UUID
    name: str
    role: str
    key_hash: bytes
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyStore:
    """Authenticates keys against the api_keys table, with a short per-process cache."""

    def __init__(self, db: Database, pepper: str, flush_seconds: float) -> None:
        self._db = db
        self._pepper = pepper
        self._flush_seconds = flush_seconds
        self._cache: dict[str, tuple[float, _StoredKey | None]] = {}
        self._used: dict[uuid.UUID, datetime] = {}
        self._flusher: asyncio.Task[None] | None = None

    async def authenticate(self, key: str, peer: str) -> Caller:
        if not key:
            raise Unauthenticated(
                error_reason_pb2.API_KEY_MISSING,
                "an API key is required: send it as `x-api-key` (or `authorization: Bearer <key>`)",
            )
        prefix_len = len(KEY_PREFIX) + PUBLIC_LEN
        well_formed = key.startswith(KEY_PREFIX) and key[prefix_len : prefix_len + 1] == "_"
        stored = await self._lookup(key[:prefix_len]) if well_formed else None
        presented = key_hash(self._pepper, key)
        # Compare even when nothing was found, so timing does not tell which prefixes exist.
        expected = stored.key_hash if stored else bytes(32)
        if not hmac.compare_digest(presented, expected) or stored is None:
            raise Unauthenticated(error_reason_pb2.API_KEY_INVALID, "the API key is not valid")
        if stored.revoked_at is not None:
            raise Unauthenticated(
                error_reason_pb2.API_KEY_REVOKED, f"the API key {stored.name!r} was revoked"
            )
        current = datetime.now(UTC)
        if stored.expires_at is not None and stored.expires_at <= current:
            raise Unauthenticated(
                error_reason_pb2.API_KEY_EXPIRED, f"the API key {stored.name!r} has expired"
            )
        self._used[stored.id] = current
        return Caller(key_id=stored.id, key_name=stored.name, role=stored.role, peer=peer)

    async def _lookup(self, prefix: str) -> _StoredKey | None:
        cached = self._cache.get(prefix)
        if cached is not None and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        t = schema.api_keys
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(t.c.id, t.c.name, t.c.role, t.c.key_hash, t.c.expires_at, t.c.revoked_at).where(
                        t.c.prefix == prefix
                    )
                )
            ).first()
        stored = _StoredKey(*row) if row else None
        if len(self._cache) > 10_000:  # unknown prefixes must not grow the cache without bound
            self._cache.clear()
        self._cache[prefix] = (time.monotonic(), stored)
        return stored

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever(), name="api-key-last-used")

    async def stop(self) -> None:
        if self._flusher:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.flush()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def flush(self) -> None:
        """Write the collected last_used_at times in one statement."""
        if not self._used:
            return
        used, self._used = self._used, {}
        t = schema.api_keys
        statement = update(t).where(t.c.id == bindparam("key_id")).values(last_used_at=bindparam("used_at"))
        try:
            async with self._db.transaction() as conn:
                await conn.execute(statement, [{"key_id": k, "used_at": v} for k, v in used.items()])
        except Exception:
            log.warning("could not record API keys' last use; will retry", exc_info=True)
            for key_id, used_at in used.items():
                self._used.setdefault(key_id, used_at)
