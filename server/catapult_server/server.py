"""The grpc.aio server: catapult.v1 servicers, grpc.health.v1, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from catapult_server import idempotency, servicers
from catapult_server.auth import KeyStore
from catapult_server.changes import ChangeFeed
from catapult_server.config import Settings
from catapult_server.database import Database
from catapult_server.db.engine import create_engine
from catapult_server.errors import DatabaseUnavailable
from catapult_server.interceptors import SERVICES, CatapultInterceptor
from catapult_server.resources import now
from catapult_server.services import system

log = logging.getLogger(__name__)

SERVICE_NAMES = [service.full_name for service in SERVICES]
# A grpc.health.v1 service name that is SERVING while the process answers, whether or not its
# database does: what a liveness probe asks (restarting a server does not bring a database back).
LIVENESS = "liveness"

PRUNE_SECONDS = 3600.0
# After a drain, the port stays open until no call has been refused for this long (within the
# grace): Envoy checks health every second and stops sending calls at the first NOT_SERVING.
CALLERS_GONE_QUIET = 0.5

_SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Several worker processes may share one port (catapult serve --workers).
    ("grpc.so_reuseport", 1),
]


class CatapultServer:
    """One server process. `await start()`, then `port` is bound; `await stop()` drains it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.db = Database(self.engine)
        self.keys = KeyStore(self.db, settings.key_pepper, settings.last_used_flush_seconds)
        self.health = HealthServicer()
        self.port = 0
        self.feed = ChangeFeed(self.db, settings)
        self.interceptor = CatapultInterceptor(self.keys, self.db, settings, after_write=self.feed.nudge)
        self._server = grpc.aio.server(interceptors=[self.interceptor], options=_SERVER_OPTIONS)
        self._background: list[asyncio.Task[None]] = []
        self._serving: bool | None = None
        servicers.register(self._server, self.db, self.feed, settings, started_at=now())
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            [
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self._server,
        )

    @property
    def address(self) -> str:
        return f"{self.settings.grpc_host}:{self.port}"

    async def start(self) -> None:
        self.port = self._server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.grpc_host}:{self.settings.grpc_port}")
        await self._probe_database()
        await self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        await self.feed.start()
        await self._server.start()
        self.keys.start()
        self._background = [
            asyncio.create_task(self._probe_forever(), name="database-health-probe"),
            asyncio.create_task(self._prune_forever(), name="idempotency-prune"),
        ]
        log.info("catapult gRPC server listening on %s", self.address)

    async def _set_serving(self, serving: bool) -> None:
        if serving == self._serving:
            return
        self._serving = serving
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *SERVICE_NAMES]:
            await self.health.set(name, status)
        if not serving:
            log.warning("database unreachable: health is NOT_SERVING")

    async def _probe_database(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that lands
        # as the ping completes, and stop() would wait for ever for this probe to end.
        try:
            async with asyncio.timeout(self.settings.health_probe_seconds * 2):
                await system.ping(self.db)
            await self._set_serving(True)
        except (DatabaseUnavailable, TimeoutError):
            await self._set_serving(False)

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_probe_seconds)
            await self._probe_database()

    async def _prune_forever(self) -> None:
        """Forget request ids older than their retention, hourly (every replica does it; a delete
        of what another already deleted costs nothing)."""
        while True:
            await asyncio.sleep(PRUNE_SECONDS * random.uniform(0.5, 1.5))
            try:
                async with self.db.transaction() as tx:
                    pruned = await idempotency.prune(tx, self.settings.idempotency_retention_hours)
                if pruned:
                    log.info(
                        "forgot %d request ids older than %g h",
                        pruned,
                        self.settings.idempotency_retention_hours,
                    )
            except Exception:
                log.warning("could not prune old request ids; will try again", exc_info=True)

    async def stop(self, grace: float | None = None) -> None:
        """Drain: health goes NOT_SERVING (load balancers stop sending calls), new calls are
        answered UNAVAILABLE (SERVER_SHUTTING_DOWN: retryable, unlike CANCELLED), the calls in
        flight get up to `grace` seconds to finish, and within the same grace the port stays open
        until calls stop arriving; then the server stops."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.health.enter_graceful_shutdown()
        await self.feed.stop()  # watch streams end now (UNAVAILABLE): their clients resume elsewhere
        grace = self.settings.shutdown_grace if grace is None else grace
        grace_ends = time.monotonic() + grace
        if not await self.interceptor.drained(grace):
            log.warning(
                "%d calls still running after the %g s grace; cancelling them",
                self.interceptor.in_flight,
                grace,
            )
        # The refused calls carry catapult-unprocessed, and Envoy sends them to another server;
        # a call cut off by the closing port would carry nothing, and a write would fail.
        await self.interceptor.callers_gone(CALLERS_GONE_QUIET, max(grace_ends - time.monotonic(), 0))
        await self._server.stop(0)
        await self.keys.stop()
        await self.engine.dispose()

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()
