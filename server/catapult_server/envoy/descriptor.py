"""What the Envoy config needs to know about the API, read from the descriptor set (the protos
are the one source of truth: nothing here lists a service, a route or a streaming method)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

# A method the protos mark with one of these levels may be sent again after a failure: it has no
# effect (a read), or the same effect however often it runs.
SAFE_TO_REPEAT = (descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS, descriptor_pb2.MethodOptions.IDEMPOTENT)
# The AIP-155 field a create deduplicates by.
REQUEST_ID_FIELD = "request_id"


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
    # gRPC paths of the methods marked NO_SIDE_EFFECTS or IDEMPOTENT: safe to repeat.
    safe_methods: tuple[str, ...] = ()
    # gRPC paths of the other methods whose request has a request_id (the creates): safe to
    # repeat when the request carries one.
    request_id_methods: tuple[str, ...] = ()

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
    fields = _message_fields(descriptor_set)
    services: list[str] = []
    streaming: list[str] = []
    safe: list[str] = []
    takes_request_id: list[str] = []
    roots: set[str] = set()
    for file in descriptor_set.file:
        if file.package.startswith("google."):
            continue
        for service in file.service:
            name = f"{file.package}.{service.name}" if file.package else service.name
            services.append(name)
            for method in service.method:
                grpc_path = f"/{name}/{method.name}"
                if method.server_streaming:
                    streaming.append(grpc_path)
                if method.options.idempotency_level in SAFE_TO_REPEAT:
                    safe.append(grpc_path)
                elif REQUEST_ID_FIELD in fields[method.input_type.lstrip(".")]:
                    takes_request_id.append(grpc_path)
                for http_path in _http_paths(method.options.Extensions[annotations_pb2.http]):
                    roots.add(http_path.lstrip("/").split("/", 1)[0].split(":", 1)[0])
    if not services:
        raise ValueError(f"{path} defines no services")
    return Api(
        tuple(sorted(services)),
        tuple(sorted(streaming)),
        tuple(sorted(roots - {""})),
        tuple(sorted(safe)),
        tuple(sorted(takes_request_id)),
    )


def _message_fields(descriptor_set: descriptor_pb2.FileDescriptorSet) -> dict[str, set[str]]:
    """The field names of every message the set defines, nested ones included, by full name."""
    fields: dict[str, set[str]] = {}

    def add(prefix: str, messages: Any) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}" if prefix else message.name
            fields[name] = {field.name for field in message.field}
            add(name, message.nested_type)

    for file in descriptor_set.file:
        add(file.package, file.message_type)
    return fields
