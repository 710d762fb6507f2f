"""What the Envoy config needs to know about the API, read from the descriptor set (the protos
are the one source of truth: nothing here lists a service, a route or a streaming method)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2


@dataclass(frozen=True)
class Api:
    # Fully qualified names of the services to transcode, e.g. "catapult.v1.ModelService".
    services: tuple[str, ...]
    # gRPC paths ("/catapult.v1.DeploymentService/WatchDeployments") of the server-streaming
    # methods: their routes must not time out.
    streaming_methods: tuple[str, ...]

    @property
    def packages(self) -> tuple[str, ...]:
        """The proto packages of the services ("catapult.v1"): native gRPC paths start with them."""
        return tuple(sorted({name.rsplit(".", 1)[0] for name in self.services}))


def read_api(path: Path) -> Api:
    """The services and streaming methods the descriptor set defines outside google.*."""
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(path.read_bytes())
    services: list[str] = []
    streaming: list[str] = []
    for file in descriptor_set.file:
        if file.package.startswith("google."):
            continue
        for service in file.service:
            name = f"{file.package}.{service.name}" if file.package else service.name
            services.append(name)
            streaming += [f"/{name}/{method.name}" for method in service.method if method.server_streaming]
    if not services:
        raise ValueError(f"{path} defines no services")
    return Api(tuple(sorted(services)), tuple(sorted(streaming)))
