"""The one way to the database: a transaction per RPC (or an autocommit connection for reads),
and the one place driver errors become domain errors.

Every statement runs inside `Database.transaction()` or `Database.read()`, and both translate
what the driver raises: a unique violation is ALREADY_EXISTS, a missing parent NOT_FOUND, a
parent that still has children FAILED_PRECONDITION, text or a value PostgreSQL cannot store
INVALID_ARGUMENT, a serialization failure, deadlock or lock conflict ABORTED, a lost connection,
a statement timeout or a database out of resources UNAVAILABLE. Only an error the server's own
SQL caused (a bug) is left to become INTERNAL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catapult.v1 import error_reason_pb2
from catapult_server.config import Settings
from catapult_server.db.engine import create_engine, is_unavailable, sqlstate
from catapult_server.errors import (
    AlreadyExists,
    CatapultError,
    Conflict,
    DatabaseUnavailable,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)

# What each unique constraint means, for the ALREADY_EXISTS message: (resource, "with …").
UNIQUE_KEYS = {
    "uq_models_name": ("Model", "this name"),
    "uq_releases_image_id_version_quantization": ("Release", "this model, version and quantization"),
    "uq_api_keys_name": ("ApiKey", "this name"),
}
# Which parent each foreign key names, and the request field that gave it: (parent, field).
PARENTS = {
    "fk_releases_image_id_models": ("Model", "release.image_id"),
    "fk_artifacts_release_id_releases": ("Release", "artifact.release_id"),
    "fk_deployments_release_id_releases": ("Release", "deployment.release_id"),
    "fk_deployments_model_id_models": ("Model", "deployment.model_id"),
}

# The resource each table stores, for naming a field in an error.
RESOURCES = {
    "models": "model",
    "releases": "release",
    "artifacts": "artifact",
    "deployments": "deployment",
    "api_keys": "api_key",
}

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
NOT_NULL_VIOLATION = "23502"
# Class 22, data exception: a NUL character in text, a number or a date out of range, … — a
# value the client sent that PostgreSQL cannot store.
DATA_EXCEPTION_CLASS = "22"
# The other SQLSTATE classes a request can meet, by what they mean to the client (states not
# handled one by one in translate()):
# 23 integrity: a rule not named above (a unique or exclusion race is a conflict, see below);
INTEGRITY_CLASS = "23"
RACE_STATES = ("23505", "23P01")  # unique, exclusion: another transaction got there first
# 40 transaction rollback (a serialization failure, a deadlock), 55 lock not available / object
# in use: another transaction's doing, so a retry may succeed (ABORTED, and the server retries it
# itself a few times);
CONFLICT_CLASSES = ("40", "55")
# 53 insufficient resources (disk, memory, connections), 57 operator intervention (a statement
# cancelled by statement_timeout, a shutdown), 58 system error (I/O), XX PostgreSQL's own
# internal error: the database cannot do it now (UNAVAILABLE);
UNAVAILABLE_CLASSES = ("53", "57", "58", "XX")
# 54 program limit exceeded: the request asked for something too large to store or search.
LIMIT_CLASS = "54"
# What is left (42 syntax or undefined object, 0A not supported, 25 transaction state, …) can only
# come from the server's own SQL: a bug, reported INTERNAL with a trace id and logged.

_KEY_VALUE = re.compile(r"Key \([^)]*\)=\(([^)]*)\)")


class Database:
    """The server's database: its engine, and the one way RPCs open connections on it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Reads run in autocommit: no BEGIN/ROLLBACK round trips around a single SELECT.
        # Same pool, other execution options.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Database]:
        """A Database for a one-off command (the CLI), its engine disposed of afterwards."""
        engine = create_engine(settings)
        try:
            yield cls(engine)
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed when the block ends — before the RPC
        replies, so a failed commit is an error to the client, never a silent success."""
        async with _translated(self.engine.begin()) as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads, in autocommit: each statement sees the latest committed data.
        Reads that must agree with each other go in transaction() instead."""
        async with _translated(self.autocommit.connect()) as conn:
            yield conn


@asynccontextmanager
async def _translated(
    connection: AbstractAsyncContextManager[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    try:
        async with connection as conn:
            yield conn
    except CatapultError:
        raise
    except Exception as error:
        translated = translate(error)
        if translated is None:
            raise
        raise translated from error


def translate(error: BaseException) -> CatapultError | None:
    """The domain error a driver error means (by its SQLSTATE), or None for one that is a bug."""
    if is_unavailable(error):
        return DatabaseUnavailable()
    if not isinstance(error, exc.DBAPIError):
        return None
    state = sqlstate(error) or ""
    name = _attribute(error, "constraint_name")
    if state == UNIQUE_VIOLATION and name in UNIQUE_KEYS:
        return AlreadyExists(*UNIQUE_KEYS[name])
    if state == FOREIGN_KEY_VIOLATION and name in PARENTS:
        parent, field = PARENTS[name]
        detail = _attribute(error, "detail")
        if "still referenced" in detail:
            # A delete raced a new child (e.g. a deployment recorded while its release was deleted).
            return FailedPrecondition(
                error_reason_pb2.HAS_CHILDREN,
                f"the {parent.lower()} gained a child meanwhile; retry the call",
            )
        match = _KEY_VALUE.search(detail)
        return NotFound(parent, match.group(1) if match else "", field=field)
    if state == CHECK_VIOLATION:
        table = _attribute(error, "table_name")
        return InvalidArgument.field(
            RESOURCES.get(table, "request"), f"violates the rule {name or 'of the table'}"
        )
    if state == NOT_NULL_VIOLATION:
        # An update_mask naming a field whose column must have a value, with none given.
        table, column = _attribute(error, "table_name"), _attribute(error, "column_name")
        return InvalidArgument.field(
            f"{RESOURCES.get(table, table)}.{column}", "cannot be cleared: give a value"
        )
    if state.startswith(DATA_EXCEPTION_CLASS):
        return InvalidArgument.field(
            "request", "holds a value the database cannot store (e.g. a NUL character)"
        )
    if state in RACE_STATES or state.startswith(CONFLICT_CLASSES):
        return Conflict()
    if state.startswith(INTEGRITY_CLASS):
        return InvalidArgument.field("request", f"violates the rule {name or 'of the table'}")
    if state.startswith(UNAVAILABLE_CLASSES):
        return DatabaseUnavailable()
    if state.startswith(LIMIT_CLASS):
        return InvalidArgument.field("request", "asks for more than the database can store or search")
    return None


def _attribute(error: BaseException, name: str) -> str:
    """An attribute of the asyncpg exception behind SQLAlchemy's wrapper(s), or ""."""
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        value = getattr(candidate, name, None)
        if isinstance(value, str):
            return value
    return ""
