"""A stand-in for the Catapult server behind Envoy, for what the real one cannot show: it answers
every unary call with the request headers it received (so a test sees exactly what Envoy
forwards), and passes Envoy's grpc.health.v1 check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from tests.support.rest import Rest


@dataclass
class FakeUpstream(grpc.GenericRpcHandler):
    port: int = 0
    # Request headers (gRPC metadata) of every unary call, in arrival order.
    seen: list[dict[str, str]] = field(default_factory=list)

    async def _echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        headers = {key: str(value) for key, value in context.invocation_metadata() or ()}
        self.seen.append(headers)
        return b""  # the empty message: valid for every response type

    def service(self, call: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        """The handler of each method (grpc.GenericRpcHandler)."""
        identity: Callable[[Any], Any] = lambda message: message  # noqa: E731 (raw bytes both ways)
        if call.method.startswith("/catapult.v1."):
            return grpc.unary_unary_rpc_method_handler(self._echo, identity, identity)
        return None

    async def start(self) -> grpc.aio.Server:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        server.add_generic_rpc_handlers((self,))
        self.port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server


@dataclass
class FakeStack:
    """Envoy in front of the fake upstream."""

    upstream: FakeUpstream
    rest: Rest
