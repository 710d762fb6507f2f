"""The migrations against a real PostgreSQL: they apply, match the code's schema, and enforce
the design's constraints in the database itself."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).parent.parent
ALEMBIC = str(Path(sys.executable).parent / "alembic")


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def empty_database(postgres_url: str) -> str:
    from sqlalchemy.engine import make_url

    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_dsn(postgres_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CATAPULT_DATABASE_URL": database_url}
    return subprocess.run([ALEMBIC, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_upgrade_head_then_check_finds_no_drift(empty_database: str) -> None:
    upgraded = alembic(empty_database, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = alembic(empty_database, "check")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_every_migration_says_why() -> None:
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        assert "Why: " in path.read_text(), f"{path.name} lacks its one-line 'Why:'"


async def test_database_enforces_the_design_constraints(database_url: str) -> None:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        model_id = await conn.fetchval(
            "INSERT INTO models (name, storage_path) VALUES ('m', 's3://m/') RETURNING id"
        )
        await conn.execute("INSERT INTO releases (image_id, version) VALUES ($1, '1.0')", model_id)
        # Empty quantization is a value, not NULL: a second (model, "1.0", "") is a duplicate.
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute("INSERT INTO releases (image_id, version) VALUES ($1, '1.0')", model_id)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute("INSERT INTO models (name, storage_path) VALUES ('m', 's3://other/')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO releases (image_id, version, status) VALUES ($1, '2.0', 'retired')", model_id
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("INSERT INTO releases (image_id, version) VALUES (gen_random_uuid(), '1.0')")
        types = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'"
        )
        assert types == [], "timestamptz everywhere"
    finally:
        await conn.close()
