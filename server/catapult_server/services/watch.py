"""Watch RPCs: which changes each stream keeps, as tables like the List RPCs' (listing.py).

A watch request's filter fields each map to one predicate on a ChangeEvent, checked against the
request message at import: a filter added to the proto without a row here stops the server from
starting. A predicate receives the field's value and returns the test an event must pass; an
unset field keeps every event.

API keys are an admin's business (ApiKeyService is admin-only): their changes reach admin
watchers only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from catapult.v1 import change_pb2, change_service_pb2, deployment_service_pb2
from catapult_server.auth import Caller
from catapult_server.changes import ChangeFeed, Filter
from catapult_server.db.schema import LIVE_STATUS
from catapult_server.errors import PermissionDenied
from catapult_server.listing import ContractError

Event = change_pb2.ChangeEvent
EventTest = Callable[[Any], Filter]


def deployment_field(name: str) -> EventTest:
    """The deployment after the change has this value in `name`."""
    return lambda value: lambda event: getattr(event.deployment, name) == value


def event_field(name: str) -> EventTest:
    return lambda value: lambda event: getattr(event, name) == value


def live_or_leaving(_: Any) -> Filter:
    """Live after the change, or stopped being live by it (superseded, terminated): a watcher of
    what is live sees the new deployment arrive and the one it replaced leave."""

    def test(event: Event) -> bool:
        deployment = event.deployment
        return deployment.status == LIVE_STATUS or (
            event.type in ("superseded", "terminated") and deployment.HasField("live_since")
        )

    return test


@dataclass(frozen=True)
class Watch:
    """One watch RPC: its request message, the events it streams, a test per filter field."""

    request: type[Message]
    resource_type: str  # "" for every resource type
    filters: Mapping[str, EventTest]

    def __post_init__(self) -> None:
        fields = {f.name for f in self.request.DESCRIPTOR.fields if f.name != "cursor"}
        missing, unknown = sorted(fields - set(self.filters)), sorted(set(self.filters) - fields)
        if missing or unknown:
            raise ContractError(
                f"{self.request.DESCRIPTOR.full_name}: filter fields without a test {missing}, "
                f"tests naming no field {unknown}"
            )

    def filter_of(self, request: Message, caller: Caller) -> tuple[Filter, Hashable]:
        """The test a change must pass for this request and caller, and a name for it: requests
        with equal filters by callers who may see the same have equal names."""
        given = {name: getattr(request, name) for name in self.filters if getattr(request, name)}
        tests = [self.filters[name](value) for name, value in given.items()]
        kind = self.resource_type
        admin = caller.role == "admin"
        if not admin:
            if given.get("resource_type") == API_KEY:
                raise PermissionDenied(
                    f"watching API keys needs an admin key; {caller.key_name!r} is {caller.role}"
                )
            tests.append(lambda event: event.resource_type != API_KEY)

        def wants(event: Event) -> bool:
            return (not kind or event.resource_type == kind) and all(test(event) for test in tests)

        return wants, (self.request.DESCRIPTOR.full_name, tuple(sorted(given.items())), admin)

    def stream(
        self,
        feed: ChangeFeed,
        request: Any,
        caller: Caller,
        still_allowed: Callable[[], Awaitable[None]],
    ) -> AsyncIterator[bytes]:
        """The encoded ChangeBatches of one watch call."""
        wants, group = self.filter_of(request, caller)
        return feed.watch(str(caller.key_id), wants, group, request.cursor, still_allowed)


API_KEY = "api_key"


DEPLOYMENTS = Watch(
    deployment_service_pb2.WatchDeploymentsRequest,
    "deployment",
    {
        "environment": deployment_field("environment"),
        "status": deployment_field("status"),
        "cluster": deployment_field("cluster"),
        "k8s_namespace": deployment_field("k8s_namespace"),
        "company": deployment_field("company"),
        "model_id": deployment_field("model_id"),
        "model_name": deployment_field("model_name"),
        "release_id": deployment_field("release_id"),
        "endpoint_url": deployment_field("endpoint_url"),
        "active_only": live_or_leaving,
        "digest": deployment_field("release_digest"),
        "release_status": deployment_field("release_status"),
    },
)

CHANGES = Watch(
    change_service_pb2.WatchChangesRequest,
    "",
    {"resource_type": event_field("resource_type"), "resource_id": event_field("resource_id")},
)
