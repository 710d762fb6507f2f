"""One transaction per RPC, and what happens when the database is not there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catapult_server.db.engine import is_unavailable
from catapult_server.errors import DatabaseUnavailable


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed when the block ends — before the RPC
        replies, so a failed commit is an error to the client, never a silent success."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except Exception as error:
            if is_unavailable(error):
                raise DatabaseUnavailable() from error
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (one statement or a consistent few), no commit needed."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except Exception as error:
            if is_unavailable(error):
                raise DatabaseUnavailable() from error
            raise
