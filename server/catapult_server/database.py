"""One transaction per RPC, and what happens when the database is not there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catapult_server.config import Settings
from catapult_server.db.engine import create_engine, is_unavailable
from catapult_server.errors import DatabaseUnavailable


class Database:
    """The server's database: its engine, and the one way RPCs open connections on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Reads run in autocommit: no BEGIN/ROLLBACK round trips around a single SELECT.
        # Same pool, other execution options.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed when the block ends — before the RPC
        replies, so a failed commit is an error to the client, never a silent success."""
        async with _reachable(self.engine.begin()) as conn:
            yield conn

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Database]:
        """A Database for a one-off command (the CLI), its engine disposed of afterwards."""
        engine = create_engine(settings)
        try:
            yield cls(engine)
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads, in autocommit: each statement sees the latest committed data.
        Reads that must agree with each other go in transaction() instead."""
        async with _reachable(self.autocommit.connect()) as conn:
            yield conn


@asynccontextmanager
async def _reachable(
    connection: AbstractAsyncContextManager[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    """A lost or refused database connection becomes DatabaseUnavailable (UNAVAILABLE)."""
    try:
        async with connection as conn:
            yield conn
    except Exception as error:
        if is_unavailable(error):
            raise DatabaseUnavailable() from error
        raise
