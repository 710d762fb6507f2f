"""The change feed behind the watch streams (WatchChanges, WatchDeployments).

Every change is an audit row, written in the transaction of the change, holding the resource as
it is after it. Once that transaction has committed, a numbering gives the row its place in the
feed (`commit_seq`, the streams' cursor): one numbering at a time across every replica (it holds
change_feed's row lock), each numbering every change committed and not yet numbered, in the order
they were written. So numbers follow the order changes became visible, and no number becomes
visible before a smaller one: a reader that has seen number n has seen everything before it. A
change that depends on another (it waited for that one's lock, or read what it wrote) is written
after that one committed, and is numbered after it.

The writing transactions take no lock for this: the server that made a write asks its feed to
number right after the write (`nudge`), and a numbering NOTIFYs `catapult_changes`, which wakes
the feed of every replica. Each server process runs one ChangeFeed, which reads the rows numbered
since the last it saw — once, for every watcher of the process — and hands each watcher the
events its filter keeps. Every POLL_SECONDS it numbers and reads regardless, for changes no
server nudged about (the `catapult` CLI's, say) and notifications lost with a connection.

A watcher's queue is bounded: a client that reads too slowly is cut off (WATCHER_TOO_SLOW) with
the cursor to resume from, rather than growing the server's memory. A watcher with a cursor is
first served the changes after it from the table, then from its queue, skipping what it already
had: nothing is missed between the two, and nothing comes twice."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from google.protobuf.message import Message
from google.rpc import code_pb2
from sqlalchemy import exists, func, select, text, update

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
# Number and read the feed this often even without a nudge or a notification.
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
# The feed: the numbered rows, each a change.
FEED_QUERY = select(*_COLUMNS, t.c.created_at, t.c.snapshot)
FEED = schema.change_feed

# One numbering's batch: the oldest changes not yet numbered, numbered after `top` in the order
# they were written (the partial index ix_audit_logs_unnumbered finds them).
NUMBER = text(
    """
    WITH batch AS (
        SELECT id, row_number() OVER (ORDER BY write_seq) AS n
        FROM audit_logs WHERE commit_seq IS NULL AND snapshot IS NOT NULL
        ORDER BY write_seq LIMIT :batch
    )
    UPDATE audit_logs SET commit_seq = :top + batch.n FROM batch WHERE audit_logs.id = batch.id
    """
)
UNNUMBERED = select(exists().where(t.c.commit_seq.is_(None), t.c.snapshot.is_not(None)))

Filter = Callable[[change_pb2.ChangeEvent], bool]

# A batch holds at most this many changes, and stops growing past this many bytes (a client's
# default limit on one message is 4 MiB).
BATCH_CHANGES = 500
BATCH_BYTES = 1 << 20
# How often a stream checks that its key is still valid (revoked or expired: the stream ends).
KEY_RECHECK_SECONDS = 1.0


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


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field: its tag, the payload's length (a varint), the payload."""
    header, length = bytearray([number << 3 | 2]), len(payload)
    while length > 0x7F:
        header.append(length & 0x7F | 0x80)
        length >>= 7
    header.append(length)
    return bytes(header) + payload


@dataclass(frozen=True, slots=True)
class Change:
    """One change as the feed hands it out: its number, the event (for the watchers' filters),
    and the event encoded once as ChangeBatch.events, for every watcher that sends it."""

    seq: int
    event: change_pb2.ChangeEvent
    encoded: bytes


def change_of(row: Any) -> Change | None:
    """The change an audit row is, or None for a resource type this server does not stream."""
    kind = RESOURCES.get(row.resource_type)
    event_type = EVENT_TYPES.get(row.action)
    if kind is None or event_type is None:
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
    return Change(row.commit_seq, event, _field(EVENTS_FIELD, event.SerializeToString()))


EVENTS_FIELD = change_pb2.ChangeBatch.DESCRIPTOR.fields_by_name["events"].number
CURSOR_FIELD = change_pb2.ChangeBatch.DESCRIPTOR.fields_by_name["cursor"].number


def encode_batch(changes: Sequence[Change], cursor: int) -> bytes:
    """A ChangeBatch, serialized, from changes encoded once each (no event is serialized again)."""
    return b"".join(change.encoded for change in changes) + _field(CURSOR_FIELD, cursor_of(cursor).encode())


def first_batch(changes: list[Change]) -> list[Change]:
    """The first of `changes` that fit in one message (BATCH_CHANGES, BATCH_BYTES; at least one)."""
    size = 0
    for count, change in enumerate(changes[:BATCH_CHANGES]):
        size += len(change.encoded)
        if count and size > BATCH_BYTES:
            return changes[:count]
    return changes[:BATCH_CHANGES]


@dataclass(eq=False)
class Watcher:
    """One stream's place at the feed: what it wants, the changes waiting for it, where it stands."""

    wants: Filter
    key: str
    buffer: int  # changes it may have waiting before it counts as too slow
    pending: list[Change] = field(default_factory=list)
    # The number of the last change handed to the client (or the one it resumed from).
    delivered: int = 0
    ended: CatapultError | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, changes: list[Change]) -> None:
        """Changes this watcher's filter kept."""
        if self.ended is not None:
            return
        self.pending.extend(changes)
        if len(self.pending) > self.buffer:
            self.end(WatcherTooSlow(cursor_of(self.delivered)))
        self._wake.set()

    def end(self, reason: CatapultError) -> None:
        """End the stream at its next read; what was waiting is let go (a resume from the
        cursor of the last change it delivered reads it again)."""
        if self.ended is None:
            self.ended = reason
        self.pending.clear()
        self._wake.set()

    async def take(self, within: float) -> list[Change]:
        """The next batch of changes waiting, or [] after `within` seconds without any."""
        if not self.pending and self.ended is None:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self._wake.wait()
        if self.ended is not None:
            raise self.ended
        batch = first_batch(self.pending)
        del self.pending[: len(batch)]
        return batch


@dataclass
class _Group:
    """The watchers with one filter: it is tested once per change for all of them."""

    wants: Filter
    watchers: set[Watcher] = field(default_factory=set)


class ChangeFeed:
    """The change feed of one server process (see the module docstring)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._per_key = settings.watch_limit_per_key
        self._total = settings.watch_limit
        self._buffer = settings.watch_buffer
        self._heartbeat = settings.watch_heartbeat_seconds
        self._groups: dict[Hashable, _Group] = {}
        self._watchers: set[Watcher] = set()
        # The commit_seq of the last row read from the feed; None until the database first answers
        # (a server starts without one, and its watchers wait for it like any other call).
        self._head: int | None = None
        self._wake = asyncio.Event()  # a nudge or a notification: number and read now
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

    def nudge(self) -> None:
        """A change was just committed: number it and hand it out now, not at the next poll."""
        self._wake.set()

    def waiting(self) -> list[int]:
        """How many changes wait for each open stream (each at most `watch_buffer`)."""
        return [len(watcher.pending) for watcher in self._watchers]

    async def _place(self) -> int:
        """Where the feed stands: from the first time the database answers, the last change read."""
        if self._head is None:
            latest = await self._numbered_through()
            if self._head is None:  # another caller may have placed it meanwhile: keep theirs
                self._head = latest
        return self._head

    async def _follow(self) -> None:
        """Number, read, hand out; wait for a nudge, a notification or the poll; again. A lost
        connection is reconnected; numbering and reading go on meanwhile."""
        listener: asyncpg.Connection | None = None
        while True:
            try:
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                await self._number()
                await self._read()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()
                self._wake.clear()
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
        await connection.add_listener(CHANNEL, lambda *_: self._wake.set())
        return connection

    async def _number(self) -> None:
        """Number every change committed and not yet numbered (see the module docstring)."""
        while True:
            async with self._db.transaction() as tx:
                if not await tx.scalar(UNNUMBERED):
                    return
                # One numbering at a time: the next waits here, then sees what this one numbered.
                top = (await tx.execute(select(FEED.c.numbered_through).with_for_update())).scalar_one()
                numbered = (await tx.execute(NUMBER, {"top": top, "batch": BATCH})).rowcount
                await tx.execute(update(FEED).values(numbered_through=top + numbered))
                await tx.execute(select(func.pg_notify(CHANNEL, "")))
            if numbered < BATCH:
                return

    async def _read(self) -> None:
        """Hand every change numbered since the last read to the watchers that want it."""
        head = await self._place()
        if not self._groups:
            # Nobody watches here: the feed's place moves on without reading (and decoding) the
            # changes. A stream that opens later reads its backlog up to that place from the table.
            numbered = await self._numbered_through()
            if not self._groups:  # still nobody (one may have come while the database answered)
                self._head = max(head, numbered)
                return
        while True:
            rows = await self._rows(after=head)
            changes = [change for change in map(change_of, rows) if change is not None]
            for group in list(self._groups.values()):
                kept = [change for change in changes if group.wants(change.event)]
                if kept:
                    for watcher in list(group.watchers):
                        watcher.offer(kept)
            if rows:
                head = self._head = rows[-1].commit_seq
            if len(rows) < BATCH:
                return

    async def _rows(self, after: int, through: int | None = None) -> list[Any]:
        """The feed's rows numbered after `after` (and up to `through`), at most BATCH of them."""
        query = FEED_QUERY.where(t.c.commit_seq > after)
        if through is not None:
            query = query.where(t.c.commit_seq <= through)
        async with self._db.read() as conn:
            return list((await conn.execute(query.order_by(t.c.commit_seq).limit(BATCH))).all())

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

    @contextlib.contextmanager
    def _registered(self, watcher: Watcher, group: Hashable) -> Iterator[None]:
        self._watchers.add(watcher)
        self._groups.setdefault(group, _Group(watcher.wants)).watchers.add(watcher)
        try:
            yield
        finally:
            self._watchers.discard(watcher)
            members = self._groups[group].watchers
            members.discard(watcher)
            if not members:
                del self._groups[group]

    async def watch(
        self,
        key: str,
        wants: Filter,
        group: Hashable,
        cursor: str,
        still_allowed: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[bytes]:
        """The stream, as encoded ChangeBatches: first a batch with no change and the stream's
        place (its cursor: the stream is in place, and what commits from now on is delivered),
        then the changes after `cursor` if one was given, then each batch as it commits, with a
        heartbeat when idle. `wants` is the stream's filter and `group` names it (streams with
        equal filters share one test per change); `still_allowed` raises (e.g. the key was
        revoked) to end it."""
        self._admit(key)
        watcher = Watcher(wants=wants, key=key, buffer=self._buffer)
        # Registered before reading the backlog: what commits meanwhile waits for it.
        with self._registered(watcher, group):
            head = await self._place()
            if cursor:
                watcher.delivered = await self._valid(parse_cursor(cursor))
            else:
                watcher.delivered = await self._now()
            yield encode_batch([], watcher.delivered)
            while watcher.delivered < head:  # the backlog, from the table
                rows = await self._rows(after=watcher.delivered, through=head)
                if not rows:
                    break
                kept = [c for c in map(change_of, rows) if c is not None and wants(c.event)]
                while kept:
                    batch = first_batch(kept)
                    del kept[: len(batch)]
                    yield encode_batch(batch, batch[-1].seq)
                watcher.delivered = rows[-1].commit_seq
            clock = asyncio.get_running_loop().time
            checked = sent = clock()
            while True:
                wait = min(KEY_RECHECK_SECONDS, max(0.0, self._heartbeat - (clock() - sent)))
                batch = [c for c in await watcher.take(within=wait) if c.seq > watcher.delivered]
                if clock() - checked >= KEY_RECHECK_SECONDS:
                    await still_allowed()
                    checked = clock()
                if batch:
                    watcher.delivered = batch[-1].seq
                elif clock() - sent < self._heartbeat:
                    continue
                yield encode_batch(batch, watcher.delivered)  # changes, or a heartbeat
                sent = clock()

    async def _now(self) -> int:
        """The place of a watch that starts now: after every change committed before it (numbered
        first, so that one committed just before is not streamed as if it came after)."""
        await self._number()
        return await self._numbered_through()

    async def _numbered_through(self) -> int:
        async with self._db.read() as conn:
            numbered: int = (await conn.execute(select(FEED.c.numbered_through))).scalar_one()
        return numbered

    async def _valid(self, after: int) -> int:
        """A cursor to resume after: one the feed has reached, whose later changes are all kept."""
        async with self._db.read() as conn:
            feed = (await conn.execute(select(FEED.c.numbered_through, FEED.c.pruned_through))).one()
        if after > feed.numbered_through:
            raise InvalidArgument.field(
                "cursor",
                f"is ahead of the change feed (at {feed.numbered_through}): not one this registry issued",
            )
        if after < feed.pruned_through:
            raise FailedPrecondition(
                error_reason_pb2.CURSOR_EXPIRED,
                "the changes after this cursor were pruned from the audit log: list what you need again, "
                "then watch without a cursor",
            )
        return after
