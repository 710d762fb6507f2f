"""Envoy's own error replies (no route, a request the transcoder cannot read, a body over the cap,
no server to send it to) in the form the server's errors take: a JSON google.rpc.Status with the
same HTTP status; never text/plain, never an empty body, never 200. Native gRPC calls keep
gRPC's form (grpc-status, a plain grpc-message)."""

from __future__ import annotations

from typing import Any

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


def _status_body(code: int) -> dict[str, Any]:
    return {"json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%", "details": []}}


def _native_grpc() -> dict[str, Any]:
    """A gRPC request the transcoder did not make (it marks its own with x-envoy-original-path)."""
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


def local_reply_config() -> dict[str, Any]:
    """The HTTP connection manager's local_reply_config: the first mapper whose filter matches
    applies; one without an override leaves the reply as Envoy made it."""
    mappers: list[dict[str, Any]] = [{"filter": _native_grpc()}]
    mappers += [
        {"filter": _status_is(http), "body_format_override": _status_body(grpc)}
        for http, grpc in LOCAL_REPLY_CODES.items()
    ]
    mappers.append({"filter": _status_is(400, "GE"), "body_format_override": _status_body(FALLBACK_CODE)})
    return {"mappers": mappers}
