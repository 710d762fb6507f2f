"""A stand-in for the Catapult server behind Envoy, for what the real one cannot show yet or at
all: it answers every unary call with the request headers it received (so a test sees exactly
what Envoy forwards), streams for a server-streaming method the real API does not have yet, and
passes Envoy's grpc.health.v1 check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health, health_pb2_grpc

from catapult.v1 import deployment_pb2
from catapult_server import envoy
from tests.support.rest import Rest

# The server-streaming method added to the descriptor set: a watch of deployments, as the watch
# issue designs it (the filters of ListDeployments, a Deployment per event, a REST GET).
WATCH_METHOD = "/catapult.v1.DeploymentService/WatchDeployments"
WATCH_PATH = "/v1/deployments:watch"


def descriptor_with_watch(envoy_dir: Path) -> Path:
    """A copy of the repository's envoy/ files in `envoy_dir` whose descriptor set has
    DeploymentService.WatchDeployments (server streaming, GET /v1/deployments:watch)."""
    envoy_dir.mkdir(parents=True, exist_ok=True)
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString((envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE).read_bytes())
    (service,) = [
        s
        for f in descriptor_set.file
        if f.package == "catapult.v1"
        for s in f.service
        if s.name == "DeploymentService"
    ]
    method = service.method.add(
        name="WatchDeployments",
        input_type=".catapult.v1.ListDeploymentsRequest",
        output_type=".catapult.v1.Deployment",
        server_streaming=True,
    )
    method.options.Extensions[annotations_pb2.http].CopyFrom(http_pb2.HttpRule(get=WATCH_PATH))
    (envoy_dir / envoy.DESCRIPTOR_FILE).write_bytes(descriptor_set.SerializeToString())
    openapi = envoy.REPO_ENVOY_DIR / envoy.OPENAPI_FILE
    (envoy_dir / envoy.OPENAPI_FILE).write_bytes(openapi.read_bytes())
    return envoy_dir


@dataclass
class FakeUpstream(grpc.GenericRpcHandler):
    port: int = 0
    # Request headers (gRPC metadata) of every unary call, in arrival order.
    seen: list[dict[str, str]] = field(default_factory=list)
    # The deployments each watch sends before it stays open, silent, until the client leaves.
    watch_events: list[deployment_pb2.Deployment] = field(default_factory=list)
    watch_interval: float = 0.0

    async def _echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        headers = {key: str(value) for key, value in context.invocation_metadata() or ()}
        self.seen.append(headers)
        return b""  # the empty message: valid for every response type

    async def _watch(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for event in self.watch_events:
            yield event.SerializeToString()
            await asyncio.sleep(self.watch_interval)
        await asyncio.Event().wait()  # a watch does not end by itself

    def service(self, call: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        """The handler of each method (grpc.GenericRpcHandler)."""
        identity: Callable[[Any], Any] = lambda message: message  # noqa: E731 (raw bytes both ways)
        if call.method == WATCH_METHOD:
            return grpc.unary_stream_rpc_method_handler(self._watch, identity, identity)
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
    """Envoy in front of the fake upstream, with its watch method."""

    upstream: FakeUpstream
    rest: Rest
