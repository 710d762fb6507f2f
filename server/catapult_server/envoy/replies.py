"""Envoy's own error replies (no route, a request the transcoder cannot read, a body over the cap,
no server to send it to) in the form the server's errors take: a JSON google.rpc.Status whose
details carry a google.rpc.ErrorInfo (domain "catapult", a stable reason) with the same HTTP
status. Native gRPC calls keep gRPC's form (grpc-status, a plain grpc-message).

Two steps, because Envoy's formatters cannot take a message apart:
- `local_reply_config` (here) turns every such reply into the Status, by HTTP status: the
  google.rpc.Code, the reason and a message. It applies to every local reply, even those sent
  before any HTTP filter ran, so no reply is ever text/plain;
- the Lua filter (edge.lua) then rewrites the transcoder's 400s, which name what was wrong in
  their text, into a readable message with the field in the ErrorInfo and a BadRequest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catapult.v1 import error_reason_pb2
from catapult_server.envoy.settings import EnvoyConfig

# Set on the 400 replies for the Lua filter to rewrite (and removed by it); the value is Envoy's
# response code details, which tell the transcoder's rejections from others.
LOCAL_REPLY_HEADER = "x-catapult-local-reply"
# The stream dynamic-metadata namespace where the Lua filter keeps the client's method and path.
REQUEST_METADATA = "catapult"
CLIENT_METHOD = f"%DYNAMIC_METADATA({REQUEST_METADATA}:method)%"
CLIENT_PATH = f"%DYNAMIC_METADATA({REQUEST_METADATA}:path)%"

# The ErrorInfo reasons only Envoy gives (their meaning is documented in error_reason.proto).
MALFORMED_REQUEST = error_reason_pb2.ErrorReason.Name(error_reason_pb2.MALFORMED_REQUEST)
ROUTE_NOT_FOUND = error_reason_pb2.ErrorReason.Name(error_reason_pb2.ROUTE_NOT_FOUND)
REQUEST_TOO_LARGE = error_reason_pb2.ErrorReason.Name(error_reason_pb2.REQUEST_TOO_LARGE)
SERVER_UNAVAILABLE = error_reason_pb2.ErrorReason.Name(error_reason_pb2.SERVER_UNAVAILABLE)


@dataclass(frozen=True)
class LocalReply:
    """What a REST client gets when Envoy itself answers with `http_status`."""

    http_status: int
    code: int  # google.rpc.Code, the inverse of the gRPC → HTTP mapping the transcoder applies
    reason: str
    # An Envoy format string: %LOCAL_REPLY_BODY% is Envoy's own text ("no healthy upstream").
    message: str
    metadata: tuple[tuple[str, str], ...] = ()


def local_replies(config: EnvoyConfig) -> list[LocalReply]:
    """The error replies Envoy can make itself in this config, by HTTP status."""
    no_route = f"no API route for {CLIENT_METHOD} {CLIENT_PATH}; the routes are listed in /api/openapi.json"
    route = (("method", CLIENT_METHOD), ("path", CLIENT_PATH))
    unavailable = "no Catapult server answered (%LOCAL_REPLY_BODY%); retry later"
    return [
        # The transcoder cannot read the request (edge.lua names the field where it can), or
        # HTTP/1 that does not parse.
        LocalReply(400, 3, MALFORMED_REQUEST, "%LOCAL_REPLY_BODY%"),  # INVALID_ARGUMENT
        LocalReply(404, 5, ROUTE_NOT_FOUND, no_route, route),  # NOT_FOUND
        LocalReply(405, 12, ROUTE_NOT_FOUND, no_route, route),  # UNIMPLEMENTED
        # RESOURCE_EXHAUSTED: gRPC's own code for a message over the size limit.
        LocalReply(
            413,
            8,
            REQUEST_TOO_LARGE,
            f"the request body is larger than the {config.max_request_bytes} bytes this API accepts",
            (("limit_bytes", str(config.max_request_bytes)),),
        ),
        LocalReply(431, 8, REQUEST_TOO_LARGE, "the request headers are too large"),
        LocalReply(429, 8, SERVER_UNAVAILABLE, "%LOCAL_REPLY_BODY%"),  # Envoy overloaded: retry later
        LocalReply(500, 13, SERVER_UNAVAILABLE, "%LOCAL_REPLY_BODY%"),  # INTERNAL
        LocalReply(501, 12, ROUTE_NOT_FOUND, "%LOCAL_REPLY_BODY%"),  # UNIMPLEMENTED
        LocalReply(502, 14, SERVER_UNAVAILABLE, unavailable),  # UNAVAILABLE
        LocalReply(503, 14, SERVER_UNAVAILABLE, unavailable),  # UNAVAILABLE: server down, none healthy
        LocalReply(504, 4, SERVER_UNAVAILABLE, unavailable),  # DEADLINE_EXCEEDED: the route's timeout
    ]


# Any other error status (none is expected): UNKNOWN, and the reason of its class.
FALLBACKS = (
    LocalReply(500, 2, SERVER_UNAVAILABLE, "%LOCAL_REPLY_BODY%"),
    LocalReply(400, 2, MALFORMED_REQUEST, "%LOCAL_REPLY_BODY%"),
)


def _status_is(code: int, op: str = "EQ") -> dict[str, Any]:
    """An access-log filter on the reply's HTTP status (`op` EQ or GE)."""
    return {
        "status_code_filter": {
            "comparison": {
                "op": op,
                "value": {"default_value": code, "runtime_key": f"catapult.local_reply.{op.lower()}_{code}"},
            }
        }
    }


def _status_body(reply: LocalReply) -> dict[str, Any]:
    error_info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reply.reason,
        "domain": "catapult",
        "metadata": dict(reply.metadata),
    }
    return {"json_format": {"code": reply.code, "message": reply.message, "details": [error_info]}}


def _native_grpc() -> dict[str, Any]:
    """A gRPC request the transcoder did not make (it marks its own with x-envoy-original-path):
    native gRPC, and gRPC-Web after the grpc_web filter has turned it into gRPC."""
    return {
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


def local_reply_config(config: EnvoyConfig) -> dict[str, Any]:
    """The HTTP connection manager's local_reply_config: the first mapper whose filter matches
    applies; one without an override leaves the reply as Envoy made it."""
    mappers: list[dict[str, Any]] = [{"filter": _native_grpc()}]
    for reply in local_replies(config):
        mapper: dict[str, Any] = {
            "filter": _status_is(reply.http_status),
            "body_format_override": _status_body(reply),
        }
        if reply.http_status == 400:
            mapper["headers_to_add"] = [
                {
                    "header": {"key": LOCAL_REPLY_HEADER, "value": "%RESPONSE_CODE_DETAILS%"},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ]
        mappers.append(mapper)
    mappers += [
        {"filter": _status_is(reply.http_status, "GE"), "body_format_override": _status_body(reply)}
        for reply in FALLBACKS
    ]
    return {"mappers": mappers}
