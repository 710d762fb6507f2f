"""What the Envoy config needs to know about the API, read from the descriptor set (the protos
are the one source of truth: nothing here lists a service, a route or a streaming method)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2


@dataclass(frozen=True)
class Api:
    # Fully qualified names of the services to transcode, e.g. "catapult.v1.ModelService".
    services: tuple[str, ...]
    # gRPC paths ("/catapult.v1.DeploymentService/WatchDeployments") of the server-streaming
    # methods: their routes must not time out.
    streaming_methods: tuple[str, ...]
    # The first segment of every google.api.http path ("v1", "health"): REST paths under these
    # belong to the API, never to the web app.
    rest_roots: tuple[str, ...]

    @property
    def packages(self) -> tuple[str, ...]:
        """The proto packages of the services ("catapult.v1"): native gRPC paths start with them."""
        return tuple(sorted({name.rsplit(".", 1)[0] for name in self.services}))


def _http_paths(rule: Any) -> list[str]:
    """Every path of a google.api.HttpRule, its additional bindings' included."""
    paths = []
    for binding in [rule, *rule.additional_bindings]:
        pattern = binding.WhichOneof("pattern")
        if pattern == "custom":
            paths.append(binding.custom.path)
        elif pattern:
            paths.append(getattr(binding, pattern))
    return paths


def read_api(path: Path) -> Api:
    """The services, streaming methods and REST path roots the descriptor set defines outside
    google.*."""
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(path.read_bytes())
    services: list[str] = []
    streaming: list[str] = []
    roots: set[str] = set()
    for file in descriptor_set.file:
        if file.package.startswith("google."):
            continue
        for service in file.service:
            name = f"{file.package}.{service.name}" if file.package else service.name
            services.append(name)
            for method in service.method:
                if method.server_streaming:
                    streaming.append(f"/{name}/{method.name}")
                for http_path in _http_paths(method.options.Extensions[annotations_pb2.http]):
                    roots.add(http_path.lstrip("/").split("/", 1)[0].split(":", 1)[0])
    if not services:
        raise ValueError(f"{path} defines no services")
    return Api(tuple(sorted(services)), tuple(sorted(streaming)), tuple(sorted(roots - {""})))
