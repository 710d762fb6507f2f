"""The migrations against a real PostgreSQL: they apply, match the code's schema, and enforce
the design's constraints in the database itself."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from catapult_server.db import migrate
from tests.support.database import asyncpg_dsn, create_database, drop_database
from tests.support.paths import REPO, VENV_BIN
from tests.support.polling import eventually
from tests.support.servers import ServeProcess
from tests.support.stack import run_catapult

ALEMBIC = str(VENV_BIN / "alembic")


@pytest.fixture
async def empty_database(postgres_url: str) -> AsyncIterator[str]:
    url = await create_database(postgres_url, prefix="m")
    yield url
    await drop_database(postgres_url, url)


def alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CATAPULT_DATABASE_URL": database_url}
    return subprocess.run([ALEMBIC, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_upgrade_head_then_check_finds_no_drift(empty_database: str) -> None:
    upgraded = alembic(empty_database, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = alembic(empty_database, "check")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


async def test_serve_waits_for_the_schema_before_it_listens(empty_database: str, tmp_path: Path) -> None:
    """The migration Job of a rollout runs beside the new servers: they must not serve on the old
    schema meanwhile, nor crash. `catapult serve` says what it waits for, and serves once
    `catapult migrate` has run."""
    server = ServeProcess(empty_database, tmp_path / "serve.log")
    await server.start(wait=False)
    try:
        waiting = f"the schema is at no revision; this release needs {migrate.head_revision()}"
        await eventually(lambda: waiting in server.log.read_text(), within=60, what="no word of the wait")
        with pytest.raises(OSError):  # refused: not listening
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
        migrated = await asyncio.to_thread(run_catapult, "migrate", "--database-url", empty_database)
        assert migrated.returncode == 0, migrated.stderr
        await server.serving()
    finally:
        await server.stop()


def test_every_migration_says_why() -> None:
    for path in (REPO / "migrations" / "versions").glob("*.py"):
        assert "Why: " in path.read_text(), f"{path.name} lacks its one-line 'Why:'"


async def test_database_enforces_the_design_constraints(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
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


async def test_live_truth_migration_resolves_existing_data_and_goes_back(empty_database: str) -> None:
    """A database filled under the schema before live truth: several deployments live in one
    slot. The newest deployed_at stays live, the older ones are superseded in a chain, live_since
    is backfilled from deployed_at, versions get their sort keys; and the downgrades work."""
    before_live_truth = "8f58d567755d"
    upgraded = alembic(empty_database, "upgrade", before_live_truth)
    assert upgraded.returncode == 0, upgraded.stderr
    conn = await asyncpg.connect(asyncpg_dsn(empty_database))
    try:
        model = await conn.fetchval(
            "INSERT INTO models (name, storage_path) VALUES ('m', 's3://m/') RETURNING id"
        )
        releases = {
            version: await conn.fetchval(
                "INSERT INTO releases (image_id, version) VALUES ($1, $2) RETURNING id", model, version
            )
            for version in ("1.0.0", "10.0.0", "2.0.0-rc.1", "nightly")
        }

        async def deploy(name: str, status: str, day: int, endpoint: str = "", cluster: str = "") -> None:
            ids[name] = await conn.fetchval(
                "INSERT INTO deployments (release_id, model_id, environment, endpoint_url, cluster, status,"
                " deployed_at) VALUES ($1, $2, 'production', $3, $4, $5,"
                " '2026-01-01'::timestamptz + $6 * interval '1 day') RETURNING id",
                releases["1.0.0"],
                model,
                endpoint,
                cluster,
                status,
                day,
            )

        ids: dict[str, Any] = {}
        for name, day in (("oldest", 1), ("newest", 3), ("middle", 2)):  # recorded out of order
            await deploy(name, "success", day, endpoint="https://e/1")
        await deploy("elsewhere", "success", 1, endpoint="https://e/2")
        await deploy("placed_old", "success", 1, cluster="k8s")
        await deploy("placed_new", "success", 2, cluster="k8s")
        await deploy("gone", "terminated", 1, endpoint="https://e/3")
        await deploy("broken", "failed", 1, endpoint="https://e/4")
    finally:
        await conn.close()

    upgraded = alembic(empty_database, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    conn = await asyncpg.connect(asyncpg_dsn(empty_database))
    try:
        rows = {
            row["id"]: row
            for row in await conn.fetch(
                "SELECT id, status, deployed_at, terminated_at, live_since, replaces_id, superseded_by_id"
                " FROM deployments"
            )
        }
        by = {name: rows[deployment_id] for name, deployment_id in ids.items()}
        assert [by[n]["status"] for n in ("oldest", "middle", "newest")] == [
            "terminated",
            "terminated",
            "success",
        ]
        assert (by["oldest"]["superseded_by_id"], by["middle"]["superseded_by_id"]) == (
            ids["middle"],
            ids["newest"],
        )
        assert (by["newest"]["replaces_id"], by["middle"]["replaces_id"]) == (ids["middle"], ids["oldest"])
        assert by["oldest"]["terminated_at"] == by["middle"]["deployed_at"], (
            "superseded when the next went live"
        )
        assert by["elsewhere"]["status"] == "success", "another endpoint is another slot"
        assert (by["placed_old"]["status"], by["placed_new"]["status"]) == ("terminated", "success")
        for name in ("oldest", "newest", "gone", "elsewhere"):
            assert by[name]["live_since"] == by[name]["deployed_at"], name
        assert by["broken"]["live_since"] is None and by["broken"]["status"] == "failed"
        ordered = await conn.fetch("SELECT version FROM releases ORDER BY version_key")
        assert [row["version"] for row in ordered] == ["1.0.0", "2.0.0-rc.1", "10.0.0", "nightly"]
        insert = (
            "INSERT INTO deployments (release_id, model_id, environment, endpoint_url)"
            " VALUES ($1, $2, 'qa', 'x') RETURNING status"
        )
        status = await conn.fetchval(insert, releases["nightly"], model)
        assert status == "success", "a new deployment is live by default"
        with pytest.raises(asyncpg.UniqueViolationError):  # one live deployment per slot, in the database too
            await conn.execute(insert, releases["nightly"], model)
    finally:
        await conn.close()

    downgraded = alembic(empty_database, "downgrade", before_live_truth)  # every later revision, one by one
    assert downgraded.returncode == 0, downgraded.stderr
    conn = await asyncpg.connect(asyncpg_dsn(empty_database))
    try:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'deployments'"
        )
        assert "live_since" not in {row["column_name"] for row in columns}
    finally:
        await conn.close()
