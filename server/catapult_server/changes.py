"""The change feed behind the watch streams (WatchChanges, WatchDeployments).

Every change is an audit row, written in the transaction of the change, holding the resource as
it is after it; when the transaction commits, a deferred trigger numbers the row in commit order
(`commit_seq`) and NOTIFYs `catapult_changes`. That number is a stream's cursor.

Each server process runs one ChangeFeed: a connection of its own LISTENs, and on each
notification (or every POLL_SECONDS, in case one was missed) the feed reads the rows committed
since the last it saw — once, for every watcher of the process — and hands each watcher the
events its filter keeps. A write on any replica reaches watchers on every replica, because the
rows and the notifications go through PostgreSQL.

A watcher's queue is bounded: a client that reads too slowly is cut off (WATCHER_TOO_SLOW) with
the cursor to resume from, rather than growing the server's memory. A watcher with a cursor is
first served the changes after it from the table, then from its queue, skipping what it already
had: nothing is missed between the two, and nothing comes twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from google.protobuf.message import Message
from google.rpc import code_pb2
from sqlalchemy import select

from catapult.v1 import (
    api_key_pb2,
    artifact_pb2,
    change_pb2,
    deployment_pb2,
    error_reason_pb2,
    model_pb2,
    release_pb2,
)
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.db import schema
from catapult_server.errors import CatapultError, FailedPrecondition, InvalidArgument, ShuttingDown
from catapult_server.resources import timestamp

log = logging.getLogger(__name__)

CHANNEL = "catapult_changes"
# Read the feed this often even without a notification (a lost LISTEN connection, a missed one).
POLL_SECONDS = 1.0
BATCH = 500

# The audit actions that are changes, as the events a watcher sees ("deny" and "prune" are not).
EVENT_TYPES = {
    "create": "created",
    "update": "updated",
    "revoke": "updated",
    "supersede": "superseded",
    "terminate": "terminated",
    "delete": "deleted",
}
# resource_type → (the message its snapshot is, the ChangeEvent field holding it)
RESOURCES: dict[str, tuple[type[Message], str]] = {
    "model": (model_pb2.Model, "model"),
    "release": (release_pb2.Release, "release"),
    "artifact": (artifact_pb2.Artifact, "artifact"),
    "deployment": (deployment_pb2.Deployment, "deployment"),
    "api_key": (api_key_pb2.ApiKey, "api_key"),
}

t = schema.audit_logs
_COLUMNS = (t.c.commit_seq, t.c.action, t.c.resource_type, t.c.resource_id, t.c.api_key_name)
# Every numbered row (a denial or a prune too: the feed's place moves past them; event_of skips them).
FEED_QUERY = select(*_COLUMNS, t.c.created_at, t.c.snapshot)

Filter = Callable[[change_pb2.ChangeEvent], bool]


class WatcherTooSlow(CatapultError):
    code = code_pb2.RESOURCE_EXHAUSTED
    reason = error_reason_pb2.WATCHER_TOO_SLOW

    def __init__(self, cursor: str) -> None:
        super().__init__(
            "the stream was read too slowly and the server stopped buffering it; "
            f"watch again with cursor {cursor}"
        )
        self.cursor = cursor

    def metadata(self) -> dict[str, str]:
        return {"cursor": self.cursor}


class TooManyWatches(CatapultError):
    code = code_pb2.RESOURCE_EXHAUSTED
    reason = error_reason_pb2.TOO_MANY_WATCHES


def cursor_of(sequence: int) -> str:
    return str(sequence)


def parse_cursor(cursor: str) -> int:
    if not cursor.isascii() or not cursor.isdigit():
        raise InvalidArgument.field("cursor", "is not a cursor this server issued (a ChangeEvent's)")
    return int(cursor)


def event_of(row: Any) -> change_pb2.ChangeEvent | None:
    """The event an audit row is, or None for one that is no change (or a resource type this
    server does not stream)."""
    kind = RESOURCES.get(row.resource_type)
    event_type = EVENT_TYPES.get(row.action)
    if kind is None or event_type is None or row.snapshot is None:
        return None
    message, field_name = kind
    event = change_pb2.ChangeEvent(
        cursor=cursor_of(row.commit_seq),
        type=event_type,
        resource_type=row.resource_type,
        resource_id=str(row.resource_id),
        time=timestamp(row.created_at),
        api_key_name=row.api_key_name,
    )
    getattr(event, field_name).CopyFrom(message.FromString(row.snapshot))
    return event


@dataclass(eq=False)
class Watcher:
    """One stream's place at the feed: what it wants, its bounded queue, where it stands."""

    wants: Filter
    key: str
    buffer: int
    queue: asyncio.Queue[change_pb2.ChangeEvent] = field(init=False)
    # The cursor of the last event handed to the client (or the one it resumed from).
    delivered: int = 0
    ended: CatapultError | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.buffer)

    def offer(self, event: change_pb2.ChangeEvent) -> None:
        if self.ended is not None or not self.wants(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.end(WatcherTooSlow(cursor_of(self.delivered)))
        self._wake.set()

    def end(self, reason: CatapultError) -> None:
        """End the stream at its next read; what it had buffered is let go (a resume from the
        cursor of the last event it delivered reads it again)."""
        if self.ended is None:
            self.ended = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self._wake.set()

    async def next(self, within: float) -> change_pb2.ChangeEvent | None:
        """The next event, or None after `within` seconds without one (a heartbeat is due)."""
        while True:
            if self.ended is not None:
                raise self.ended
            if not self.queue.empty():
                return self.queue.get_nowait()
            self._wake.clear()
            try:
                async with asyncio.timeout(within):
                    await self._wake.wait()
            except TimeoutError:
                return None


class ChangeFeed:
    """The change feed of one server process (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._per_key = settings.watch_limit_per_key
        self._total = settings.watch_limit
        self._buffer = settings.watch_buffer
        self._heartbeat = settings.watch_heartbeat_seconds
        self._watchers: set[Watcher] = set()
        # The commit_seq of the last row read from the feed; None until the database first answers
        # (a server starts without one, and its watchers wait for it like any other call).
        self._head: int | None = None
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="change-feed")

    async def stop(self) -> None:
        """End every stream (UNAVAILABLE SERVER_SHUTTING_DOWN: clients resume elsewhere) and stop."""
        self._closing = True
        for watcher in list(self._watchers):
            watcher.end(ShuttingDown())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _place(self) -> int:
        """Where the feed stands: from the first time the database answers, the last change read."""
        if self._head is None:
            async with self._db.read() as conn:
                latest = await conn.scalar(select(t.c.commit_seq).order_by(t.c.commit_seq.desc()).limit(1))
            if self._head is None:  # another caller may have placed it meanwhile: keep theirs
                self._head = latest or 0
        return self._head

    async def _follow(self) -> None:
        """Listen, read, hand out; again. A lost connection is reconnected; reads go on meanwhile."""
        listener: asyncpg.Connection | None = None
        while True:
            try:
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._new.wait()
                self._new.clear()
                await self._read()
            except asyncio.CancelledError:
                if listener is not None:
                    await listener.close(timeout=1)
                raise
            except Exception:
                log.warning("change feed: could not read; trying again", exc_info=True)
                listener = None
                await asyncio.sleep(POLL_SECONDS)

    async def _listen(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await asyncpg.connect(self._dsn, timeout=5)
        await connection.add_listener(CHANNEL, lambda *_: self._new.set())
        return connection

    async def _read(self) -> None:
        await self._place()
        while True:
            async with self._db.read() as conn:
                query = FEED_QUERY.where(t.c.commit_seq > self._head).order_by(t.c.commit_seq).limit(BATCH)
                rows = (await conn.execute(query)).all()
            for row in rows:
                event = event_of(row)
                if event is not None:
                    for watcher in list(self._watchers):
                        watcher.offer(event)
            if rows:
                self._head = rows[-1].commit_seq
            if len(rows) < BATCH:
                return

    def buffered(self) -> list[int]:
        """How many events wait in each open stream's queue (each at most `watch_buffer`)."""
        return [watcher.queue.qsize() for watcher in self._watchers]

    def _admit(self, key: str) -> None:
        if self._closing:
            raise ShuttingDown()
        if len(self._watchers) >= self._total:
            raise TooManyWatches(
                f"this server has its limit of {self._total} watch streams open; retry later"
            )
        if sum(1 for w in self._watchers if w.key == key) >= self._per_key:
            raise TooManyWatches(
                f"this key has {self._per_key} watch streams open, the most it may; close one"
            )

    async def watch(
        self,
        key: str,
        wants: Filter,
        cursor: str,
        still_allowed: Callable[[], Awaitable[None]],
        started: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[change_pb2.ChangeEvent]:
        """The stream: the changes after `cursor` (or from now), then each as it commits, with a
        heartbeat when idle. `started` is awaited once the stream is admitted and in place (what
        commits after it is delivered); `still_allowed` raises (e.g. the key was revoked) to end it."""
        self._admit(key)
        watcher = Watcher(wants=wants, key=key, buffer=self._buffer)
        # Registered before reading the backlog: what commits meanwhile waits in the queue.
        self._watchers.add(watcher)
        try:
            head = await self._place()
            watcher.delivered = parse_cursor(cursor) if cursor else head
            if cursor:
                await self._check_not_pruned(watcher.delivered)
            await started()
            if cursor:
                async for past in self._backlog(watcher.delivered, head, wants):
                    watcher.delivered = int(past.cursor)
                    yield past
            clock = asyncio.get_running_loop().time
            checked = sent = clock()
            while True:
                wait = min(KEY_RECHECK_SECONDS, max(0.0, self._heartbeat - (clock() - sent)))
                event = await watcher.next(within=wait)  # None: nothing arrived within `wait`
                if clock() - checked >= KEY_RECHECK_SECONDS:
                    await still_allowed()
                    checked = clock()
                if event is None:
                    if clock() - sent >= self._heartbeat:
                        yield change_pb2.ChangeEvent(type="heartbeat", cursor=cursor_of(watcher.delivered))
                        sent = clock()
                    continue
                sequence = int(event.cursor)
                if sequence <= watcher.delivered:
                    continue  # already served from the backlog
                watcher.delivered = sequence
                yield event
                sent = clock()
        finally:
            self._watchers.discard(watcher)

    async def _check_not_pruned(self, after: int) -> None:
        async with self._db.read() as conn:
            pruned = await conn.scalar(select(schema.change_feed.c.pruned_through))
        if pruned and after < pruned:
            raise FailedPrecondition(
                error_reason_pb2.CURSOR_EXPIRED,
                "the changes after this cursor were pruned from the audit log: list what you need again, "
                "then watch without a cursor",
            )

    async def _backlog(
        self, after: int, through: int, wants: Filter
    ) -> AsyncIterator[change_pb2.ChangeEvent]:
        while after < through:
            async with self._db.read() as conn:
                query = FEED_QUERY.where(t.c.commit_seq > after, t.c.commit_seq <= through)
                rows = (await conn.execute(query.order_by(t.c.commit_seq).limit(BATCH))).all()
            if not rows:
                return
            for row in rows:
                event = event_of(row)
                if event is not None and wants(event):
                    yield event
            after = rows[-1].commit_seq


# How often a stream checks that its key is still valid (revoked or expired: the stream ends).
KEY_RECHECK_SECONDS = 1.0
