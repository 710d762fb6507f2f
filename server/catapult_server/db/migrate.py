"""Apply the alembic migrations in migrations/ programmatically (`catapult migrate`, `catapult up`),
and wait for them (`catapult serve`)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

log = logging.getLogger("catapult")

REPO_ROOT = Path(__file__).resolve().parents[3]


def migrations_dir() -> Path:
    """migrations/ of the source tree (or CATAPULT_MIGRATIONS_DIR in an unusual install)."""
    path = Path(os.environ.get("CATAPULT_MIGRATIONS_DIR", REPO_ROOT / "migrations"))
    if not (path / "env.py").exists():
        raise FileNotFoundError(f"no alembic migrations at {path}; set CATAPULT_MIGRATIONS_DIR")
    return path


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. Blocking: call from a thread inside an event loop."""
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str:
    """The newest revision the code knows."""
    head = _revisions().get_current_head()
    return head or ""


def _revisions() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused"))


async def schema_revision(database_url: str) -> str | None:
    """The database's schema revision; None for a database no migration has run on."""
    engine = create_async_engine(database_url, poolclass=pool.NullPool, connect_args={"timeout": 5})
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
            if not exists:
                return None
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision else None
    finally:
        await engine.dispose()


# How often `catapult serve` looks again while it waits for the schema, and says why it waits.
SCHEMA_POLL_SECONDS = 2.0
SCHEMA_REPORT_SECONDS = 30.0


async def wait_for_schema(database_url: str) -> str:
    """Until the database answers with the schema this release needs (`catapult migrate` brings it
    there: in Kubernetes the migration Job, started with the rollout, runs beside the new servers,
    which must not serve on the old schema meanwhile); the revision.

    A revision this release does not know is a newer one: a newer release's migration has run
    during its rollout, while servers of this release still run or restart. They serve on it,
    as migrations are written to keep the previous release working."""
    head = head_revision()
    revisions = _revisions()
    reported, last_reason = 0.0, ""
    while True:
        try:
            revision = await schema_revision(database_url)
        except (OSError, DBAPIError, TimeoutError) as error:
            reason = f"the database does not answer ({type(error).__name__}: {str(error).splitlines()[0]})"
        else:
            if revision == head:
                return revision
            if revision is not None:
                try:
                    revisions.get_revision(revision)
                except CommandError:
                    log.warning("the database schema is at %s, newer than this release's %s", revision, head)
                    return revision
            at = revision or "no revision"
            reason = f"the schema is at {at}; this release needs {head}: run `catapult migrate`"
        if reason != last_reason or time.monotonic() - reported >= SCHEMA_REPORT_SECONDS:
            log.warning("waiting for the database before serving: %s", reason)
            reported, last_reason = time.monotonic(), reason
        await asyncio.sleep(SCHEMA_POLL_SECONDS)
