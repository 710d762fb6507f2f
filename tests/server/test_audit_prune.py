"""audit_logs.prune: deletes the audit rows older than a moment, batch by batch, and records
itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from catapult_server.auth import CLI_CALLER
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import InvalidArgument
from catapult_server.services import audit_logs

t = schema.audit_logs


async def add_rows(db: Database, created_at: datetime, count: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            insert(t),
            [
                {
                    "action": "create",
                    "resource_type": "model",
                    "resource_id": uuid.uuid4(),
                    "changes": {},
                    "created_at": created_at,
                }
                for _ in range(count)
            ],
        )


async def rows(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return [dict(row._mapping) for row in await conn.execute(select(t).order_by(t.c.created_at))]


async def test_prune_deletes_the_older_rows_in_batches_and_records_itself(settings: Settings) -> None:
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=30)
    async with Database.open(settings) as db:
        await add_rows(db, now - timedelta(days=90), 7)
        await add_rows(db, cutoff - timedelta(microseconds=1), 1)
        await add_rows(db, cutoff, 2)  # not before the cutoff: kept
        await add_rows(db, now - timedelta(days=1), 3)

        deleted = await audit_logs.prune(db, CLI_CALLER, cutoff, batch=3)  # 3 + 3 + 2

        assert deleted == 8
        left = await rows(db)
        assert [row["created_at"] >= cutoff for row in left] == [True] * 6
        (pruned,) = [row for row in left if row["action"] == "prune"]
        assert pruned["resource_type"] == "audit_log"
        assert pruned["api_key_name"] == "catapult-cli" and pruned["api_key_id"] is None
        assert pruned["changes"] == {"before": cutoff.isoformat(), "deleted": 8}
        async with db.read() as conn:
            others = await conn.scalar(select(func.count()).where(t.c.resource_id == pruned["resource_id"]))
        assert others == 1, "a fresh resource id: the prune is its own resource"

        assert await audit_logs.prune(db, CLI_CALLER, cutoff) == 0, "nothing older is left"
        assert len([row for row in await rows(db) if row["action"] == "prune"]) == 2, "recorded all the same"


async def test_prune_refuses_a_moment_in_the_future(settings: Settings) -> None:
    async with Database.open(settings) as db:
        await add_rows(db, datetime.now(UTC), 1)
        with pytest.raises(InvalidArgument) as refused:
            await audit_logs.prune(db, CLI_CALLER, datetime.now(UTC) + timedelta(hours=1))
        assert refused.value.violations[0].field == "before"
        assert len(await rows(db)) == 1
