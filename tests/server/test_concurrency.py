"""Concurrent creates of one unique key: exactly one wins, the rest get ALREADY_EXISTS (never
INTERNAL); concurrent retries of one request_id make one resource."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import grpc

from catapult.v1 import audit_log_service_pb2, deployment_service_pb2, model_service_pb2
from catapult_server.server import CatapultServer
from catapult_server.services import deployments
from tests.support.api import Stubs, create_deployment, create_model, create_model_and_release, list_all
from tests.support.errors import describe, error_details


async def test_20_concurrent_creates_of_one_name(stubs: Stubs, writer_key: str) -> None:
    results = await asyncio.gather(
        *(create_model(stubs, writer_key, name="llama-3-7b-companyA") for _ in range(20)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    unexpected = [r for r in errors if not isinstance(r, grpc.aio.AioRpcError)]
    assert not unexpected, unexpected
    outcomes = Counter(
        f"{error_details(e).code.name} {error_details(e).reason}"
        for e in errors
        if isinstance(e, grpc.aio.AioRpcError)
    )
    assert len(created) == 1, f"{len(created)} successes; errors: {dict(outcomes)}"
    assert outcomes == {"ALREADY_EXISTS RESOURCE_ALREADY_EXISTS": 19}, dict(outcomes)
    models = await list_all(
        stubs.models.ListModels, model_service_pb2.ListModelsRequest(), "models", writer_key
    )
    assert [m.id for m in models] == [created[0].id]


async def test_10_concurrent_retries_of_one_request_id(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    results = await asyncio.gather(
        *(
            create_deployment(
                stubs, writer_key, release.id, request_id="req-concurrent-deploy", status="success"
            )
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    failures = [
        describe(r) if isinstance(r, grpc.aio.AioRpcError) else repr(r)
        for r in results
        if isinstance(r, BaseException)
    ]
    assert not failures, failures
    deployment_ids = {r.id for r in results if not isinstance(r, BaseException)}
    assert len(deployment_ids) == 1, deployment_ids
    listed = await list_all(
        stubs.deployments.ListDeployments,
        deployment_service_pb2.ListDeploymentsRequest(release_id=release.id),
        "deployments",
        writer_key,
    )
    assert [d.id for d in listed] == list(deployment_ids)
    audit = await list_all(
        stubs.audit_logs.ListAuditLogs,
        audit_log_service_pb2.ListAuditLogsRequest(resource_type="deployment", action="create"),
        "audit_logs",
        writer_key,
    )
    assert len(audit) == 1, "one deployment, one audit row"


async def test_deploys_of_one_release_do_not_wait_for_one_another(
    stubs: Stubs, writer_key: str, server: CatapultServer
) -> None:
    """A deploy holds its model and release against deletion and deprecation only: another
    deploy of the same release, to another endpoint, goes through while the first is in flight."""
    _, release = await create_model_and_release(stubs, writer_key)
    async with server.db.transaction() as in_flight:
        # What a CreateDeployment holds from its start to its commit.
        await deployments._lock_release(in_flight, uuid.UUID(release.id), force=False)
        async with asyncio.timeout(5):
            made = await create_deployment(
                stubs,
                writer_key,
                release.id,
                status="success",
                endpoint_url="https://meanwhile.example.test/v1",
            )
    assert made.release_id == release.id
