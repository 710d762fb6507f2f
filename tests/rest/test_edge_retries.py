"""Envoy's retries, one call at a time, through a proxy that loses the server's first answer: the
call ran, and its reply never came, as when a server dies between commit and reply. (Envoy
health-checks the server directly, so only the calls go through the lossy proxy.)

A create that carries an idempotency-key (the SDK sends its request_id as one, REST clients send
the header) is retried by Envoy and made once. A write without one reaches the client as
UNAVAILABLE and Envoy does not repeat it, though it ran: the client retries with its own
request_id. tests/test_scale_out.py does the same with real servers killed under load."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

import catapult
from catapult.v1 import model_pb2, model_service_pb2
from catapult_server.server import CatapultServer
from tests.support.api import Stubs, auth, unique
from tests.support.lossy_proxy import LossyProxy
from tests.support.rest import Rest, envoy_in_front
from tests.support.sdk import collect

RETRIES = "cluster.catapult_grpc.upstream_rq_retry"


@pytest.fixture
async def edge(
    server: CatapultServer, lossy: LossyProxy, writer_key: str, tmp_path: Path
) -> AsyncIterator[Rest]:
    """Envoy in front of the lossy proxy, sending `writer_key`."""

    def health_checks_go_direct(config: dict[str, Any]) -> None:
        (cluster,) = config["static_resources"]["clusters"]
        (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
        endpoint["endpoint"]["health_check_config"] = {"port_value": server.port}

    async with envoy_in_front(
        lossy.port, tmp_path / "envoy", writer_key, adjust=health_checks_go_direct
    ) as rest:
        yield rest


async def test_an_sdk_create_whose_answer_is_lost_is_retried_by_envoy_into_one_model(
    edge: Rest, lossy: LossyProxy, writer_key: str
) -> None:
    name = unique("lost-answer")
    async with catapult.AsyncClient(
        f"127.0.0.1:{edge.port}", api_key=writer_key, retry=catapult.RetryPolicy.disabled()
    ) as client:
        model = await client.create_model(name, storage_path="s3://ml-models/lost-answer/")
        assert lossy.lost == 1, "the first attempt ran, and its answer never reached Envoy"
        assert await edge.counter(RETRIES) == 1, "Envoy, not the client, tried again"
        assert [m.id for m in await collect(client.list_models(search=name))] == [model.id]


async def test_a_write_without_an_idempotency_key_is_not_retried_by_envoy(
    edge: Rest, lossy: LossyProxy, writer_key: str
) -> None:
    name = unique("lost-answer")
    # The request_id in the body alone: Envoy cannot read it, so it must not send the call again.
    request = model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(name=name, storage_path="s3://ml-models/lost-answer/"), request_id=f"req-{name}"
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{edge.port}") as channel:
        stubs = Stubs.for_channel(channel)
        with pytest.raises(grpc.aio.AioRpcError) as lost:
            await stubs.models.CreateModel(request, metadata=auth(writer_key))
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE  # Envoy's own: the connection was reset
        assert lossy.lost == 1
        assert await edge.counter(RETRIES) == 0
        # It ran all the same: the client's own retry, with the same request_id, gets that model.
        again = await stubs.models.CreateModel(request, metadata=auth(writer_key))
        listed = await stubs.models.ListModels(
            model_service_pb2.ListModelsRequest(search=name), metadata=auth(writer_key)
        )
    assert [m.id for m in listed.models] == [again.id]


async def test_a_rest_create_is_retried_by_envoy_only_with_an_idempotency_key_header(
    edge: Rest, lossy: LossyProxy
) -> None:
    name = unique("lost-answer")
    body = {"name": name, "storage_path": "s3://ml-models/lost-answer/"}
    created = await edge.post("/api/v1/models", body, headers={"Idempotency-Key": f"req-{name}"})
    assert created.status == 200, created
    assert (lossy.lost, await edge.counter(RETRIES)) == (1, 1)

    lossy.lose += 1
    other = {"name": f"{name}-2", "storage_path": "s3://ml-models/lost-answer/"}
    lost = await edge.post("/api/v1/models", other, query={"request_id": f"req-{name}-2"})
    assert lost.status == 503, lost
    assert (lossy.lost, await edge.counter(RETRIES)) == (2, 1)
    listed = await edge.ok("GET", "/api/v1/models", query={"search": name})
    assert sorted(m["name"] for m in listed["models"]) == [name, f"{name}-2"], "each made once"
