"""Every query of the design's "Common Queries" as one RPC, the other list filters, and
keyset pagination (AIP-158)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
import pytest

from catapult.v1 import (
    artifact_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)
from catapult_server.pagination import Order, PageTokens
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
    utc,
)
from tests.support.errors import expect_error

ListModels = model_service_pb2.ListModelsRequest
ListReleases = release_service_pb2.ListReleasesRequest
ListDeployments = deployment_service_pb2.ListDeploymentsRequest


async def list_models(stubs: Stubs, key: str, **filters: Any) -> list[model_pb2.Model]:
    return await list_all(stubs.models.ListModels, ListModels(**filters), "models", key)


async def list_releases(stubs: Stubs, key: str, **filters: Any) -> list[release_pb2.Release]:
    return await list_all(stubs.releases.ListReleases, ListReleases(**filters), "releases", key)


async def list_deployments(stubs: Stubs, key: str, **filters: Any) -> list[deployment_pb2.Deployment]:
    return await list_all(stubs.deployments.ListDeployments, ListDeployments(**filters), "deployments", key)


# --- models ----------------------------------------------------------------------------


@dataclass
class Models:
    a7: model_pb2.Model
    a70: model_pb2.Model
    b7: model_pb2.Model


async def seed_models(stubs: Stubs, key: str) -> Models:
    return Models(
        a7=await create_model(
            stubs,
            key,
            name="llama-3-7b-companyA",
            company="CompanyA",
            base_model="llama-3",
            parameter_count="7B",
            tags=["production", "chatbot", "customer-service"],
        ),
        a70=await create_model(
            stubs,
            key,
            name="llama-3-70b-companyA",
            company="CompanyA",
            base_model="llama-3",
            parameter_count="70B",
            tags=["experimental"],
        ),
        b7=await create_model(
            stubs,
            key,
            name="mistral-7b-companyB",
            company="CompanyB",
            base_model="mistral",
            parameter_count="7B",
            tags=["production"],
        ),
    )


async def test_models_of_a_company(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    assert set(ids(await list_models(stubs, reader_key, company="CompanyA"))) == {m.a7.id, m.a70.id}
    assert ids(await list_models(stubs, reader_key, company="CompanyC")) == []


async def test_models_of_a_parameter_count(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    assert set(ids(await list_models(stubs, reader_key, parameter_count="7B"))) == {m.a7.id, m.b7.id}
    assert ids(await list_models(stubs, reader_key, parameter_count="70B")) == [m.a70.id]


async def test_models_with_tags_must_carry_all(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    assert set(ids(await list_models(stubs, reader_key, tag=["production"]))) == {m.a7.id, m.b7.id}
    assert ids(await list_models(stubs, reader_key, tag=["production", "chatbot"])) == [m.a7.id]
    assert ids(await list_models(stubs, reader_key, tag=["production", "experimental"])) == []


async def test_models_by_base_model(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    assert set(ids(await list_models(stubs, reader_key, base_model="llama-3"))) == {m.a7.id, m.a70.id}


async def test_models_search_is_a_case_insensitive_substring(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    m = await seed_models(stubs, writer_key)
    assert set(ids(await list_models(stubs, reader_key, search="LLAMA"))) == {m.a7.id, m.a70.id}
    assert set(ids(await list_models(stubs, reader_key, search="7b-comp"))) == {m.a7.id, m.b7.id}
    assert ids(await list_models(stubs, reader_key, search="companyb")) == [m.b7.id]
    # Filters combine: every one must match.
    assert ids(await list_models(stubs, reader_key, search="llama", parameter_count="7B")) == [m.a7.id]


async def test_models_newest_first_by_default(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    assert ids(await list_models(stubs, reader_key)) == [m.b7.id, m.a70.id, m.a7.id]


async def test_models_order_by_name(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    ascending = [m.a70.id, m.a7.id, m.b7.id]  # "llama-3-70b…" < "llama-3-7b…" < "mistral…"
    assert ids(await list_models(stubs, reader_key, order_by="name")) == ascending
    assert ids(await list_models(stubs, reader_key, order_by="name desc")) == ascending[::-1]
    assert ids(await list_models(stubs, reader_key, order_by="created_at")) == [m.a7.id, m.a70.id, m.b7.id]


# --- releases --------------------------------------------------------------------------


async def test_fp16_releases(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    m = await seed_models(stubs, writer_key)
    fp16_a = await create_release(stubs, writer_key, m.a7.id, version="1.0.0", quantization="fp16")
    await create_release(stubs, writer_key, m.a7.id, version="1.0.0", quantization="int8")
    fp16_b = await create_release(stubs, writer_key, m.b7.id, version="2.0.0", quantization="fp16")
    await create_release(stubs, writer_key, m.b7.id, version="2.0.0")
    fp16 = await list_releases(stubs, reader_key, quantization="fp16")
    assert ids(fp16) == [fp16_b.id, fp16_a.id], "fp16 releases, newest first"
    assert all(r.quantization == "fp16" for r in fp16)
    assert ids(await list_releases(stubs, reader_key, quantization="fp16", image_id=m.a7.id)) == [fp16_a.id]
    assert ids(await list_releases(stubs, reader_key, quantization="fp16", model_name=m.b7.name)) == [
        fp16_b.id
    ]
    assert ids(await list_releases(stubs, reader_key, version="2.0.0", quantization="fp16")) == [fp16_b.id]


async def test_releases_by_status(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    old = await create_release(stubs, writer_key, model.id, status="deprecated")
    new = await create_release(stubs, writer_key, model.id)
    assert ids(await list_releases(stubs, reader_key, status="deprecated")) == [old.id]
    assert ids(await list_releases(stubs, reader_key, status="active")) == [new.id]


@dataclass
class Latest:
    model: model_pb2.Model
    r1_fp16_prod: release_pb2.Release
    r2_int8_prod: release_pb2.Release
    r3_fp16_prod_terminated: release_pb2.Release
    r4_fp16_prod_failed_staging_ok: release_pb2.Release
    r5_int8_undeployed: release_pb2.Release


async def seed_latest(stubs: Stubs, key: str) -> Latest:
    model = await create_model(stubs, key, name="llama-3-7b-companyA")
    other = await create_model(stubs, key)
    r1 = await create_release(stubs, key, model.id, version="1.0.0", quantization="fp16")
    r2 = await create_release(stubs, key, model.id, version="1.1.0", quantization="int8")
    r3 = await create_release(stubs, key, model.id, version="1.2.0", quantization="fp16")
    r4 = await create_release(stubs, key, model.id, version="1.3.0", quantization="fp16")
    r5 = await create_release(stubs, key, model.id, version="1.4.0", quantization="int8")
    # Another model's newer releases must never count.
    other_release = await create_release(stubs, key, other.id, version="9.0.0", quantization="fp16")
    await create_deployment(stubs, key, other_release.id, environment="production", status="success")

    # Each at its own endpoint (its own slot), so none supersedes another.
    def at(name: str) -> str:
        return f"https://{name}.example.com/v1"

    await create_deployment(stubs, key, r1.id, environment="production", endpoint_url=at("r1"))
    await create_deployment(stubs, key, r2.id, environment="production", endpoint_url=at("r2"))
    terminated = await create_deployment(stubs, key, r3.id, environment="production", endpoint_url=at("r3"))
    await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=terminated.id), metadata=auth(key)
    )
    await create_deployment(
        stubs, key, r4.id, environment="production", status="failed", endpoint_url=at("r4")
    )
    await create_deployment(stubs, key, r4.id, environment="staging", endpoint_url=at("r4"))
    return Latest(model, r1, r2, r3, r4, r5)


async def test_latest_release_of_a_model(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    s = await seed_latest(stubs, writer_key)
    assert (await latest_release(stubs, reader_key, image_id=s.model.id)).id == s.r5_int8_undeployed.id
    assert (await latest_release(stubs, reader_key, model_name=s.model.name)).id == s.r5_int8_undeployed.id


async def test_latest_release_of_a_quantization(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    s = await seed_latest(stubs, writer_key)
    want = s.r4_fp16_prod_failed_staging_ok.id
    assert (await latest_release(stubs, reader_key, image_id=s.model.id, quantization="fp16")).id == want
    assert (await latest_release(stubs, reader_key, model_name=s.model.name, quantization="fp16")).id == want
    await expect_error(
        latest_release(stubs, reader_key, image_id=s.model.id, quantization="int4"),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


async def test_latest_release_deployed_in_an_environment(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    """The release that serves there now: of the live deployment that became live last."""
    s = await seed_latest(stubs, writer_key)
    by_id = {"image_id": s.model.id}
    assert (
        await latest_release(stubs, reader_key, **by_id, environment="production")
    ).id == s.r2_int8_prod.id
    assert (
        await latest_release(
            stubs, reader_key, model_name=s.model.name, environment="production", quantization="fp16"
        )
    ).id == s.r1_fp16_prod.id, "r3 is terminated and r4 failed in production"
    assert (
        await latest_release(stubs, reader_key, **by_id, environment="staging")
    ).id == s.r4_fp16_prod_failed_staging_ok.id
    await expect_error(
        latest_release(stubs, reader_key, **by_id, environment="development"),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


async def test_latest_release_errors(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    await expect_error(latest_release(stubs, reader_key), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    await expect_error(
        latest_release(stubs, reader_key, model_name="no-such-model"),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    await expect_error(
        latest_release(stubs, reader_key, image_id="00000000-0000-4000-8000-000000000000"),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    empty = await create_model(stubs, writer_key)
    await expect_error(
        latest_release(stubs, reader_key, image_id=empty.id), grpc.StatusCode.NOT_FOUND, "RESOURCE_NOT_FOUND"
    )


# --- deployments -----------------------------------------------------------------------

T0 = utc(2024, 1, 15, 10, 30, 0)


@dataclass
class Fleet:
    a: model_pb2.Model
    b: model_pb2.Model
    a_v1: release_pb2.Release
    a_v2: release_pb2.Release
    b_v1: release_pb2.Release
    deployments: dict[str, deployment_pb2.Deployment]


async def seed_fleet(stubs: Stubs, key: str) -> Fleet:
    a = await create_model(stubs, key, name="llama-3-7b-companyA", company="CompanyA")
    b = await create_model(stubs, key, name="mistral-7b-companyB", company="CompanyB")
    a_v1 = await create_release(stubs, key, a.id, version="1.0.0", tag="v1.0-fp16", quantization="fp16")
    a_v2 = await create_release(stubs, key, a.id, version="2.0.0", tag="v2.0-fp16", quantization="fp16")
    b_v1 = await create_release(stubs, key, b.id, version="1.0.0", quantization="int8")
    plan = {
        # name: (release, environment, status, hours after T0, cluster)
        "a1_prod_ok": (a_v1, "production", "success", 0, "k8s-prod-us-west-2"),
        "a1_stag_failed": (a_v1, "staging", "failed", 1, "k8s-stag"),
        "b1_prod_ok": (b_v1, "production", "success", 2, "k8s-prod-eu"),
        "a2_prod_failed": (a_v2, "production", "failed", 3, "k8s-prod-us-west-2"),
        "a2_prod_ok": (a_v2, "production", "success", 4, "k8s-prod-us-west-2"),
        "b1_dev_deploying": (b_v1, "development", "deploying", 5, "k8s-dev"),
        "b1_stag_failed": (b_v1, "staging", "failed", 6, "k8s-stag"),
    }
    # Recorded out of deployed_at order: ordering must come from deployed_at, not insertion.
    deployments: dict[str, deployment_pb2.Deployment] = {}
    for name in ["a2_prod_ok", "a1_prod_ok", "b1_stag_failed", "b1_prod_ok", "a2_prod_failed",
                 "b1_dev_deploying", "a1_stag_failed"]:  # fmt: skip
        release, environment, status, hours, cluster = plan[name]
        deployments[name] = await create_deployment(
            stubs,
            key,
            release.id,
            environment=environment,
            status=status,
            cluster=cluster,
            deployed_at=T0 + timedelta(hours=hours),
            endpoint_url=f"https://{name.replace('_', '-')}.example.com/v1",
        )
    return Fleet(a, b, a_v1, a_v2, b_v1, deployments)


def names(fleet: Fleet, items: list[deployment_pb2.Deployment]) -> list[str]:
    by_id = {d.id: name for name, d in fleet.deployments.items()}
    return [by_id[d.id] for d in items]


async def test_successful_production_deployments_with_model_and_version(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    f = await seed_fleet(stubs, writer_key)
    found = await list_deployments(stubs, reader_key, environment="production", status="success")
    assert names(f, found) == ["a2_prod_ok", "b1_prod_ok", "a1_prod_ok"]
    expected = {
        "a2_prod_ok": ("llama-3-7b-companyA", "2.0.0", "CompanyA", "v2.0-fp16"),
        "b1_prod_ok": ("mistral-7b-companyB", "1.0.0", "CompanyB", ""),
        "a1_prod_ok": ("llama-3-7b-companyA", "1.0.0", "CompanyA", "v1.0-fp16"),
    }
    for name, d in zip(names(f, found), found, strict=True):
        assert (d.model_name, d.release_version, d.company, d.release_tag) == expected[name]
        assert d.model_id in (f.a.id, f.b.id)


async def test_deployments_of_a_company(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    f = await seed_fleet(stubs, writer_key)
    found = await list_deployments(stubs, reader_key, company="CompanyA")
    assert names(f, found) == ["a2_prod_ok", "a2_prod_failed", "a1_stag_failed", "a1_prod_ok"]
    assert {d.model_name for d in found} == {"llama-3-7b-companyA"}


async def test_deployment_history_of_a_model_newest_first(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    f = await seed_fleet(stubs, writer_key)
    history = await list_deployments(stubs, reader_key, model_id=f.b.id)
    assert names(f, history) == ["b1_stag_failed", "b1_dev_deploying", "b1_prod_ok"]
    deployed = [to_datetime(d.deployed_at) for d in history]
    assert deployed == sorted(deployed, reverse=True)
    assert ids(await list_deployments(stubs, reader_key, model_name=f.b.name)) == ids(history)
    assert names(f, await list_deployments(stubs, reader_key, release_id=f.a_v1.id)) == [
        "a1_stag_failed",
        "a1_prod_ok",
    ]


async def test_failed_deployments_newest_first(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    f = await seed_fleet(stubs, writer_key)
    failed = await list_deployments(stubs, reader_key, status="failed")
    assert names(f, failed) == ["b1_stag_failed", "a2_prod_failed", "a1_stag_failed"]
    oldest_first = await list_deployments(stubs, reader_key, status="failed", order_by="deployed_at")
    assert names(f, oldest_first) == ["a1_stag_failed", "a2_prod_failed", "b1_stag_failed"]


async def test_deployments_active_only(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    f = await seed_fleet(stubs, writer_key)
    gone = f.deployments["b1_prod_ok"]
    await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=gone.id), metadata=auth(writer_key)
    )
    active = await list_deployments(stubs, reader_key, environment="production", active_only=True)
    assert names(f, active) == ["a2_prod_ok", "a1_prod_ok"], "live: neither failed nor terminated"
    everything = await list_deployments(stubs, reader_key, environment="production")
    assert gone.id in ids(everything), "a terminated deployment stays in the history"


async def test_deployments_deployed_after_and_before(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    f = await seed_fleet(stubs, writer_key)
    after = await list_deployments(stubs, reader_key, deployed_after=timestamp(T0 + timedelta(hours=4)))
    assert names(f, after) == ["b1_stag_failed", "b1_dev_deploying", "a2_prod_ok"], "after is inclusive"
    before = await list_deployments(stubs, reader_key, deployed_before=timestamp(T0 + timedelta(hours=2)))
    assert names(f, before) == ["a1_stag_failed", "a1_prod_ok"], "before is exclusive"
    window = await list_deployments(
        stubs,
        reader_key,
        deployed_after=timestamp(T0 + timedelta(hours=1)),
        deployed_before=timestamp(T0 + timedelta(hours=3)),
        status="failed",
    )
    assert names(f, window) == ["a1_stag_failed"]


async def test_deployments_by_endpoint_and_cluster(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    f = await seed_fleet(stubs, writer_key)
    at = await list_deployments(stubs, reader_key, endpoint_url="https://a2-prod-ok.example.com/v1")
    assert names(f, at) == ["a2_prod_ok"]
    assert await list_deployments(stubs, reader_key, endpoint_url="https://nowhere.example.com/") == []
    on = await list_deployments(stubs, reader_key, cluster="k8s-prod-us-west-2")
    assert names(f, on) == ["a2_prod_ok", "a2_prod_failed", "a1_prod_ok"]
    staged = await list_deployments(stubs, reader_key, cluster="k8s-stag", environment="staging")
    assert names(f, staged) == ["b1_stag_failed", "a1_stag_failed"]


async def test_deployments_unknown_filter_value(stubs: Stubs, reader_key: str) -> None:
    for request in (ListDeployments(status="running"), ListDeployments(environment="Prod")):
        await expect_error(
            stubs.deployments.ListDeployments(request, metadata=auth(reader_key)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )


# --- pagination ------------------------------------------------------------------------


async def test_page_size_two_over_five_models(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    created = [await create_model(stubs, writer_key) for _ in range(5)]
    seen: list[str] = []
    tokens: list[str] = []
    token = ""
    for _ in range(10):
        page = await stubs.models.ListModels(
            ListModels(page_size=2, page_token=token), metadata=auth(reader_key)
        )
        assert len(page.models) <= 2
        seen.extend(ids(page.models))
        tokens.append(page.next_page_token)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids(created)), "every model exactly once"
    assert len(seen) == len(set(seen))
    assert [bool(t) for t in tokens] == [True, True, False], "the token is empty only on the last page"
    assert seen == ids(created)[::-1], "pages follow the default order, newest first"


async def test_page_size_two_over_five_deployments_with_one_deployed_at(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    """Equal sort keys: the id tie-breaker keeps pages from skipping or repeating rows."""
    model = await create_model(stubs, writer_key)
    release = await create_release(stubs, writer_key, model.id)
    created = [await create_deployment(stubs, writer_key, release.id, deployed_at=T0) for _ in range(5)]
    found = await list_all(stubs.deployments.ListDeployments, ListDeployments(), "deployments", reader_key, 2)
    assert sorted(ids(found)) == sorted(ids(created))
    assert len(found) == 5


async def test_default_page_size_is_50(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    release = await create_release(stubs, writer_key, model.id)
    for _ in range(51):
        await create_deployment(stubs, writer_key, release.id)
    page = await stubs.deployments.ListDeployments(ListDeployments(), metadata=auth(reader_key))
    assert len(page.deployments) == 50
    assert page.next_page_token
    rest = await stubs.deployments.ListDeployments(
        ListDeployments(page_token=page.next_page_token), metadata=auth(reader_key)
    )
    assert len(rest.deployments) == 1
    assert not rest.next_page_token


async def test_page_token_for_other_filters_is_rejected(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    for company in ("CompanyA", "CompanyA", "CompanyA", "CompanyB"):
        await create_model(stubs, writer_key, company=company)
    first = await stubs.models.ListModels(
        ListModels(page_size=2, company="CompanyA"), metadata=auth(reader_key)
    )
    assert first.next_page_token
    token = first.next_page_token
    for other in (
        ListModels(page_size=2, company="CompanyB", page_token=token),
        ListModels(page_size=2, page_token=token),
        ListModels(page_size=2, company="CompanyA", order_by="name", page_token=token),
    ):
        await expect_error(
            stubs.models.ListModels(other, metadata=auth(reader_key)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PAGE_TOKEN",
        )
    # The same filters still work with it.
    second = await stubs.models.ListModels(
        ListModels(page_size=2, company="CompanyA", page_token=token), metadata=auth(reader_key)
    )
    assert len(second.models) == 1


async def test_page_token_of_another_list_is_rejected(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    for _ in range(3):
        await create_model(stubs, writer_key)
    token = (
        await stubs.models.ListModels(ListModels(page_size=1), metadata=auth(reader_key))
    ).next_page_token
    assert token
    await expect_error(
        stubs.releases.ListReleases(ListReleases(page_token=token), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("garbage", "INVALID_PAGE_TOKEN"),
        ("AAAA", "INVALID_PAGE_TOKEN"),
        ("eyJ4IjoxfQ", "INVALID_PAGE_TOKEN"),
        ("eyJ4IjoxfQ.AAAA", "INVALID_PAGE_TOKEN"),
        ("%%%not-base64%%%", "INVALID_PAGE_TOKEN"),
        ("a" * 5000, "INVALID_FIELD"),  # longer than any token the server issues (the field's rule)
    ],
)
async def test_garbage_page_token(stubs: Stubs, reader_key: str, token: str, reason: str) -> None:
    await expect_error(
        stubs.models.ListModels(ListModels(page_token=token), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        field="page_token",
    )


async def test_forged_page_tokens_are_refused(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    """Tokens are signed: an altered sort value (even a well-formed one), a null, a token signed
    with another secret — each is refused, never used to page."""
    for _ in range(3):
        await create_model(stubs, writer_key)
    token = (
        await stubs.models.ListModels(ListModels(page_size=1), metadata=auth(reader_key))
    ).next_page_token
    payload, signature = token.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    sort_values: list[Any] = [None, 7, {"t": "0001-01-01T00:00:00+00:00"}, {"t": [[[[]]]]}]
    for sort_value in sort_values:
        content["k"][0] = sort_value
        forged = base64.urlsafe_b64encode(json.dumps(content).encode()).decode().rstrip("=")
        await expect_error(
            stubs.models.ListModels(
                ListModels(page_size=1, page_token=f"{forged}.{signature}"), metadata=auth(reader_key)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PAGE_TOKEN",
        )
    other_secret = PageTokens("another-secret-0123456789").encode(
        "x", uuid.uuid4(), {}, Order("created_at", True)
    )
    await expect_error(
        stubs.models.ListModels(ListModels(page_size=1, page_token=other_secret), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )


@pytest.mark.parametrize("page_size", [-1, 1001])
async def test_page_size_out_of_bounds(stubs: Stubs, reader_key: str, page_size: int) -> None:
    for call in (
        stubs.models.ListModels(ListModels(page_size=page_size), metadata=auth(reader_key)),
        stubs.releases.ListReleases(ListReleases(page_size=page_size), metadata=auth(reader_key)),
        stubs.deployments.ListDeployments(ListDeployments(page_size=page_size), metadata=auth(reader_key)),
    ):
        await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", field="page_size")


async def test_page_size_1000_is_allowed(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    await create_model(stubs, writer_key)
    page = await stubs.models.ListModels(ListModels(page_size=1000), metadata=auth(reader_key))
    assert len(page.models) == 1


@pytest.mark.parametrize(
    "order_by", ["storage_path", "name sideways", "name desc extra", "id; DROP TABLE models"]
)
async def test_unknown_order_by(stubs: Stubs, reader_key: str, order_by: str) -> None:
    await expect_error(
        stubs.models.ListModels(ListModels(order_by=order_by), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_FIELD",
        field="order_by",
    )
    await expect_error(
        stubs.deployments.ListDeployments(ListDeployments(order_by=order_by), metadata=auth(reader_key)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_FIELD",
        field="order_by",
    )


async def test_pages_by_name(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    for name in ("m-d", "m-b", "m-e", "m-a", "m-c"):
        await create_model(stubs, writer_key, name=name)
    found = await list_all(stubs.models.ListModels, ListModels(order_by="name"), "models", reader_key, 2)
    assert [m.name for m in found] == ["m-a", "m-b", "m-c", "m-d", "m-e"]
    found = await list_all(stubs.models.ListModels, ListModels(order_by="name desc"), "models", reader_key, 2)
    assert [m.name for m in found] == ["m-e", "m-d", "m-c", "m-b", "m-a"]


@pytest.mark.parametrize("order_by", ["", "created_at", "name", "name desc"])
async def test_keyset_pages_are_stable_under_inserts(
    stubs: Stubs, reader_key: str, writer_key: str, order_by: str
) -> None:
    original = {
        (await create_model(stubs, writer_key, name=name)).id for name in ("m-b", "m-d", "m-f", "m-h", "m-j")
    }
    request = ListModels(page_size=2, order_by=order_by)
    first = await stubs.models.ListModels(request, metadata=auth(reader_key))
    assert len(first.models) == 2
    # New rows on both sides of the cursor, in name and in time.
    for name in ("m-a", "m-e", "m-g", "m-k"):
        await create_model(stubs, writer_key, name=name)
    seen = ids(first.models)
    token = first.next_page_token
    while token:
        request.page_token = token
        page = await stubs.models.ListModels(request, metadata=auth(reader_key))
        seen.extend(ids(page.models))
        token = page.next_page_token
    assert len(seen) == len(set(seen)), "no row repeated"
    assert original <= set(seen), "no original row skipped"


# --- artifacts -------------------------------------------------------------------------


async def test_artifacts_of_a_release(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    r1 = await create_release(stubs, writer_key, model.id)
    r2 = await create_release(stubs, writer_key, model.id)
    wheel = await create_artifact(
        stubs, writer_key, r1.id, name="b.whl", artifact_type="wheel", checksum="sha256:w"
    )
    binary = await create_artifact(
        stubs, writer_key, r1.id, name="a.so", artifact_type="binary", checksum="sha256:b"
    )
    shared = await create_artifact(
        stubs, writer_key, r2.id, name="c.whl", artifact_type="wheel", checksum="sha256:w"
    )

    async def listed(**filters: Any) -> list[str]:
        request = artifact_service_pb2.ListArtifactsRequest(**filters)
        return ids(await list_all(stubs.artifacts.ListArtifacts, request, "artifacts", reader_key))

    assert await listed(release_id=r1.id) == [binary.id, wheel.id], "newest first"
    assert await listed(release_id=r1.id, order_by="name") == [binary.id, wheel.id]
    assert await listed(release_id=r1.id, order_by="name desc") == [wheel.id, binary.id]
    assert await listed(artifact_type="wheel") == [shared.id, wheel.id]
    assert await listed(checksum="sha256:w") == [shared.id, wheel.id], "which releases carry a file"
    assert await listed(release_id=r2.id, artifact_type="binary") == []


async def test_releases_order_by_version(stubs: Stubs, reader_key: str, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    for version in ("1.1.0", "1.0.0", "2.0.0"):
        await create_release(stubs, writer_key, model.id, version=version)
    ascending = await list_releases(stubs, reader_key, image_id=model.id, order_by="version")
    assert [r.version for r in ascending] == ["1.0.0", "1.1.0", "2.0.0"]
    descending = await list_releases(stubs, reader_key, image_id=model.id, order_by="version desc")
    assert [r.version for r in descending] == ["2.0.0", "1.1.0", "1.0.0"]
    assert {r.model_name for r in ascending} == {model.name}, "each release carries its model's name"
