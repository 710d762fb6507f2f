"""A client's steady mix of calls, for the scale-out tests: reads, creates with a request_id and
updates with an etag, started at a fixed rate whatever the answers take (open loop: a failing
server does not slow the load down, so its failures show), each call timed and its outcome kept.

The client is the Python SDK with its own retries off: what it sees is what Envoy made of a
server's failure. An update that fails UNAVAILABLE may have run or not (Envoy does not repeat it):
the load reads the model back to learn which, as a client would, before it updates it again."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import catapult

READ, CREATE, UPDATE = "read", "create", "update"
# Half reads, a quarter creates, a quarter updates.
MIX = (READ, READ, CREATE, UPDATE)
STORAGE = "s3://ml-models/scale-out/"


@dataclass(frozen=True)
class Call:
    kind: str
    started: float  # seconds since the load began
    seconds: float
    error: str = ""  # the failure's class and message; "" for a success


@dataclass
class Phase:
    """The calls started in [start, end) seconds."""

    name: str
    start: float
    end: float
    calls: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # by kind
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


class MixedLoad:
    """The load of one client: `prepare()` registers the models it reads and updates, `run()`
    sends the mix for a while. Each model is updated by one call at a time (it owns the model's
    etag), so an update never meets another's etag."""

    def __init__(self, client: catapult.AsyncClient, rate: float, models: int = 20) -> None:
        self.client = client
        self.rate = rate
        self.model_count = models
        self.prefix = f"scale-{uuid.uuid4().hex[:8]}"
        self.calls: list[Call] = []
        self.models: list[str] = []
        # Acknowledged creates, request_id → (name, id); creates that failed (they may have run).
        self.created: dict[str, tuple[str, str]] = {}
        self.failed_creates: dict[str, str] = {}  # request_id → name
        # Updates: acknowledged (model id, description written); failed ones that had run all the
        # same (found by reading back), and those that had not.
        self.updated: list[tuple[str, str]] = []
        self.in_doubt_applied: list[tuple[str, str]] = []
        self.in_doubt_lost: list[tuple[str, str]] = []
        self._idle: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._numbers = itertools.count(1)
        self._random = random.Random(16)
        self._began = 0.0

    async def prepare(self) -> None:
        for n in range(self.model_count):
            model = await self.client.create_model(f"{self.prefix}-seed-{n}", storage_path=STORAGE)
            self.models.append(model.id)
            self._idle.put_nowait((model.id, model.etag))

    async def run(
        self,
        seconds: float,
        events: dict[float, Callable[[], Awaitable[Any]]] | None = None,
        after_events: float = 0.0,
    ) -> float:
        """Start a call every 1/rate s, and each of `events` (e.g. a replica's kill) at its second,
        for `seconds` s, and on until every event has finished and `after_events` s more; return
        once every call has finished, with the second the last event finished."""
        self._began = time.monotonic()
        timed = [asyncio.create_task(self._at(at, event)) for at, event in sorted((events or {}).items())]
        pending: set[asyncio.Task[Any]] = set()
        mix = itertools.cycle(MIX)
        last_event = 0.0
        try:
            for n in itertools.count():
                due = n / self.rate
                if all(task.done() for task in timed):
                    last_event = max((task.result() for task in timed), default=0.0)
                    if due >= max(seconds, last_event + after_events):
                        break
                delay = self._began + due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(self._call(next(mix)))
                pending.add(task)
                task.add_done_callback(pending.discard)
        finally:  # an event that failed fails the run, once the calls under way have ended
            for event_task in timed:
                event_task.cancel()
            await asyncio.gather(*timed, *pending, return_exceptions=True)
        await asyncio.gather(*pending)
        return last_event

    async def _at(self, second: float, event: Callable[[], Awaitable[Any]]) -> float:
        """Run `event` at `second`; the second it finished."""
        await asyncio.sleep(max(self._began + second - time.monotonic(), 0))
        await event()
        return time.monotonic() - self._began

    async def _call(self, kind: str) -> None:
        if kind == UPDATE:
            await self._update()
            return
        started = time.monotonic()
        error = ""
        try:
            if kind == READ:
                await self.client.get_model(self._random.choice(self.models))
            else:
                await self._create()
        except catapult.CatapultError as failure:
            error = f"{type(failure).__name__}: {failure}"
        self._record(kind, started, error)

    async def _create(self) -> None:
        name = f"{self.prefix}-{next(self._numbers)}"
        request_id = str(uuid.uuid4())
        try:
            model = await self.client.create_model(name, storage_path=STORAGE, request_id=request_id)
        except catapult.CatapultError:
            self.failed_creates[request_id] = name
            raise
        self.created[request_id] = (name, model.id)

    async def _update(self) -> None:
        model_id, etag = await self._idle.get()  # not timed: waiting for a model is not the server's
        value = f"update-{next(self._numbers)}"
        started = time.monotonic()
        try:
            model = await self.client.update_model(model_id, description=value, etag=etag)
        except catapult.UnavailableError as failure:
            self._record(UPDATE, started, f"{type(failure).__name__}: {failure}")
            etag = await self._settle(model_id, value)
        except catapult.CatapultError as failure:
            self._record(UPDATE, started, f"{type(failure).__name__}: {failure}")
            etag = (await self._read_back(model_id)).etag
        else:
            self._record(UPDATE, started, "")
            self.updated.append((model_id, value))
            etag = model.etag
        self._idle.put_nowait((model_id, etag))

    async def _settle(self, model_id: str, value: str) -> str:
        """After an update failed UNAVAILABLE: whether it ran, from the model as it is now; its etag."""
        model = await self._read_back(model_id)
        (self.in_doubt_applied if model.description == value else self.in_doubt_lost).append(
            (model_id, value)
        )
        return str(model.etag)

    async def _read_back(self, model_id: str) -> Any:
        while True:
            try:
                return await self.client.get_model(model_id)
            except catapult.UnavailableError:
                await asyncio.sleep(0.2)

    def _record(self, kind: str, started: float, error: str) -> None:
        self.calls.append(Call(kind, started - self._began, time.monotonic() - started, error))

    def failures(self, kind: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.error and (kind is None or c.kind == kind)]

    def phases(self, *boundaries: tuple[str, float, float]) -> list[Phase]:
        """Counts, failures and latency percentiles of the calls started in each (name, start, end);
        an end past the load's is its end."""
        phases = []
        ended = max((c.started + c.seconds for c in self.calls), default=0.0)
        for name, start, until in boundaries:
            end = round(min(until, ended), 1)
            calls = [c for c in self.calls if start <= c.started < until]
            latencies = [c.seconds * 1000 for c in calls]
            failed: dict[str, int] = {}
            for call in calls:
                if call.error:
                    failed[call.kind] = failed.get(call.kind, 0) + 1
            phases.append(
                Phase(
                    name,
                    start,
                    end,
                    len(calls),
                    failed,
                    round(percentile(latencies, 0.5), 1),
                    round(percentile(latencies, 0.99), 1),
                    round(max(latencies, default=0.0), 1),
                )
            )
        return phases
