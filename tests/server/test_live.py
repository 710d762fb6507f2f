"""Live truth: what is live where, what it replaced, and what was live at any moment.

The rules (README "What is live?"): live means status "success"; a deployment occupies a slot
(environment + endpoint, or model + environment + cluster + namespace without an endpoint);
one becoming live terminates the others live in its slot, in the same transaction, linking
both ways; a rollback is just a deploy of an older release; live things are never deleted."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from catapult.v1 import (
    audit_log_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)
from tests.support.api import (
    Stubs,
    auth,
    create_artifact,
    create_deployment,
    create_model,
    create_release,
    ids,
    latest_release,
    list_all,
    timestamp,
    to_datetime,
    unique,
)
from tests.support.api import (
    get as get_resource,
)
from tests.support.errors import expect_error

ENDPOINT = "https://api.companyA.prod/v1/llama"


async def get(stubs: Stubs, key: str, deployment_id: str) -> deployment_pb2.Deployment:
    found: deployment_pb2.Deployment = await get_resource(stubs, key, "deployment", deployment_id)
    return found


async def deployments(stubs: Stubs, key: str, **filters: Any) -> list[deployment_pb2.Deployment]:
    request = deployment_service_pb2.ListDeploymentsRequest(**filters)
    return await list_all(stubs.deployments.ListDeployments, request, "deployments", key, page_size=7)


async def update_status(stubs: Stubs, key: str, deployment_id: str, status: str) -> deployment_pb2.Deployment:
    updated: deployment_pb2.Deployment = await stubs.deployments.UpdateDeployment(
        deployment_service_pb2.UpdateDeploymentRequest(
            deployment=deployment_pb2.Deployment(id=deployment_id, status=status),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
        metadata=auth(key),
    )
    return updated


async def three_versions(stubs: Stubs, key: str, company: str = "CompanyA") -> list[release_pb2.Release]:
    model = await create_model(stubs, key, company=company)
    return [await create_release(stubs, key, model.id, version=v) for v in ("1.0.0", "1.1.0", "1.2.0")]


async def test_a_new_deployment_is_live_by_default(stubs: Stubs, writer_key: str) -> None:
    (release, *_) = await three_versions(stubs, writer_key)
    deployment = await create_deployment(stubs, writer_key, release.id, endpoint_url=ENDPOINT)
    assert deployment.status == "success"
    assert deployment.HasField("live_since")
    assert not deployment.replaces_id and not deployment.superseded_by_id


async def test_becoming_live_supersedes_what_was_live_in_the_slot(stubs: Stubs, writer_key: str) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    first = await create_deployment(stubs, writer_key, v1.id, environment="production", endpoint_url=ENDPOINT)
    second = await create_deployment(
        stubs, writer_key, v2.id, environment="production", endpoint_url=ENDPOINT
    )

    assert second.replaces_id == first.id
    old = await get(stubs, writer_key, first.id)
    assert (old.status, old.superseded_by_id) == ("terminated", second.id)
    assert old.terminated_at == second.live_since, "one moment: the old stops when the new starts"

    actions = {}
    for deployment in (first, second):
        logs = await stubs.audit_logs.ListAuditLogs(
            audit_log_service_pb2.ListAuditLogsRequest(resource_id=deployment.id), metadata=auth(writer_key)
        )
        actions[deployment.id] = [log.action for log in logs.audit_logs]
    assert actions == {first.id: ["supersede", "create"], second.id: ["create"]}


async def test_updated_to_success_supersedes_too(stubs: Stubs, writer_key: str) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    live = await create_deployment(stubs, writer_key, v1.id, endpoint_url=ENDPOINT)
    rolling = await create_deployment(stubs, writer_key, v2.id, endpoint_url=ENDPOINT, status="deploying")
    assert (await get(stubs, writer_key, live.id)).status == "success", (
        "deploying is not live: nothing superseded"
    )
    assert not rolling.HasField("live_since")

    done = await update_status(stubs, writer_key, rolling.id, "success")
    assert done.replaces_id == live.id and done.HasField("live_since")
    assert (await get(stubs, writer_key, live.id)).superseded_by_id == rolling.id


async def test_a_rollback_is_a_deploy_of_the_older_release(
    stubs: Stubs, writer_key: str, reader_key: str
) -> None:
    v1, v11, _ = await three_versions(stubs, writer_key)
    other_model = await three_versions(stubs, writer_key)
    # Another model at another endpoint: never in the answer.
    await create_deployment(
        stubs, writer_key, other_model[0].id, environment="production", endpoint_url=ENDPOINT + "2"
    )
    chain = [
        await create_deployment(
            stubs, writer_key, release.id, environment="production", endpoint_url=ENDPOINT
        )
        for release in (v1, v11, v1)
    ]
    live = await deployments(stubs, reader_key, endpoint_url=ENDPOINT, active_only=True, status="success")
    assert ids(live) == [chain[2].id], "only the rollback is live"
    assert live[0].release_version == "1.0.0"
    serving = await latest_release(stubs, reader_key, image_id=v1.image_id, environment="production")
    assert serving.version == "1.0.0", "latest in production is what serves there: the rollback"

    history = await deployments(stubs, reader_key, endpoint_url=ENDPOINT)
    assert ids(history) == [d.id for d in reversed(chain)], "newest first"
    assert [(d.replaces_id, d.superseded_by_id) for d in history] == [
        (chain[1].id, ""),
        (chain[0].id, chain[2].id),
        ("", chain[1].id),
    ]


async def test_concurrent_deploys_into_one_slot_leave_exactly_one_live(stubs: Stubs, writer_key: str) -> None:
    (release, *_) = await three_versions(stubs, writer_key)
    endpoint = f"https://{unique('race')}.example.com/v1"
    created = await asyncio.gather(
        *(
            create_deployment(stubs, writer_key, release.id, endpoint_url=endpoint, cluster=f"c{i}")
            for i in range(20)
        )
    )
    history = await deployments(stubs, writer_key, endpoint_url=endpoint)
    assert sorted(ids(history)) == sorted(d.id for d in created), "every deploy is in the history"
    live = [d for d in history if d.status == "success"]
    assert len(live) == 1
    superseded = [d for d in history if d.status == "terminated"]
    assert len(superseded) == 19 and all(d.superseded_by_id for d in superseded)
    # They took turns: following replaces_id from the live one walks through all twenty.
    by_id = {d.id: d for d in history}
    walked, current = [], live[0]
    while current.replaces_id:
        walked.append(current.id)
        current = by_id[current.replaces_id]
    assert len(walked) + 1 == 20


PROD_AT_ENDPOINT: dict[str, Any] = {"environment": "production", "endpoint_url": ENDPOINT}
PROD_PLACEMENT: dict[str, Any] = {"environment": "production", "cluster": "a", "k8s_namespace": "ml"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (PROD_AT_ENDPOINT, {**PROD_AT_ENDPOINT, "environment": "staging"}),
        (PROD_AT_ENDPOINT, {**PROD_AT_ENDPOINT, "endpoint_url": ENDPOINT + "/b"}),
        (PROD_PLACEMENT, {**PROD_PLACEMENT, "cluster": "b"}),
        (PROD_PLACEMENT, {**PROD_PLACEMENT, "k8s_namespace": "ml-2"}),
        # One with an endpoint, one without: an endpoint slot and a placement slot.
        (PROD_PLACEMENT, {**PROD_PLACEMENT, "endpoint_url": ENDPOINT}),
    ],
)
async def test_deploys_into_different_slots_never_supersede(
    stubs: Stubs, writer_key: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    a = await create_deployment(stubs, writer_key, v1.id, **first)
    b = await create_deployment(stubs, writer_key, v2.id, **second)
    assert (await get(stubs, writer_key, a.id)).status == "success"
    assert not b.replaces_id


async def test_without_an_endpoint_the_slot_is_the_models_placement(stubs: Stubs, writer_key: str) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    placement: dict[str, Any] = {
        "environment": "production",
        "cluster": "k8s-prod",
        "k8s_namespace": "ml-prod",
    }
    a = await create_deployment(stubs, writer_key, v1.id, **placement)
    b = await create_deployment(stubs, writer_key, v2.id, **placement)
    assert b.replaces_id == a.id
    # The same placement of another model is another slot.
    other = await three_versions(stubs, writer_key)
    c = await create_deployment(stubs, writer_key, other[0].id, **placement)
    assert not c.replaces_id and (await get(stubs, writer_key, b.id)).status == "success"


async def test_live_at_answers_what_served_at_a_moment(
    stubs: Stubs, writer_key: str, reader_key: str
) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    a = await create_deployment(stubs, writer_key, v1.id, environment="production", endpoint_url=ENDPOINT)
    b = await create_deployment(stubs, writer_key, v2.id, environment="production", endpoint_url=ENDPOINT)
    a = await get(stubs, writer_key, a.id)
    start, switch = to_datetime(a.live_since), to_datetime(b.live_since)
    assert to_datetime(a.terminated_at) == switch

    async def live_at(moment: Any) -> list[str]:
        return ids(await deployments(stubs, reader_key, endpoint_url=ENDPOINT, live_at=timestamp(moment)))

    assert await live_at(start - timedelta(microseconds=1)) == []
    assert await live_at(start) == [a.id], "live from live_since, inclusive"
    assert await live_at(switch - timedelta(microseconds=1)) == [a.id]
    assert await live_at(switch) == [b.id], "not live at terminated_at: the successor is"
    assert await live_at(switch + timedelta(days=1)) == [b.id]
    # With any other filter.
    in_staging = await deployments(stubs, reader_key, environment="staging", live_at=timestamp(switch))
    assert in_staging == []


async def test_the_environment_matrix(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model = await create_model(stubs, writer_key, company="CompanyA")
    releases = {
        v: await create_release(stubs, writer_key, model.id, version=v, digest=f"sha256:{v}")
        for v in ("1.0.0", "1.1.0")
    }
    expected: dict[str, set[tuple[str, str, str]]] = {}
    for environment in ("development", "production", "staging"):
        for n, version in ((1, "1.0.0"), (2, "1.1.0")):
            endpoint = f"https://{environment}-{n}.example.com/v1"
            await create_deployment(
                stubs,
                writer_key,
                releases[version].id,
                environment=environment,
                endpoint_url=endpoint,
                cluster=f"k8s-{environment}",
            )
            expected.setdefault(environment, set()).add((endpoint, version, f"sha256:{version}"))
    # A terminated one is history, not the matrix.
    gone = await create_deployment(
        stubs, writer_key, releases["1.0.0"].id, environment="canary", endpoint_url="https://x.test/"
    )
    await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=gone.id), metadata=auth(writer_key)
    )

    for request in (
        model_service_pb2.GetModelRolloutRequest(id=model.id),
        model_service_pb2.GetModelRolloutRequest(model_name=model.name),
    ):
        rollout = await stubs.models.GetModelRollout(request, metadata=auth(reader_key))
        assert (rollout.model_id, rollout.model_name, rollout.company) == (model.id, model.name, "CompanyA")
        got = {
            e.environment: {(d.endpoint_url, d.release_version, d.release_digest) for d in e.live}
            for e in rollout.environments
        }
        assert got == expected
        assert all(d.HasField("live_since") and d.cluster for e in rollout.environments for d in e.live)
    await expect_error(
        stubs.models.GetModelRollout(model_service_pb2.GetModelRolloutRequest(), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await expect_error(
        stubs.models.GetModelRollout(
            model_service_pb2.GetModelRolloutRequest(model_name="nope"), metadata=auth(reader_key)
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_reverse_lookups_find_the_blast_radius(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model = await create_model(stubs, writer_key, company="CompanyA")
    bad_digest, checksum = f"sha256:{unique('bad')}", f"sha256:{unique('whl')}"
    bad = await create_release(stubs, writer_key, model.id, version="1.0.0", digest=bad_digest)
    fixed = await create_release(stubs, writer_key, model.id, version="1.0.1", digest="sha256:fixed")
    await create_artifact(stubs, writer_key, bad.id, checksum=checksum)
    before = await create_deployment(stubs, writer_key, bad.id, endpoint_url="https://a.example.com/v1")
    still = await create_deployment(stubs, writer_key, bad.id, endpoint_url="https://b.example.com/v1")
    after = await create_deployment(stubs, writer_key, fixed.id, endpoint_url="https://a.example.com/v1")

    releases = await stubs.releases.ListReleases(
        release_service_pb2.ListReleasesRequest(digest=bad_digest), metadata=auth(reader_key)
    )
    assert ids(releases.releases) == [bad.id]
    for lookup in ({"digest": bad_digest}, {"artifact_checksum": checksum}):
        assert sorted(ids(await deployments(stubs, reader_key, **lookup))) == sorted([before.id, still.id])
        assert ids(await deployments(stubs, reader_key, **lookup, active_only=True)) == [still.id]
        at_first = timestamp(to_datetime(still.live_since))
        assert sorted(ids(await deployments(stubs, reader_key, **lookup, live_at=at_first))) == sorted(
            [before.id, still.id]
        )
    assert after.replaces_id == before.id


async def test_deprecated_but_live(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    live_old = await create_deployment(
        stubs, writer_key, v1.id, endpoint_url=f"https://{unique('old')}.test/"
    )
    await create_deployment(stubs, writer_key, v2.id, endpoint_url=f"https://{unique('new')}.test/")
    await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(
            release=release_pb2.Release(id=v1.id, status="deprecated"),
            update_mask=field_mask_pb2.FieldMask(paths=["status"]),
        ),
        metadata=auth(writer_key),
    )
    found = await deployments(stubs, reader_key, release_status="deprecated", active_only=True)
    assert ids(found) == [live_old.id]
    assert found[0].release_status == "deprecated"


async def test_per_customer_live_deployments(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    company = unique("Customer")
    (mine, *_) = await three_versions(stubs, writer_key, company=company)
    (theirs, *_) = await three_versions(stubs, writer_key, company=unique("Other"))
    a = await create_deployment(
        stubs, writer_key, mine.id, environment="production", endpoint_url="https://p.test/"
    )
    b = await create_deployment(stubs, writer_key, mine.id, environment="staging", cluster="k8s-stag")
    await create_deployment(
        stubs, writer_key, theirs.id, environment="production", endpoint_url="https://t.test/"
    )
    found = await deployments(stubs, reader_key, company=company, active_only=True)
    assert sorted(ids(found)) == sorted([a.id, b.id])
    assert {(d.environment, d.endpoint_url, d.cluster) for d in found} == {
        ("production", "https://p.test/", ""),
        ("staging", "", "k8s-stag"),
    }


async def test_versions_order_semantically(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model = await create_model(stubs, writer_key)
    for version in ("10.0.0", "1.10.0-rc.1", "nightly", "9.0.0", "1.2.0", "1.10.0"):
        await create_release(stubs, writer_key, model.id, version=version)
    request = release_service_pb2.ListReleasesRequest(image_id=model.id, order_by="version")
    ascending = await list_all(stubs.releases.ListReleases, request, "releases", reader_key, page_size=2)
    assert [r.version for r in ascending] == ["1.2.0", "1.10.0-rc.1", "1.10.0", "9.0.0", "10.0.0", "nightly"]
    request.order_by = "version desc"
    descending = await list_all(stubs.releases.ListReleases, request, "releases", reader_key, page_size=4)
    assert [r.version for r in descending] == ["nightly", "10.0.0", "9.0.0", "1.10.0", "1.10.0-rc.1", "1.2.0"]
    assert (await latest_release(stubs, reader_key, image_id=model.id)).version == "10.0.0", (
        "a semantic version first"
    )
    only_others = await create_model(stubs, writer_key)
    for version in ("nightly-a", "nightly-c", "nightly-b"):
        await create_release(stubs, writer_key, only_others.id, version=version)
    assert (await latest_release(stubs, reader_key, image_id=only_others.id)).version == "nightly-c", (
        "without a semantic version, the highest other one"
    )


@pytest.mark.parametrize("delete", ["model", "release"])
async def test_live_things_are_not_deleted_even_with_force(
    stubs: Stubs, writer_key: str, delete: str
) -> None:
    v1, v2, _ = await three_versions(stubs, writer_key)
    history = await create_deployment(stubs, writer_key, v1.id, endpoint_url=ENDPOINT)
    live = await create_deployment(stubs, writer_key, v1.id, endpoint_url=ENDPOINT + "/b")
    await create_deployment(stubs, writer_key, v2.id, endpoint_url=ENDPOINT)  # supersedes `history`

    def call(force: bool) -> Any:
        if delete == "model":
            request = model_service_pb2.DeleteModelRequest(id=v1.image_id, force=force)
            return stubs.models.DeleteModel(request, metadata=auth(writer_key))
        return stubs.releases.DeleteRelease(
            release_service_pb2.DeleteReleaseRequest(id=v1.id, force=force), metadata=auth(writer_key)
        )

    for force in (False, True):
        error = await expect_error(call(force), grpc.StatusCode.FAILED_PRECONDITION, "HAS_LIVE_DEPLOYMENTS")
        assert live.id in (error.details() or "") and "terminate" in (error.details() or "")
    assert (await get(stubs, writer_key, live.id)).status == "success"

    if delete == "model":  # the other release is live too
        for d in await deployments(stubs, writer_key, model_id=v1.image_id, active_only=True):
            await stubs.deployments.DeleteDeployment(
                deployment_service_pb2.DeleteDeploymentRequest(id=d.id), metadata=auth(writer_key)
            )
    else:
        await stubs.deployments.DeleteDeployment(
            deployment_service_pb2.DeleteDeploymentRequest(id=live.id), metadata=auth(writer_key)
        )
    await expect_error(call(False), grpc.StatusCode.FAILED_PRECONDITION, "HAS_CHILDREN")
    await call(True)
    logs = await stubs.audit_logs.ListAuditLogs(
        audit_log_service_pb2.ListAuditLogsRequest(
            resource_id=v1.image_id if delete == "model" else v1.id, action="delete"
        ),
        metadata=auth(writer_key),
    )
    removed = {row["id"] for row in logs.audit_logs[0].changes["deleted_deployments"]}
    assert {history.id, live.id} <= removed


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("deploying", "success", True),
        ("deploying", "failed", True),
        ("failed", "success", True),
        ("success", "terminated", True),
        ("success", "failed", False),
        ("success", "deploying", False),
        ("terminated", "success", False),
        ("terminated", "deploying", False),
        ("failed", "deploying", False),
    ],
)
async def test_status_moves_forward_only(
    stubs: Stubs, writer_key: str, start: str, to: str, allowed: bool
) -> None:
    (release, *_) = await three_versions(stubs, writer_key)
    deployment = await create_deployment(
        stubs, writer_key, release.id, status=start, endpoint_url=f"https://{unique('s')}.test/"
    )
    if allowed:
        assert (await update_status(stubs, writer_key, deployment.id, to)).status == to
    else:
        error = await expect_error(
            update_status(stubs, writer_key, deployment.id, to),
            grpc.StatusCode.FAILED_PRECONDITION,
            "STATUS_TRANSITION_NOT_ALLOWED",
        )
        assert "record a new deployment" in (error.details() or "")
