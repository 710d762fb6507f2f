"""The processes of `catapult up` and `catapult serve`: ports no stranger shares, children that
die with the command, and a supervisor that restarts the ones that die before it.

Ports. The worker processes bind the gRPC port with SO_REUSEPORT, so the kernel spreads
connections over them; it would just as well admit a second `catapult up` on that port and
split the connections between two databases. So the command first binds the port without
SO_REUSEPORT (refused while anyone else has it), then holds it for its whole life with a bound,
never listening, SO_REUSEPORT socket: a stranger's plain bind fails on it, our workers bind
beside it, and a worker restarted while none of the others runs still finds the port ours.

Death. A worker reads end-of-file on a pipe only its parent holds open, and stops; Envoy gets
SIGTERM from the kernel when the thread that started it dies (envoy/process.py); the embedded
PostgreSQL has a guardian of its own (local.py). None of them outlives a `catapult up` killed
with SIGKILL.

Supervision. A child that dies while the command runs is restarted after a delay that doubles
with each death (1 s, 2 s, 4 s … at most 30 s); the fifth death within a minute stops the command
with an error rather than restarting for ever."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from catapult_server.config import ConfigError, Settings

if TYPE_CHECKING:
    from catapult_server.envoy import EnvoyProcess

log = logging.getLogger("catapult")


class PortTaken(ConfigError):
    """Another process has the port."""


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bound(host: str, port: int, flag: str, option: int) -> list[socket.socket]:
    """Sockets bound to every local address `host` names (`localhost`: 127.0.0.1 and ::1, where
    the machine has them) on `port`, with `option` set; PortTaken when another process has it."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ConfigError(f"cannot listen on {host!r} ({error.strerror}): choose another --host") from None
    bound: list[socket.socket] = []
    try:
        for family, _, _, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, socket.SOCK_STREAM)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
            try:
                sock.bind((address[0], port))
            except OSError as error:
                if error.errno == errno.EADDRNOTAVAIL:  # an address this machine lacks (::1 without IPv6)
                    bound.pop().close()
                    continue
                if error.errno != errno.EADDRINUSE:
                    raise
                raise PortTaken(
                    f"{host_port(host, port)} is already in use (another `catapult up` or `serve`? "
                    f"`ss -ltnp 'sport = :{port}'` names the process): stop it, or choose another port "
                    f"with {flag}"
                ) from None
            port = int(sock.getsockname()[1])  # the kernel's choice for 0, for the next address
        if not bound:
            raise ConfigError(f"{host} is not an address of this machine: choose another --host")
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


def ensure_free(host: str, port: int, flag: str) -> int:
    """Refuse (PortTaken) when any process has `host:port`; the port (the kernel's choice for 0).

    A plain bind: without SO_REUSEPORT it fails while anyone listens on the port, SO_REUSEPORT or
    not, or holds it bound; with SO_REUSEADDR a restart is not refused for the closed connections
    of the last run (TIME_WAIT)."""
    probes = _bound(host, port, flag, socket.SO_REUSEADDR)
    port = int(probes[0].getsockname()[1])
    for probe in probes:
        probe.close()
    return port


@contextlib.contextmanager
def claimed_port(host: str, port: int, flag: str) -> Iterator[int]:
    """`host:port` for this process and its workers only, for the block; yields the port (the
    kernel's choice for 0). Refuses (PortTaken) a port another process has.

    Checked with ensure_free, then held with SO_REUSEPORT and without SO_REUSEADDR: the workers
    (SO_REUSEPORT, the same user) bind beside the hold; a plain bind, with or without
    SO_REUSEADDR, is refused. Never listening, the hold receives no connection."""
    port = ensure_free(host, port, flag)
    holds = _bound(host, port, flag, socket.SO_REUSEPORT)
    try:
        yield port
    finally:
        for hold in holds:
            hold.close()


async def readable(fd: int) -> None:
    """Until `fd` is readable (data, or the other end closed)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, on_readable)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def process_exit(process: subprocess.Popen[bytes]) -> int:
    """Until `process` exits (reaped: no zombie); its return code. (Linux: a pidfd. The Envoy it
    serves for is Linux's.)"""
    if process.poll() is not None:
        return process.returncode
    # Until it is reaped, below, its pid cannot be reused: the pidfd names this process.
    pidfd = os.pidfd_open(process.pid)
    try:
        await readable(pidfd)
    finally:
        os.close(pidfd)
    return process.wait()


def how_it_ended(returncode: int | None) -> str:
    """'signal 9' or 'exit status 1', from a Popen or multiprocessing return code."""
    if returncode is None:
        return "unknown exit"
    return f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"


class ChildFailed(Exception):
    """A child process did not start (it exited, or was not ready in time)."""


class Child(Protocol):
    """A process the supervisor keeps running."""

    name: str  # "worker 1", "Envoy": how the log names it

    async def start(self) -> None:
        """Start it and return once it serves; ChildFailed if it does not."""

    async def exited(self) -> str:
        """Wait until it exits (reaping it); how it ended."""

    async def stop(self) -> None:
        """Stop it (gracefully, then by force), if it runs."""

    def hint(self) -> str:
        """Where to look when it keeps dying (its log), or ""."""


@dataclass
class Backoff:
    """Restart delays: `first` s after a death, doubled for each other death within `window` s,
    at most `longest`; the `limit`-th death within the window is one too many."""

    first: float = 1.0
    longest: float = 30.0
    window: float = 60.0
    limit: int = 5
    deaths: list[float] = field(default_factory=list)

    def next_delay(self) -> float | None:
        """Record a death; the delay before the restart, or None: give up."""
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < self.window] + [now]
        if len(self.deaths) >= self.limit:
            return None
        return min(self.first * 2.0 ** (len(self.deaths) - 1), self.longest)


class GaveUp(Exception):
    """A child died too often: the command stops with this message."""


async def supervise(child: Child, backoff: Backoff | None = None) -> None:
    """Restart `child` whenever it dies, until cancelled; GaveUp when it dies too often."""
    backoff = backoff or Backoff()
    while True:
        ended = await child.exited()
        delay = backoff.next_delay()
        if delay is None:
            hint = child.hint()
            raise GaveUp(
                f"{child.name} died {backoff.limit} times within {backoff.window:g} s (last: {ended}); "
                f"stopping{f' (see {hint})' if hint else ''}"
            )
        log.warning("%s died (%s); restarting in %g s", child.name, ended, delay)
        await asyncio.sleep(delay)
        try:
            await child.start()
        except (ChildFailed, ConfigError) as error:
            # Counted as the next death: exited() returns at once for a process already gone.
            log.warning("%s failed to restart: %s", child.name, str(error).splitlines()[0])
            continue
        log.info("%s restarted", child.name)


async def supervise_until(stop: asyncio.Event, children: list[Child]) -> str:
    """Keep `children` running until `stop` is set (""), or one of them dies too often (why)."""
    stopped = asyncio.create_task(stop.wait(), name="stop-signal")
    tasks = [asyncio.create_task(supervise(child), name=f"supervise {child.name}") for child in children]
    try:
        done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in [stopped, *tasks]:
            task.cancel()
        await asyncio.gather(stopped, *tasks, return_exceptions=True)
    for task in done:
        error = None if task is stopped else task.exception()
        if isinstance(error, GaveUp):
            return str(error)
        if error is not None:  # a bug: let it show
            raise error
    return ""


def stop_event(*signals: signal.Signals) -> asyncio.Event:
    """Set on any of `signals` (SIGINT and SIGTERM when none are named)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in signals or (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


# How long a worker may take from its start to serving: imports, the first database probe.
WORKER_START_WITHIN = 60.0
# A worker whose parent died gives its calls this long (the database is about to go too), and
# is ended by SIGALRM a few seconds later whatever happens: gone within 5 s of the parent.
ORPHAN_GRACE = 1.0
ORPHAN_EXIT_WITHIN = 4


class Worker:
    """One server process of a pool: spawned, not forked (gRPC's threads do not survive a fork)."""

    def __init__(self, number: int, settings: Settings, kind: str = "worker") -> None:
        self.name = f"{kind} {number}"
        self.number = number
        self.settings = settings
        self.process: BaseProcess | None = None
        self._line: Connection | None = None

    async def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        # A line between the two: the worker says "ready" on it; this process never writes and
        # keeps its end open until the worker has exited, so the worker reads end-of-file only
        # when this process is gone (killed, even with SIGKILL), and then stops.
        line, workers_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_worker_main,
            args=(self.settings, workers_end),
            name=f"catapult-worker-{self.number}",
            daemon=True,  # at worst, multiprocessing's own exit handler stops it with this process
        )
        process.start()
        self.process, self._line = process, line
        workers_end.close()  # the worker's copy is the only one left: EOF here if it dies
        try:
            async with asyncio.timeout(WORKER_START_WITHIN):
                await readable(line.fileno())
            line.recv_bytes()
        except (EOFError, OSError, TimeoutError):
            await self.stop()
            raise ChildFailed(
                f"server {self.name} failed to start on "
                f"{host_port(self.settings.grpc_host, self.settings.grpc_port)} "
                f"({how_it_ended(process.exitcode)}; see the log above)"
            ) from None

    async def exited(self) -> str:
        assert self.process is not None, "the worker was not started"
        await readable(self.process.sentinel)
        self._reap()
        return how_it_ended(self.process.exitcode)

    async def stop(self) -> None:
        """SIGTERM: the worker drains (CatapultServer.stop with the grace); SIGKILL if it has not
        exited a few seconds after the grace."""
        process = self.process
        if process is None:
            return
        if process.exitcode is None:
            process.terminate()
            try:
                async with asyncio.timeout(self.settings.shutdown_grace + 5):
                    await readable(process.sentinel)
            except TimeoutError:
                log.warning("%s did not stop within its grace; killing it", self.name)
                process.kill()
                await readable(process.sentinel)
        self._reap()

    def _reap(self) -> None:
        """The exited worker waited for (no zombie), and its line closed."""
        assert self.process is not None
        self.process.join()
        if self._line is not None:
            self._line.close()
            self._line = None

    def hint(self) -> str:
        return "the log above"


def _worker_main(settings: Settings, line: Connection) -> None:
    """A worker process: a CatapultServer until SIGTERM, or until its parent is gone."""
    # Ctrl-C in a terminal signals every process of its group. The parent alone decides: it
    # drains the workers with SIGTERM, and one that stopped by itself would be restarted.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
    )
    asyncio.run(_serve_as_worker(settings, line))


async def _serve_as_worker(settings: Settings, line: Connection) -> None:
    from catapult_server.server import CatapultServer

    stop = stop_event(signal.SIGTERM)
    server = CatapultServer(settings)
    await server.start()
    line.send_bytes(b"ready")
    stopped = asyncio.create_task(stop.wait())
    orphaned = asyncio.create_task(readable(line.fileno()))  # end-of-file: the parent is gone
    done, _ = await asyncio.wait([stopped, orphaned], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    orphaned.cancel()
    grace = None
    if orphaned in done:
        log.warning("the process that started this worker is gone: stopping")
        grace = min(settings.shutdown_grace, ORPHAN_GRACE)
        signal.alarm(ORPHAN_EXIT_WITHIN)  # SIGALRM's default action ends the process
    await server.stop(grace)


class WorkerPool:
    """`--workers N`: N server processes listening on one port (SO_REUSEPORT), so the kernel
    spreads connections over every core; Python runs one core per process. Or `--replicas N`
    (`on_ports`): N server processes on N ports, each a replica of its own behind Envoy, as
    production runs them."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.workers = [Worker(number, settings) for number in range(1, count + 1)]

    @classmethod
    def on_ports(cls, settings: Settings, ports: Sequence[int]) -> WorkerPool:
        pool = cls(settings, 0)
        pool.workers = [
            Worker(number, dataclasses.replace(settings, grpc_port=port), kind="replica")
            for number, port in enumerate(ports, start=1)
        ]
        return pool

    async def start(self) -> None:
        """Start every worker and return once each serves; ConfigError if one does not."""
        started = await asyncio.gather(*(w.start() for w in self.workers), return_exceptions=True)
        failures = [result for result in started if isinstance(result, BaseException)]
        if failures:
            await self.stop()
            if isinstance(failures[0], ChildFailed):
                raise ConfigError(str(failures[0]))
            raise failures[0]

    async def stop(self) -> None:
        """Drain every worker at once."""
        await asyncio.gather(*(w.stop() for w in self.workers))


class LocalEnvoy:
    """Envoy for `catapult up`: REST/JSON, gRPC and gRPC-Web on `host:http_port`, in front of the
    servers on `grpc_ports` (balanced over the healthy ones), and the web console from `web_dir`
    when it is built. Its config, log and admin address (an OS-chosen port, so two stacks never
    collide) live in `data_dir`."""

    name = "Envoy"

    def __init__(
        self,
        data_dir: Path,
        host: str,
        http_port: int,
        grpc_ports: Sequence[int],
        web_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.http_port = http_port
        self.grpc_ports = tuple(grpc_ports)
        self.web_dir = web_dir
        self.process: EnvoyProcess | None = None

    async def start(self) -> None:
        from catapult_server import envoy

        upstreams = [host_port(loopback(self.host), port) for port in self.grpc_ports]
        try:
            config = envoy.local_config(self.host, self.http_port, upstreams, static_dir=self.web_dir)
            config_path = envoy.write_config(config, self.data_dir / "envoy.yaml")
            proxy = envoy.EnvoyProcess(config_path, self.data_dir)
            # In the event loop's thread, the main one: Envoy gets SIGTERM when the thread that
            # started it ends (PR_SET_PDEATHSIG), and the main thread ends only with the command.
            # A restart adds to the log: why the last one died is in it.
            proxy.start(keep_log=self.process is not None)
        except FileNotFoundError as error:
            raise ConfigError(
                f"cannot start Envoy: {error} (run from a checkout after `make install`, set "
                "CATAPULT_ENVOY_DIR to a directory with the descriptor set, or use --http-port 0)"
            ) from None
        self.process = proxy
        try:
            await asyncio.to_thread(proxy.wait_ready)
        except (RuntimeError, TimeoutError) as error:
            proxy.stop()
            raise ConfigError(
                f"Envoy could not serve REST on {host_port(self.host, self.http_port)} "
                f"(port taken? choose another with --http-port, or 0 for none); "
                f"its log is {proxy.log_path}:\n{error}"
            ) from None

    async def exited(self) -> str:
        assert self.process is not None and self.process.proc is not None, "Envoy was not started"
        return how_it_ended(await process_exit(self.process.proc))

    async def stop(self) -> None:
        if self.process is not None:
            await asyncio.to_thread(self.process.stop)

    def hint(self) -> str:
        return str(self.data_dir / "envoy.log")


def loopback(host: str) -> str:
    """The address to reach a server listening on `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


class _InProcessServer:
    """`--workers 1`: the server in this process, nothing to supervise."""

    def __init__(self, settings: Settings) -> None:
        from catapult_server.server import CatapultServer

        self.server = CatapultServer(settings)
        self.workers: list[Worker] = []

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()


async def serve(
    settings: Settings,
    banner: str = "",
    envoy: LocalEnvoy | None = None,
    workers: int = 1,
    replica_ports: Sequence[int] = (),
) -> str:
    """Serve on `settings.grpc_port` (claimed by the caller), in this process or in `workers`
    processes, or as one replica process on each of `replica_ports` (claimed too), with `envoy`
    in front, until SIGINT/SIGTERM (returns ""), or until a child dies too often (returns why).
    Either way the servers drain, then Envoy stops: REST calls in flight through it finish too."""
    stop = stop_event()
    servers: WorkerPool | _InProcessServer
    if replica_ports:
        servers = WorkerPool.on_ports(settings, replica_ports)
    elif workers > 1:
        servers = WorkerPool(settings, workers)
    else:
        servers = _InProcessServer(settings)
    await servers.start()
    children: list[Child] = list(servers.workers)
    try:
        if envoy is not None:
            await envoy.start()
            children.append(envoy)
        if banner:
            print(banner, flush=True)
        failure = await supervise_until(stop, children)
        if not failure:
            log.info("shutting down: draining in-flight RPCs")
        return failure
    finally:
        await servers.stop()
        if envoy is not None:
            await envoy.stop()
