"""Deployments through both clients: recording by release id or by model, version and
quantization, listing "what is live where", updating and terminating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import catapult
from tests.sdk.conftest import collect


async def test_record_deployment_by_release_id_or_by_model_and_version(client: catapult.AsyncClient) -> None:
    await client.create_model("m", storage_path="s3://m/", company="CompanyA")
    fp16 = await client.create_release("m", "1.0.0", quantization="fp16", tag="v1.0-fp16")
    int8 = await client.create_release("m", "1.0.0", quantization="int8")
    plain = await client.create_release("m", "2.0.0")

    deployed_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    by_id = await client.record_deployment(
        fp16.id,
        environment="production",
        cluster="k8s-prod-us-west-2",
        k8s_namespace="ml-prod",
        endpoint_url="https://api.companyA.prod/v1/llama",
        replicas=3,
        status="success",
        deployed_by="alice",
        deployed_at=deployed_at,
        metadata={"gpu_type": "nvidia-a100"},
    )
    assert (by_id.release_id, by_id.model_name, by_id.company, by_id.release_tag) == (
        fp16.id,
        "m",
        "CompanyA",
        "v1.0-fp16",
    )
    assert catapult.as_datetime(by_id.deployed_at) == deployed_at
    assert catapult.as_datetime(by_id.terminated_at) is None

    by_version = await client.record_deployment(
        model="m", version="1.0.0", quantization="int8", environment="staging"
    )
    assert by_version.release_id == int8.id and by_version.status == "deploying"
    only_one = await client.record_deployment(model="m", version="2.0.0", environment="development")
    assert only_one.release_id == plain.id

    with pytest.raises(ValueError, match="several quantizations"):
        await client.record_deployment(model="m", version="1.0.0", environment="staging")
    with pytest.raises(catapult.NotFoundError):
        await client.record_deployment(model="m", version="1.0.0", quantization="", environment="staging")
    with pytest.raises(catapult.NotFoundError):
        await client.record_deployment(model="m", version="9.9.9", environment="staging")
    with pytest.raises(ValueError, match="not both"):
        await client.record_deployment(fp16.id, model="m", version="1.0.0", environment="staging")
    with pytest.raises(ValueError, match="needs release_id"):
        await client.record_deployment(environment="staging")


async def test_deprecated_release_needs_force(client: catapult.AsyncClient) -> None:
    await client.create_model("m", storage_path="s3://m/")
    release = await client.create_release("m", "1.0.0")
    await client.deprecate_release(release.id)
    with pytest.raises(catapult.FailedPreconditionError) as refused:
        await client.record_deployment(release.id, environment="production")
    assert refused.value.reason == "RELEASE_DEPRECATED"
    assert (
        await client.record_deployment(release.id, environment="production", force=True)
    ).release_id == release.id


async def test_list_update_and_terminate_deployments(client: catapult.AsyncClient) -> None:
    model = await client.create_model("m", storage_path="s3://m/", company="CompanyA")
    await client.create_model("other", storage_path="s3://o/", company="CompanyB")
    release = await client.create_release("m", "1.0.0")
    other = await client.create_release("other", "1.0.0")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    old = await client.record_deployment(
        release.id, environment="production", status="success", cluster="c1", deployed_at=start
    )
    new = await client.record_deployment(
        release.id,
        environment="production",
        status="success",
        cluster="c2",
        k8s_namespace="ns",
        endpoint_url="https://e/1",
        deployed_at=start + timedelta(days=2),
    )
    elsewhere = await client.record_deployment(
        other.id, environment="staging", deployed_at=start + timedelta(days=1)
    )

    async def ids(**filters: object) -> list[str]:
        return [d.id for d in await collect(client.list_deployments(**filters))]  # type: ignore[arg-type]

    assert await ids(page_size=1) == [new.id, elsewhere.id, old.id]
    assert await ids(order_by="deployed_at") == [old.id, elsewhere.id, new.id]
    assert await ids(environment="production", status="success") == [new.id, old.id]
    assert await ids(model="m") == [new.id, old.id]
    assert await ids(model=model.id) == [new.id, old.id]
    assert await ids(company="CompanyB") == [elsewhere.id]
    assert await ids(release_id=other.id) == [elsewhere.id]
    assert await ids(cluster="c2", k8s_namespace="ns", endpoint_url="https://e/1") == [new.id]
    assert await ids(
        deployed_after=start + timedelta(hours=1), deployed_before=start + timedelta(days=2)
    ) == [elsewhere.id]
    assert await client.get_deployment(new.id) == new

    scaled = await client.update_deployment(new.id, replicas=5, status="failed", metadata={"note": "oom"})
    assert (scaled.replicas, scaled.status, catapult.as_dict(scaled.metadata)) == (
        5,
        "failed",
        {"note": "oom"},
    )
    with pytest.raises(catapult.ConflictError):
        await client.update_deployment(new.id, replicas=1, etag=new.etag)

    terminated = await client.terminate_deployment(old.id, etag=old.etag)
    assert terminated.status == "terminated"
    assert catapult.as_datetime(terminated.terminated_at) is not None
    assert await client.terminate_deployment(old.id) == terminated, "terminating twice changes nothing"
    assert await ids(active_only=True, model="m") == [new.id]
    assert (await client.get_deployment(old.id)).status == "terminated", "the record is kept"
