"""The benchmark's bulk loader writes rows the API reads like its own."""

from __future__ import annotations

import asyncpg

from bench import seed
from catapult.v1 import artifact_service_pb2, deployment_service_pb2, model_service_pb2, release_service_pb2
from tests.support.api import Stubs


async def test_seeded_rows_read_like_api_rows(database_url: str, stubs: Stubs, reader_key: str) -> None:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await seed.seed_catalogue(conn, models=3, releases_per_model=4)
        assert await seed.grow_deployments(conn, 30) == 30
        assert await seed.grow_deployments(conn, 45) == 15, "the table grows in steps"
    finally:
        await conn.close()
    auth = (("x-api-key", reader_key),)
    models = await stubs.models.ListModels(model_service_pb2.ListModelsRequest(), metadata=auth)
    assert len(models.models) == 3 and all(m.etag for m in models.models)
    latest = await stubs.releases.GetLatestRelease(
        release_service_pb2.GetLatestReleaseRequest(model_name=models.models[0].name), metadata=auth
    )
    assert latest.model_name == models.models[0].name
    seen = []
    token = ""
    while True:
        page = await stubs.deployments.ListDeployments(
            deployment_service_pb2.ListDeploymentsRequest(page_size=10, page_token=token), metadata=auth
        )
        seen += page.deployments
        token = page.next_page_token
        if not token:
            break
    assert len({d.id for d in seen}) == 45
    assert all(d.model_name and d.release_version and d.company for d in seen)
    assert {d.status for d in seen} <= {"success", "failed", "terminated", "deploying"}

    # The shared runtime wheel's blast radius reads like an API-recorded one.
    (carrier,) = (
        await stubs.artifacts.ListArtifacts(
            artifact_service_pb2.ListArtifactsRequest(checksum=seed.SHARED_CHECKSUM), metadata=auth
        )
    ).artifacts
    carrying = await stubs.deployments.ListDeployments(
        deployment_service_pb2.ListDeploymentsRequest(artifact_checksum=seed.SHARED_CHECKSUM), metadata=auth
    )
    expected = {d.id for d in seen if d.release_id == carrier.release_id}
    assert expected and {d.id for d in carrying.deployments} == expected
