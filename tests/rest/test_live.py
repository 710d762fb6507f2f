"""Live truth through Envoy, as curl users ask it: supersede, rollback, an endpoint's history,
what was live at a moment, the environment matrix, blast radius and semantic version order."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.errors import assert_status_body
from tests.support.rest import Rest

ENDPOINT = "https://api.companyA.prod/v1/llama"


async def listed(rest: Rest, path: str, **query: str) -> list[dict[str, Any]]:
    page: dict[str, Any] = await rest.ok("GET", path, query=query)
    items: list[dict[str, Any]] = next(value for key, value in page.items() if key != "next_page_token")
    return items


async def test_supersede_rollback_history_and_live_at(rest: Rest) -> None:
    model = await rest.create(
        "models", {"name": "llama-rest", "company": "CompanyA", "storage_path": "s3://m/"}
    )
    v1 = await rest.create("releases", {"image_id": model["id"], "version": "1.0.0", "digest": "sha256:one"})
    v11 = await rest.create("releases", {"image_id": model["id"], "version": "1.1.0"})
    chain = []
    for release in (v1, v11, v1):  # a deploy, an upgrade, a rollback
        body = {"release_id": release["id"], "environment": "production", "endpoint_url": ENDPOINT}
        chain.append(await rest.create("deployments", body))
    assert all(d["status"] == "success" for d in chain), "live by default, as every client records it"
    assert [d["replaces_id"] for d in chain] == ["", chain[0]["id"], chain[1]["id"]]

    live = await listed(rest, "/api/v1/deployments", endpoint_url=ENDPOINT, active_only="true")
    assert [(d["id"], d["release_version"]) for d in live] == [(chain[2]["id"], "1.0.0")]
    latest = await rest.ok(
        "GET", "/api/v1/releases:latest", query={"image_id": model["id"], "environment": "production"}
    )
    assert latest["version"] == "1.0.0"

    history = await listed(rest, "/api/v1/deployments", endpoint_url=ENDPOINT)
    assert [(d["id"], d["superseded_by_id"]) for d in history] == [
        (chain[2]["id"], ""),
        (chain[1]["id"], chain[2]["id"]),
        (chain[0]["id"], chain[1]["id"]),
    ]
    # RFC 3339 in the query, exactly at a boundary: the successor is live, not its predecessor.
    switch = chain[1]["live_since"]
    at_switch = await listed(rest, "/api/v1/deployments", endpoint_url=ENDPOINT, live_at=switch)
    assert [d["id"] for d in at_switch] == [chain[1]["id"]]
    assert history[2]["terminated_at"] == switch

    rollout = await rest.ok("GET", f"/api/v1/models/{model['id']}:rollout")
    assert [(e["environment"], [d["endpoint_url"] for d in e["live"]]) for e in rollout["environments"]] == [
        ("production", [ENDPOINT])
    ]
    by_name = await rest.ok("GET", "/api/v1/models:rollout", query={"model_name": "llama-rest"})
    assert by_name == rollout

    # The blast radius of an image, and what serves it now.
    assert [r["id"] for r in await listed(rest, "/api/v1/releases", digest="sha256:one")] == [v1["id"]]
    serving = await listed(rest, "/api/v1/deployments", digest="sha256:one", active_only="true")
    assert [d["id"] for d in serving] == [chain[2]["id"]]
    await rest.ok(
        "PATCH", f"/api/v1/releases/{v1['id']}", {"status": "deprecated"}, query={"update_mask": "status"}
    )
    stale = await listed(rest, "/api/v1/deployments", release_status="deprecated", active_only="true")
    assert [d["id"] for d in stale] == [chain[2]["id"]]

    refused = await rest.call("DELETE", f"/api/v1/models/{model['id']}", query={"force": "true"})
    status = assert_status_body(refused, 400, 9)
    assert status["details"][0]["reason"] == "HAS_LIVE_DEPLOYMENTS"
    assert chain[2]["id"] in status["message"]


async def test_concurrent_deploys_through_envoy_leave_one_live(rest: Rest) -> None:
    model = await rest.create("models", {"name": "race-rest", "storage_path": "s3://m/"})
    release = await rest.create("releases", {"image_id": model["id"], "version": "1.0.0"})
    body = {"release_id": release["id"], "environment": "production", "endpoint_url": ENDPOINT + "/race"}
    created = await asyncio.gather(*(rest.create("deployments", body) for _ in range(20)))
    history = await listed(rest, "/api/v1/deployments", endpoint_url=ENDPOINT + "/race", page_size="50")
    assert sorted(d["id"] for d in history) == sorted(d["id"] for d in created)
    assert [d["status"] for d in history].count("success") == 1
    assert all(d["superseded_by_id"] for d in history if d["status"] == "terminated")


async def test_versions_sort_semantically(rest: Rest) -> None:
    model = await rest.create("models", {"name": "semver-rest", "storage_path": "s3://m/"})
    for version in ("10.0.0", "1.10.0-rc.1", "9.0.0", "1.2.0"):
        await rest.create("releases", {"image_id": model["id"], "version": version})
    ordered = await listed(rest, "/api/v1/releases", image_id=model["id"], order_by="version")
    assert [r["version"] for r in ordered] == ["1.2.0", "1.10.0-rc.1", "9.0.0", "10.0.0"]


async def test_slots_matrix_update_to_success_and_blast_radius_at_a_moment(rest: Rest) -> None:
    model = await rest.create("models", {"name": "slots-rest", "storage_path": "s3://m/"})
    release = await rest.create("releases", {"image_id": model["id"], "version": "1.0.0"})
    await rest.create(
        "artifacts",
        {
            "release_id": release["id"],
            "name": "engine.whl",
            "artifact_type": "wheel",
            "file_path": "s3://a/engine.whl",
            "checksum": "sha256:engine",
        },
    )
    # Three environments, two endpoints each: six slots, none superseding another.
    slots = {
        (environment, f"{ENDPOINT}/{environment}/{n}")
        for environment in ("production", "staging", "development")
        for n in (1, 2)
    }
    placed = []
    for environment, endpoint in sorted(slots):
        body = {"release_id": release["id"], "environment": environment, "endpoint_url": endpoint}
        placed.append(await rest.create("deployments", body))
    assert [d["replaces_id"] for d in placed] == [""] * 6
    rollout = await rest.ok("GET", f"/api/v1/models/{model['id']}:rollout")
    assert {
        (e["environment"], d["endpoint_url"]) for e in rollout["environments"] for d in e["live"]
    } == slots
    # Without an endpoint the slot is model + environment + cluster + namespace.
    on_clusters = [
        await rest.create(
            "deployments",
            {
                "release_id": release["id"],
                "environment": "production",
                "cluster": cluster,
                "k8s_namespace": "ml",
            },
        )
        for cluster in ("eu-1", "us-1", "eu-1")
    ]
    assert [d["replaces_id"] for d in on_clusters] == ["", "", on_clusters[0]["id"]]

    # A deployment recorded as "deploying" supersedes nothing until it is updated to success.
    first = placed[0]
    endpoint = first["endpoint_url"]
    pending = await rest.create(
        "deployments",
        {
            "release_id": release["id"],
            "environment": first["environment"],
            "endpoint_url": endpoint,
            "status": "deploying",
        },
    )
    assert "live_since" not in pending and not pending["replaces_id"]
    went_live = await rest.ok(
        "PATCH",
        f"/api/v1/deployments/{pending['id']}",
        {"status": "success"},
        query={"update_mask": "status"},
    )
    assert went_live["replaces_id"] == first["id"]
    assert [
        d["id"] for d in await listed(rest, "/api/v1/deployments", endpoint_url=endpoint, active_only="true")
    ] == [pending["id"]]

    # The artifact's blast radius now, and at the first deployment's first moment (the interval
    # includes its start): the superseded one served then.
    carrying = await listed(
        rest, "/api/v1/deployments", artifact_checksum="sha256:engine", active_only="true", page_size="50"
    )
    assert len(carrying) == 8 and first["id"] not in {d["id"] for d in carrying}
    then = await listed(
        rest,
        "/api/v1/deployments",
        artifact_checksum="sha256:engine",
        live_at=first["live_since"],
        endpoint_url=endpoint,
    )
    assert [d["id"] for d in then] == [first["id"]]
