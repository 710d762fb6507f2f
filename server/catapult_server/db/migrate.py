"""Apply the alembic migrations in migrations/ programmatically (`catapult migrate`, `catapult up`)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

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
    head = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()
    return head or ""
