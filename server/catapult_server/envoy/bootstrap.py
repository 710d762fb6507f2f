"""The listener with its HTTP connection manager, the upstream cluster and the bootstrap around
them; `render()` writes the whole config as YAML."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from catapult_server.envoy.descriptor import Api, read_api
from catapult_server.envoy.filters import http_filters, type_url
from catapult_server.envoy.replies import CLIENT_METHOD, CLIENT_PATH, local_reply_config
from catapult_server.envoy.routes import UPSTREAM_CLUSTER, route_config
from catapult_server.envoy.settings import EnvoyConfig, parse_address

# Open client connections Envoy accepts at once.
MAX_CONNECTIONS = 10_000

# Envoy's default access log line, but with the method and path as the client sent them (the
# transcoder has rewritten both by the time the line is written; the Lua filter kept them), the
# client's address, the gRPC method the request became, and why Envoy gave the status it gave.
ACCESS_LOG_FORMAT = (
    f'[%START_TIME%] "{CLIENT_METHOD} {CLIENT_PATH} %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% '
    "%RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" '
    '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%UPSTREAM_HOST%" "%REQ(:PATH)%" %GRPC_STATUS%\n'
)


def _socket_address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def access_log() -> list[dict[str, Any]]:
    return [
        {
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": type_url("extensions.access_loggers.stream.v3.StdoutAccessLog"),
                "log_format": {"text_format_source": {"inline_string": ACCESS_LOG_FORMAT}},
            },
        }
    ]


def http_connection_manager(config: EnvoyConfig, api: Api) -> dict[str, Any]:
    return {
        "@type": type_url("extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"),
        "stat_prefix": "catapult",
        # HTTP/1.1 (REST, curl, browsers) and HTTP/2 without TLS (native gRPC) on one port.
        "codec_type": "AUTO",
        "normalize_path": True,
        "merge_slashes": True,
        # Envoy is the edge: the client is the connection's peer, not whatever x-forwarded-for
        # says, and x-envoy-* headers from outside are not trusted. (The route config replaces
        # x-forwarded-for on the way to the server.)
        "use_remote_address": True,
        "xff_num_trusted_hops": 0,
        "access_log": access_log(),
        "route_config": route_config(config, api),
        "http_filters": http_filters(config, api),
        "local_reply_config": local_reply_config(config),
    }


def listener(config: EnvoyConfig, api: Api) -> dict[str, Any]:
    return {
        "name": "catapult_http",
        "address": _socket_address(config.listen_host, config.listen_port),
        # Envoy binds its listener with SO_REUSEPORT by default on Linux, and then a second Envoy
        # on the same port starts too and the kernel splits the connections between them (two
        # stacks, two databases). Without it, the second one fails to bind and says so.
        "enable_reuse_port": False,
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": http_connection_manager(config, api),
                    }
                ]
            }
        ],
    }


def upstream_cluster(config: EnvoyConfig) -> dict[str, Any]:
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
                "@type": type_url("extensions.upstreams.http.v3.HttpProtocolOptions"),
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
        # Retries (routes.py) add at most this share of the requests in flight (and at least
        # this many at once, for a quiet cluster): when every server fails, retries must not
        # multiply the load on them.
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "retry_budget": {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 10},
                }
            ]
        },
        # A server that fails calls in a row is ejected before its health check catches up: three
        # connections refused or reset (killed, crashed) or five UNAVAILABLE / DEADLINE_EXCEEDED
        # answers (its database away). Never more than half of them; a passing health check
        # brings one back at once. A server's other errors (INTERNAL for one bad request) do
        # not eject it.
        "outlier_detection": {
            "split_external_local_origin_errors": True,
            "consecutive_local_origin_failure": 3,
            "enforcing_consecutive_local_origin_failure": 100,
            "consecutive_gateway_failure": 5,
            "enforcing_consecutive_gateway_failure": 100,
            "enforcing_consecutive_5xx": 0,
            "enforcing_success_rate": 0,
            "interval": "1s",
            "base_ejection_time": "10s",
            "max_ejection_percent": 50,
            "successful_active_health_check_uneject_host": True,
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
    if config.source_address is not None:
        cluster["upstream_bind_config"] = {
            "source_address": {"address": config.source_address, "port_value": 0}
        }
    if not static:
        # Envoy's default (AUTO) takes a name's IPv6 addresses when it has any, but `catapult
        # serve` listens on 0.0.0.0, IPv4 only: on a dual-stack network every request would be
        # refused. IPv4 first; IPv6 only for a name that has no IPv4 address.
        cluster["dns_lookup_family"] = "V4_PREFERRED"
    return cluster


def overload_manager() -> dict[str, Any]:
    """Bounds open client connections (and silences Envoy's start-up warning that none is set)."""
    monitor = "extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
    return {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": type_url(monitor),
                    "max_active_downstream_connections": MAX_CONNECTIONS,
                },
            }
        ]
    }


def build(config: EnvoyConfig, descriptor: Path | None = None) -> dict[str, Any]:
    """The Envoy bootstrap configuration as a dict. The API comes from `descriptor`, by default
    the file at config.descriptor_path (a config written for another machine may name a path
    that exists only there)."""
    api = read_api(descriptor or Path(config.descriptor_path))
    bootstrap: dict[str, Any] = {
        "overload_manager": overload_manager(),
        "static_resources": {"listeners": [listener(config, api)], "clusters": [upstream_cluster(config)]},
    }
    if config.admin_port is not None:
        bootstrap["admin"] = {"address": _socket_address(config.admin_host, config.admin_port)}
    return bootstrap


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (the Lua code), keys in the order they were built, and
    every value written out where it is used (no &id001 anchors for values routes share)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


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
    if config.static_dir is not None:
        flags.append(f"--static-dir {config.static_dir}")
    if config.web_root is not None:
        flags.append(f"--web-root {config.web_root}")
    lines = [
        "Envoy in front of Catapult: REST/JSON (gRPC-JSON transcoder), gRPC-Web and native gRPC (h2c)",
        "on one port. Generated from the descriptor set; do not edit by hand. Made by:",
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
