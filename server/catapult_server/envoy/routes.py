"""The route table: the API (to the gRPC servers), the OpenAPI document and /docs, and the web
app's files with index.html for every other GET.

Routes match the path after the Lua filter has stripped /api and the transcoder has turned a
REST call into its gRPC path (/catapult.v1.ModelService/ListModels). Which filters a route
switches off is decided earlier, by the route of the path as it arrived: that is why the
documents are matched with and without /api."""

from __future__ import annotations

import re
from typing import Any

from catapult_server.envoy.descriptor import Api
from catapult_server.envoy.filters import BUFFER, LUA, TRANSCODER, type_url
from catapult_server.envoy.settings import EnvoyConfig
from catapult_server.envoy.static_site import INDEX, StaticFile, static_files
from catapult_server.headers import IDEMPOTENCY_KEY, UNPROCESSED

UPSTREAM_CLUSTER = "catapult_grpc"
# A unary call that takes longer has gone wrong; the client gets 504 (DEADLINE_EXCEEDED).
UNARY_TIMEOUT = "60s"
# A server-streaming call (a watch) has no end: no route timeout, only this limit on silence,
# Envoy's own default made explicit. A healthy stream's heartbeats must come more often.
STREAM_IDLE_TIMEOUT = "300s"
# Envoy caps a direct_response body (4 KiB by default); the OpenAPI document needs more, and the
# cap grows to the web app's largest file.
MAX_DIRECT_RESPONSE_BYTES = 4 * 1024 * 1024
# Paths of Envoy's own documents (the OpenAPI document, /docs), and the /api prefix the Lua
# filter strips: never the web app's, like the API's REST roots and gRPC packages.
DOCUMENT_ROOTS = ("api", "openapi.json", "docs")


def disabled(*filters: str) -> dict[str, Any]:
    """typed_per_filter_config that switches `filters` off on a route."""
    return {name: {"@type": type_url("config.route.v3.FilterConfig"), "disabled": True} for name in filters}


def _set_headers(headers: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for key, value in headers.items()
    ]


def _get_or_head() -> dict[str, Any]:
    return {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}


# A retried call goes to another server (not the one that just failed it), after a short wait.
RETRY_TO_ANOTHER_HOST = {
    "retry_host_predicate": [
        {
            "name": "envoy.retry_host_predicates.previous_hosts",
            "typed_config": {
                "@type": type_url("extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate")
            },
        }
    ],
    "host_selection_retry_max_attempts": 3,
    "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
}
# Attempts after the first: with three replicas, each of the other two once.
NUM_RETRIES = 2
# A call that may be repeated is tried elsewhere after this long without an answer (a hung or
# partitioned server). Longer than any call a server answers: it gives up on its own after
# CATAPULT_REQUEST_TIMEOUT (10 s) and answers UNAVAILABLE, which is retried at once.
PER_TRY_TIMEOUT = "15s"


def retry_policy(safe_to_repeat: bool, streaming: bool = False) -> dict[str, Any]:
    """When Envoy sends a failed call to another server.

    Always when the call provably never ran: the connection or stream was refused, or the server
    refused it while draining (its catapult-unprocessed trailer). When the call is safe to
    repeat, also when it may have run: the connection was reset mid-call, the server answered
    UNAVAILABLE, or the try timed out. A write that is not safe to repeat is never sent twice:
    its client sees UNAVAILABLE and decides (with a request_id, retrying is safe).

    Retries are bounded per call (NUM_RETRIES) and over the cluster (the retry budget,
    bootstrap.py). A stream is retried only before its first message (Envoy cannot take back
    what it passed on) and has no per-try timeout, as it has no end."""
    conditions = ["connect-failure", "refused-stream", "retriable-headers"]
    if safe_to_repeat:
        conditions = ["unavailable", "reset", *conditions]
    policy: dict[str, Any] = {
        "retry_on": ",".join(conditions),
        "num_retries": NUM_RETRIES,
        "retriable_headers": [{"name": UNPROCESSED, "string_match": {"exact": "true"}}],
        **RETRY_TO_ANOTHER_HOST,
    }
    if safe_to_repeat and not streaming:
        policy["per_try_timeout"] = PER_TRY_TIMEOUT
    return policy


def upstream_route(match: dict[str, Any], safe_to_repeat: bool, streaming: bool = False) -> dict[str, Any]:
    """Requests whose (transcoded) path matches go to the gRPC servers. Native gRPC arrives on
    these paths: the body cap (a buffer, which would stall streaming calls such as reflection)
    is off for it; the server limits messages to 4 MiB itself."""
    timeouts = (
        {"timeout": "0s", "idle_timeout": STREAM_IDLE_TIMEOUT} if streaming else {"timeout": UNARY_TIMEOUT}
    )
    return {
        "match": match,
        "typed_per_filter_config": disabled(BUFFER),
        "route": {
            "cluster": UPSTREAM_CLUSTER,
            **timeouts,
            "retry_policy": retry_policy(safe_to_repeat, streaming),
        },
    }


def _has_idempotency_key() -> dict[str, Any]:
    """The header a create's request_id may travel in (non-empty: an empty one deduplicates nothing)."""
    return {"name": IDEMPOTENCY_KEY, "string_match": {"safe_regex": {"regex": ".+"}}}


def api_routes(api: Api) -> list[dict[str, Any]]:
    """Each streaming method by its path; each method safe to repeat, and each create that
    carries an idempotency-key, by its path; every other call (the writes) by its package;
    grpc.health.v1 and grpc.reflection.v1 and v1alpha too (grpcurl tries reflection v1, then
    v1alpha), retried only when they never reached a server.

    A create's request_id in its body is out of Envoy's sight (a protobuf message, or a REST
    query parameter the transcoder has consumed by the time routes match), so the create is
    retried only when the same id is in the idempotency-key header too: the clients send both,
    and the server refuses a header that differs from the request_id (idempotency.py)."""
    safe = set(api.safe_methods)
    routes = [upstream_route({"path": path}, path in safe, streaming=True) for path in api.streaming_methods]
    routes += [
        upstream_route({"path": path}, safe_to_repeat=True)
        for path in api.safe_methods
        if path not in api.streaming_methods
    ]
    routes += [
        upstream_route({"path": path, "headers": [_has_idempotency_key()]}, safe_to_repeat=True)
        for path in api.request_id_methods
    ]
    routes += [upstream_route({"prefix": f"/{package}."}, safe_to_repeat=False) for package in api.packages]
    routes.append(upstream_route({"prefix": "/grpc."}, safe_to_repeat=False))
    return routes


def openapi_routes(config: EnvoyConfig) -> list[dict[str, Any]]:
    """The OpenAPI document, served from its file: it is part of the REST edge it describes,
    needs no server code and answers even while the server is down."""
    return [
        {
            "match": {"path": path},
            "direct_response": {"status": 200, "body": {"filename": config.openapi_path}},
            "response_headers_to_add": _set_headers({"content-type": "application/json"}),
            "typed_per_filter_config": disabled(TRANSCODER, BUFFER),
        }
        for path in ("/api/openapi.json", "/openapi.json")
    ]


def _redirect(path: str, to: str) -> dict[str, Any]:
    return {
        "match": {"path": path},
        "redirect": {"path_redirect": to, "response_code": "FOUND"},
        "typed_per_filter_config": disabled(TRANSCODER, BUFFER),
    }


def docs_routes(files: list[StaticFile]) -> list[dict[str, Any]]:
    """/docs, the old system's API docs URL: the web app's API reference (docs/index.html) when
    it has one, else a redirect to the raw OpenAPI document. (/docs itself is one of the app's
    file routes; /api/docs needs its own, see the module docstring.)"""
    docs = next((file for file in files if "/docs" in file.url_paths), None)
    if docs is not None:
        return [file_route("/api/docs", docs)]
    return [_redirect(path, "/api/openapi.json") for path in ("/api/docs", "/docs")]


def file_route(path: str, file: StaticFile) -> dict[str, Any]:
    return {
        "match": {"path": path, "headers": [_get_or_head()]},
        "direct_response": {"status": 200, "body": {"filename": file.filename}},
        "response_headers_to_add": _set_headers(
            {"content-type": file.content_type, "cache-control": file.cache_control}
        ),
        "typed_per_filter_config": disabled(TRANSCODER, BUFFER),
    }


def api_path_regex(api: Api) -> str:
    """Matches every path that belongs to the API or Envoy's documents, query string included."""
    roots = "|".join(re.escape(root) for root in (*api.rest_roots, *DOCUMENT_ROOTS))
    packages = "|".join(re.escape(package) for package in (*api.packages, "grpc"))
    return rf"/(?:{roots})(?:[/?].*)?|/(?:{packages})\..*"


def outside_the_api(api: Api) -> dict[str, Any]:
    """Matches every GET (or HEAD) of a path that is not the API's or Envoy's documents'."""
    return {
        "prefix": "/",
        "headers": [
            _get_or_head(),
            {
                "name": ":path",
                "string_match": {"safe_regex": {"regex": api_path_regex(api)}},
                "invert_match": True,
            },
        ],
    }


def app_fallback(index: StaticFile, api: Api) -> dict[str, Any]:
    """index.html for every other GET: the web app's own links (/models/123) work when opened
    directly or reloaded; the app's router shows the page."""
    route = file_route("/", index)
    route["match"] = outside_the_api(api)
    return route


def web_route(
    match: dict[str, Any], root: str, otherwise: str | None = None, path: str | None = None
) -> dict[str, Any]:
    """GETs of the web app read from `root` when they come (edge.lua answers them; the route
    only says where from): the file of the request's path (or of `path`); a missing file is
    `otherwise` (a redirect), or the app's index."""
    metadata = {"web_root": root}
    if otherwise is not None:
        metadata["otherwise"] = otherwise
    if path is not None:
        metadata["path"] = path
    return {
        "match": match,
        "metadata": {"filter_metadata": {LUA: metadata}},
        "direct_response": {"status": 404},  # never sent: edge.lua has answered
        "typed_per_filter_config": disabled(TRANSCODER, BUFFER),
    }


def web_root_routes(root: str, api: Api) -> list[dict[str, Any]]:
    """/docs is the app's docs/index.html, else the OpenAPI document; every other GET outside the
    API is the app's file of that path, else its index.html."""
    routes = [
        web_route({"path": path, "headers": [_get_or_head()]}, root, "/api/openapi.json", "/docs/")
        for path in ("/api/docs", "/docs", "/docs/")
    ]
    return [*routes, web_route(outside_the_api(api), root)]


def static_routes(files: list[StaticFile], api: Api) -> list[dict[str, Any]]:
    routes = [file_route(path, file) for file in files for path in file.url_paths]
    index = next((file for file in files if str(file.relative) == INDEX), None)
    if index is not None:
        routes.append(app_fallback(index, api))
    return routes


def route_config(config: EnvoyConfig, api: Api) -> dict[str, Any]:
    files = static_files(config.static_dir) if config.static_dir is not None else []
    routes = openapi_routes(config)
    if config.web_root is not None:
        routes += api_routes(api) + web_root_routes(config.web_root, api)
    else:
        routes += docs_routes(files) + api_routes(api) + static_routes(files, api)
    return {
        "name": "catapult",
        "max_direct_response_body_size_bytes": max(
            [MAX_DIRECT_RESPONSE_BYTES, *(file.size for file in files)]
        ),
        "virtual_hosts": [
            {
                "name": "catapult",
                "domains": ["*"],
                "routes": routes,
                # The server records the client's address (the audit log's peer) from
                # x-forwarded-for. Envoy replaces whatever the client sent with the address of
                # the connection it accepted, so a client cannot name another address.
                "request_headers_to_add": _set_headers(
                    {"x-forwarded-for": "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%"}
                ),
            }
        ],
    }
