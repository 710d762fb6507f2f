"""Server settings: one object, read from flags and CATAPULT_* environment variables,
validated once at start-up so a bad value fails fast with a message that names it."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the setting."""


# How long an API key lookup is trusted before the database is asked again: the upper
# bound on how long a revoked key keeps working on a server process.
KEY_CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Settings:
    # SQLAlchemy URL of the PostgreSQL database, e.g. postgresql+asyncpg://user:pw@host/catapult.
    database_url: str
    # Secret mixed into every API key hash (HMAC-SHA256). Changing it invalidates every key.
    key_pepper: str = field(repr=False)
    # Secret page tokens are signed with (HMAC-SHA256), the same on every replica. Changing it
    # invalidates the page tokens clients hold (they start from the first page again).
    page_token_secret: str = field(repr=False)
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    db_pool_size: int = 20
    # Seconds in-flight RPCs get to finish on SIGTERM/SIGINT.
    shutdown_grace: float = 10.0
    # Seconds between flushes of API keys' last_used_at.
    last_used_flush_seconds: float = 30.0
    # Seconds between database health probes (grpc.health.v1 status).
    health_probe_seconds: float = 2.0
    # The longest a call may take (a caller's sooner deadline wins): every database wait is
    # bounded by it, so a frozen database means UNAVAILABLE, not a hung call.
    request_timeout: float = 10.0
    # Networks whose x-forwarded-for the server believes: the Envoy in front (its address).
    trusted_proxies: tuple[str, ...] = ()
    # Hours a create's request_id is remembered (a retry within them gets the first result).
    idempotency_retention_hours: float = 24.0
    # Watch streams: a heartbeat after this many idle seconds (proxies keep the stream open); at
    # most this many streams per API key and per server process; this many events buffered for a
    # stream whose client reads slowly before it is ended (WATCHER_TOO_SLOW) to bound memory.
    watch_heartbeat_seconds: float = 15.0
    watch_limit_per_key: int = 20
    watch_limit: int = 1000
    watch_buffer: int = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", normalise_database_url(self.database_url))
        for variable, value in (
            ("KEY_PEPPER", self.key_pepper),
            ("PAGE_TOKEN_SECRET", self.page_token_secret),
        ):
            if len(value) < 16:
                raise ConfigError(
                    f"CATAPULT_{variable} must be set to a secret of at least 16 characters "
                    "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
                )
        if not 0 <= self.grpc_port <= 65535:
            raise ConfigError(f"--grpc-port / CATAPULT_GRPC_PORT must be 0..65535, got {self.grpc_port}")
        if self.db_pool_size < 1:
            raise ConfigError(f"CATAPULT_DB_POOL_SIZE must be at least 1, got {self.db_pool_size}")
        if self.shutdown_grace < 0:
            raise ConfigError(f"CATAPULT_SHUTDOWN_GRACE must not be negative, got {self.shutdown_grace}")
        if self.request_timeout <= 0:
            raise ConfigError(f"CATAPULT_REQUEST_TIMEOUT must be positive, got {self.request_timeout}")
        if self.idempotency_retention_hours <= 0:
            hours = self.idempotency_retention_hours
            raise ConfigError(f"CATAPULT_IDEMPOTENCY_RETENTION_HOURS must be positive, got {hours}")
        for network in self.trusted_proxies:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ConfigError(
                    f"CATAPULT_TRUSTED_PROXIES: {network!r} is not an address or network (e.g. 10.0.0.0/8)"
                ) from None


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// forms and point them at asyncpg."""
    if not url:
        raise ConfigError("CATAPULT_DATABASE_URL (or --database-url) must be set")
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql"):
        return "postgresql+asyncpg" + url[len(scheme) :]
    if scheme != "postgresql+asyncpg":
        raise ConfigError(
            f"CATAPULT_DATABASE_URL must be a postgresql:// URL, got scheme {scheme or '(none)'!r}"
        )
    return url


def env(name: str, default: str | None = None) -> str | None:
    """CATAPULT_<name> from the environment."""
    return os.environ.get(f"CATAPULT_{name}", default)


def env_number(name: str, default: float, kind: type = float) -> float:
    raw = env(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)  # type: ignore[no-any-return]
    except ValueError:
        raise ConfigError(f"CATAPULT_{name} must be a number, got {raw!r}") from None
