"""The HTTP filter chain, in order. Envoy runs the filters in this order on a request and in the
reverse order on its response, so a filter placed earlier sees the response later."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from catapult_server.envoy.descriptor import Api
from catapult_server.envoy.replies import LOCAL_REPLY_HEADER, REQUEST_METADATA
from catapult_server.envoy.settings import EnvoyConfig
from catapult_server.envoy.static_site import (
    CONTENT_TYPES,
    DEFAULT_CONTENT_TYPE,
    HASHED_DIR,
    IMMUTABLE,
    INDEX,
    REVALIDATE,
)

GRPC_WEB = "envoy.filters.http.grpc_web"
COMPRESSOR = "envoy.filters.http.compressor"
LUA = "envoy.filters.http.lua"
BUFFER = "envoy.filters.http.buffer"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"
ROUTER = "envoy.filters.http.router"

# Responses of these types are gzipped for clients that accept it: the web app's text files, the
# OpenAPI document and REST JSON. Not text/event-stream: gzip would hold events back until its
# buffer fills. (gRPC and gRPC-Web responses are never of these types.)
COMPRESSIBLE_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
    "text/plain",
)


def type_url(name: str) -> str:
    """The @type of an Envoy API message, e.g. type_url("config.route.v3.FilterConfig")."""
    return "type.googleapis.com/envoy." + name


def _filter(name: str, message: str, **config: Any) -> dict[str, Any]:
    return {"name": name, "typed_config": {"@type": type_url(message), **config}}


def grpc_web_filter() -> dict[str, Any]:
    """gRPC-Web (browsers) becomes gRPC before anything else looks at the request, so the
    transcoder passes it through as the native gRPC it now is."""
    return _filter(GRPC_WEB, "extensions.filters.http.grpc_web.v3.GrpcWeb")


def compressor_filter() -> dict[str, Any]:
    """gzip, early in the chain so that it compresses responses last, after the Lua filter has
    rewritten Envoy's error replies."""
    # Any parameters after the type (`; charset=utf-8`) too.
    types = "(?:" + "|".join(re.escape(name) for name in COMPRESSIBLE_TYPES) + r")(?:\s*;.*)?"
    return _filter(
        COMPRESSOR,
        "extensions.filters.http.compressor.v3.Compressor",
        response_direction_config={
            "common_config": {"content_type_matcher": {"safe_regex": {"regex": types}}}
        },
        compressor_library={
            "name": "gzip",
            "typed_config": {"@type": type_url("extensions.compression.gzip.compressor.v3.Gzip")},
        },
    )


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of printable ASCII is a Lua string literal too


def lua_source() -> str:
    """edge.lua, with the names it shares with the rest of the config put in front of it: the
    metadata and header names, and how a web app's files are served (static_site.py)."""
    code = resources.files("catapult_server.envoy").joinpath("edge.lua").read_text()
    types = ", ".join(f"[{_lua_string(ext)}] = {_lua_string(kind)}" for ext, kind in CONTENT_TYPES.items())
    constants = {
        "METADATA": REQUEST_METADATA,
        "LOCAL_REPLY": LOCAL_REPLY_HEADER,
        "WEB_INDEX": INDEX,
        "WEB_HASHED_DIR": HASHED_DIR,
        "WEB_IMMUTABLE": IMMUTABLE,
        "WEB_REVALIDATE": REVALIDATE,
        "WEB_DEFAULT_TYPE": DEFAULT_CONTENT_TYPE,
    }
    lines = [f"local {name} = {_lua_string(value)}" for name, value in constants.items()]
    lines.append(f"local WEB_TYPES = {{ {types} }}")
    return "\n".join(lines) + "\n" + code


def lua_filter() -> dict[str, Any]:
    """Before the transcoder, which rewrites the path and method: see edge.lua."""
    return _filter(
        LUA, "extensions.filters.http.lua.v3.Lua", default_source_code={"inline_string": lua_source()}
    )


def buffer_filter(config: EnvoyConfig) -> dict[str, Any]:
    """The REST body cap: 413 above max_request_bytes. (The transcoder's own
    max_request_body_size bounds only its internal buffer, not the body.) Switched off on the
    native gRPC routes, whose streams a buffer would stall."""
    return _filter(
        BUFFER, "extensions.filters.http.buffer.v3.Buffer", max_request_bytes=config.max_request_bytes
    )


def transcoder_filter(config: EnvoyConfig, api: Api) -> dict[str, Any]:
    """REST/JSON ⇄ gRPC for the descriptor's services."""
    return _filter(
        TRANSCODER,
        "extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
        proto_descriptor=config.descriptor_path,
        services=list(api.services),
        print_options={
            # The design's JSON: snake_case names and every field, defaults included.
            "preserve_proto_field_names": True,
            "add_whitespace": False,
            "always_print_primitive_fields": True,
            "always_print_enums_as_ints": False,
            # A server-streaming method's messages go out as server-sent events (`data: {…}`
            # and a blank line each), which curl and a browser's EventSource follow.
            "stream_sse_style_delimited": True,
        },
        # The server's google.rpc.Status (with ErrorInfo and BadRequest details) becomes the body.
        # The descriptor set must include google/rpc/error_details.proto for the details to survive.
        convert_grpc_status=True,
        # Unknown routes are 404 and unknown query parameters 400, rather than requests passed on
        # untranscoded to end as a misleading 503.
        request_validation_options={
            "reject_unknown_method": True,
            "reject_unknown_query_parameters": True,
            "reject_binding_body_field_collisions": True,
        },
        query_param_unescape_plus=True,
    )


def router_filter() -> dict[str, Any]:
    return _filter(ROUTER, "extensions.filters.http.router.v3.Router")


def http_filters(config: EnvoyConfig, api: Api) -> list[dict[str, Any]]:
    return [
        grpc_web_filter(),
        compressor_filter(),
        lua_filter(),
        buffer_filter(config),
        transcoder_filter(config, api),
        router_filter(),
    ]
