"""Deployments through both clients: recording by release id or by model, version and
quantization, listing "what is live where", updating and terminating."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import catapult
from tests.support.sdk import collect


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
    assert by_version.release_id == int8.id and by_version.status == "success", "live by default"
    only_one = await client.record_deployment(model="m", version="2.0.0", environment="development")
    assert only_one.release_id == plain.id


FP16 = "<the fp16 release's id>"
# record_deployment's arguments that name no single release, and what they raise.
NO_SINGLE_RELEASE: dict[str, tuple[dict[str, str], type[Exception], str | None]] = {
    "several quantizations": ({"model": "m", "version": "1.0.0"}, ValueError, "several quantizations"),
    "no release without one": (
        {"model": "m", "version": "1.0.0", "quantization": ""},
        catapult.NotFoundError,
        None,
    ),
    "unknown version": ({"model": "m", "version": "9.9.9"}, catapult.NotFoundError, None),
    "release id and model": ({"release_id": FP16, "model": "m", "version": "1.0.0"}, ValueError, "not both"),
    "neither": ({}, ValueError, "needs release_id"),
}


@pytest.mark.parametrize(
    ("arguments", "error", "match"), NO_SINGLE_RELEASE.values(), ids=NO_SINGLE_RELEASE.keys()
)
async def test_record_deployment_needs_exactly_one_release(
    client: catapult.AsyncClient, arguments: dict[str, str], error: type[Exception], match: str | None
) -> None:
    await client.create_model("m", storage_path="s3://m/")
    fp16 = await client.create_release("m", "1.0.0", quantization="fp16")
    await client.create_release("m", "1.0.0", quantization="int8")
    named: dict[str, Any] = {name: fp16.id if value == FP16 else value for name, value in arguments.items()}
    with pytest.raises(error, match=match):
        await client.record_deployment(environment="staging", **named)


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

    scaled = await client.update_deployment(new.id, replicas=5, metadata={"note": "oom"})
    assert (scaled.replicas, scaled.status, catapult.as_dict(scaled.metadata)) == (
        5,
        "success",
        {"note": "oom"},
    )
    with pytest.raises(catapult.FailedPreconditionError) as backwards:
        await client.update_deployment(new.id, status="failed")
    assert backwards.value.reason == "STATUS_TRANSITION_NOT_ALLOWED"
    with pytest.raises(catapult.ConflictError):
        await client.update_deployment(new.id, replicas=1, etag=new.etag)

    terminated = await client.terminate_deployment(old.id, etag=old.etag)
    assert terminated.status == "terminated"
    assert catapult.as_datetime(terminated.terminated_at) is not None
    assert await client.terminate_deployment(old.id) == terminated, "terminating twice changes nothing"
    assert await ids(active_only=True, model="m") == [new.id]
    assert (await client.get_deployment(old.id)).status == "terminated", "the record is kept"


async def test_what_is_live(client: catapult.AsyncClient) -> None:
    """The questions of the README's "What is live?", through the SDK."""
    await client.create_model("m", storage_path="s3://m/", company="CompanyA")
    v1 = await client.create_release("m", "1.0.0", digest="sha256:one")
    v11 = await client.create_release("m", "1.1.0", digest="sha256:two")
    await client.create_artifact(
        v11.id, "engine.whl", artifact_type="wheel", file_path="s3://a/e.whl", checksum="sha256:whl"
    )
    endpoint = "https://api.companyA.prod/v1/llama"
    first = await client.record_deployment(v1.id, environment="production", endpoint_url=endpoint)
    second = await client.record_deployment(v11.id, environment="production", endpoint_url=endpoint)
    rollback = await client.record_deployment(v1.id, environment="production", endpoint_url=endpoint)
    assert (second.replaces_id, rollback.replaces_id) == (first.id, second.id)

    live = await collect(client.list_deployments(endpoint_url=endpoint, active_only=True))
    assert [d.id for d in live] == [rollback.id]
    at = catapult.as_datetime(second.live_since)
    assert at is not None
    assert [d.id for d in await collect(client.list_deployments(endpoint_url=endpoint, live_at=at))] == [
        second.id
    ]
    history = await collect(client.list_deployments(endpoint_url=endpoint))
    assert [(d.id, d.superseded_by_id) for d in history] == [
        (rollback.id, ""),
        (second.id, rollback.id),
        (first.id, second.id),
    ]
    rollout = await client.get_model_rollout("m")
    assert [(e.environment, [d.release_version for d in e.live]) for e in rollout.environments] == [
        ("production", ["1.0.0"])
    ]
    assert (await client.get_latest_release("m", environment="production")).version == "1.0.0"
    assert [r.id for r in await collect(client.list_releases(digest="sha256:two"))] == [v11.id]
    carrying = await collect(client.list_deployments(artifact_checksum="sha256:whl"))
    assert [d.id for d in carrying] == [second.id]
    assert await collect(client.list_deployments(digest="sha256:two", active_only=True)) == []
    await client.deprecate_release(v1.id)
    stale = await collect(client.list_deployments(release_status="deprecated", active_only=True))
    assert [d.id for d in stale] == [rollback.id]


async def test_slots_supersede_only_within_themselves(client: catapult.AsyncClient) -> None:
    """A model live in 3 environments at 2 endpoints each: six slots, six live deployments, the
    matrix shows them all; 20 deploys racing into one slot leave one live; a deployment that is
    not yet live supersedes nothing until it is updated to success."""
    await client.create_model("slots", storage_path="s3://m/")
    release = await client.create_release("slots", "1.2.0")
    endpoints = {
        (environment, f"https://api.x/{environment}/{n}")
        for environment in ("production", "staging", "development")
        for n in (1, 2)
    }
    placed = [
        await client.record_deployment(release.id, environment=environment, endpoint_url=endpoint)
        for environment, endpoint in sorted(endpoints)
    ]
    assert [d.replaces_id for d in placed] == [""] * 6, "different slots never supersede each other"
    rollout = await client.get_model_rollout("slots")
    assert {(e.environment, d.endpoint_url) for e in rollout.environments for d in e.live} == endpoints

    raced = "https://api.x/production/1"
    racing = await asyncio.gather(
        *(
            client.record_deployment(release.id, environment="production", endpoint_url=raced)
            for _ in range(20)
        )
    )
    history = await collect(client.list_deployments(endpoint_url=raced))
    assert {d.id for d in history} >= {d.id for d in racing}
    live = [d for d in history if d.status == "success"]
    assert len(live) == 1 and live[0].id in {d.id for d in racing}
    assert all(d.superseded_by_id for d in history if d.status == "terminated")

    pending = await client.record_deployment(
        release.id, environment="production", endpoint_url=raced, status="deploying"
    )
    assert not pending.replaces_id and not pending.HasField("live_since")
    assert [d.id for d in await collect(client.list_deployments(endpoint_url=raced, active_only=True))] == [
        live[0].id
    ]
    went_live = await client.update_deployment(pending.id, status="success")
    assert went_live.replaces_id == live[0].id and went_live.HasField("live_since")
    assert [d.id for d in await collect(client.list_deployments(endpoint_url=raced, active_only=True))] == [
        pending.id
    ]


async def test_versions_sort_semantically(client: catapult.AsyncClient) -> None:
    await client.create_model("semver", storage_path="s3://m/")
    for version in ("10.0.0", "1.10.0-rc.1", "9.0.0", "1.2.0"):
        await client.create_release("semver", version)
    ordered = await collect(client.list_releases("semver", order_by="version"))
    assert [r.version for r in ordered] == ["1.2.0", "1.10.0-rc.1", "9.0.0", "10.0.0"]
    assert (await client.get_latest_release("semver")).version == "10.0.0"
