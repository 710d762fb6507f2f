"""Databases on the test PostgreSQL server: created (empty, or cloned from the migrated template)
and dropped by name."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

# The database the real migrations are applied to once per session; each test gets a clone.
TEMPLATE_DB = "catapult_template"

T = TypeVar("T")


def with_database(url: str, database: str) -> str:
    """The same server URL, pointing at another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://…) as asyncpg.connect takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(postgres_url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(
    postgres_url: str, prefix: str = "t", template: str | None = None, name: str | None = None
) -> str:
    """A new database (a copy of `template`, or empty) on postgres_url's server; its URL."""
    name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    await _admin(postgres_url, f'CREATE DATABASE "{name}"{clone}')
    return with_database(postgres_url, name)


async def drop_database(postgres_url: str, database_url: str) -> None:
    """Drop the database of database_url, disconnecting whoever is still connected."""
    name = make_url(database_url).database
    await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end from synchronous code, in a thread of its own: the calling thread
    may already run an event loop (Playwright's sync API keeps one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
