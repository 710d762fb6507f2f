"""The design's Common Queries as REST GETs with query parameters, through Envoy."""

from __future__ import annotations

from typing import Any

from tests.support.errors import assert_status_body
from tests.support.rest import Rest


async def names(rest: Rest, path: str, items: str, query: Any) -> list[str]:
    page = await rest.ok("GET", path, query=query)
    return sorted(item.get("name") or item["id"] for item in page[items])


async def registry(rest: Rest) -> dict[str, Any]:
    """Two companies' models, releases of both quantizations, deployments in every state."""
    a7 = await rest.create(
        "images",
        {
            "name": "llama-3-7b-companyA",
            "company": "CompanyA",
            "base_model": "llama-3",
            "parameter_count": "7B",
            "storage_path": "s3://ml-models/companyA/llama-3-7b/",
            "tags": ["production", "chatbot"],
        },
    )
    a70 = await rest.create(
        "images",
        {
            "name": "llama-3-70b-companyA",
            "company": "CompanyA",
            "parameter_count": "70B",
            "storage_path": "s3://ml-models/companyA/llama-3-70b/",
            "tags": ["experimental"],
        },
    )
    b7 = await rest.create(
        "models",
        {
            "name": "mistral-7b-companyB",
            "company": "CompanyB",
            "parameter_count": "7B",
            "storage_path": "s3://ml-models/companyB/mistral-7b/",
            "tags": ["production"],
        },
    )
    r_old = await rest.create("releases", {"image_id": a7["id"], "version": "1.0.0", "quantization": "fp16"})
    r_int8 = await rest.create("releases", {"image_id": a7["id"], "version": "1.0.0", "quantization": "int8"})
    r_new = await rest.create("releases", {"image_id": a7["id"], "version": "2.0.0", "quantization": "fp16"})
    r_b = await rest.create("releases", {"image_id": b7["id"], "version": "0.1.0", "quantization": "fp16"})

    def deployment(
        release: dict[str, Any], environment: str, status: str, deployed_at: str
    ) -> dict[str, Any]:
        return {
            "release_id": release["id"],
            "environment": environment,
            "status": status,
            "cluster": "k8s-prod-us-west-2",
            "endpoint_url": f"https://{environment}.example/{release['id'][:8]}",
            "deployed_at": deployed_at,
        }

    d_prod_old = await rest.create(
        "deployments", deployment(r_old, "production", "success", "2023-06-01T10:00:00Z")
    )
    d_prod_new = await rest.create(
        "deployments", deployment(r_new, "production", "success", "2024-03-01T10:00:00Z")
    )
    d_failed = await rest.create(
        "deployments", deployment(r_int8, "staging", "failed", "2024-02-01T10:00:00Z")
    )
    d_b = await rest.create("deployments", deployment(r_b, "production", "success", "2024-04-01T10:00:00Z"))
    return {
        "a7": a7,
        "a70": a70,
        "b7": b7,
        "r_old": r_old,
        "r_int8": r_int8,
        "r_new": r_new,
        "r_b": r_b,
        "d_prod_old": d_prod_old,
        "d_prod_new": d_prod_new,
        "d_failed": d_failed,
        "d_b": d_b,
    }


async def test_ml_engineer_queries(rest: Rest) -> None:
    r = await registry(rest)
    # Find all models for a customer.
    assert await names(rest, "/api/v1/images", "models", {"company": "CompanyA"}) == [
        "llama-3-70b-companyA",
        "llama-3-7b-companyA",
    ]
    # Find all 7B models.
    assert await names(rest, "/api/v1/images", "models", {"parameter_count": "7B"}) == [
        "llama-3-7b-companyA",
        "mistral-7b-companyB",
    ]
    # Find models with a specific tag; repeated, every tag must match.
    assert await names(rest, "/api/v1/models", "models", {"tag": "production"}) == [
        "llama-3-7b-companyA",
        "mistral-7b-companyB",
    ]
    assert await names(rest, "/api/v1/models", "models", [("tag", "production"), ("tag", "chatbot")]) == [
        "llama-3-7b-companyA"
    ]
    # Find all fp16 releases.
    fp16 = await rest.ok("GET", "/api/v1/releases", query={"quantization": "fp16"})
    assert sorted(x["id"] for x in fp16["releases"]) == sorted(r[k]["id"] for k in ("r_old", "r_new", "r_b"))
    assert all(x["quantization"] == "fp16" for x in fp16["releases"])
    # Get the latest release of a model.
    latest = await rest.ok("GET", "/api/v1/releases:latest", query={"image_id": r["a7"]["id"]})
    assert latest["id"] == r["r_new"]["id"]
    by_name = await rest.ok("GET", "/v1/releases:latest", query={"model_name": "llama-3-7b-companyA"})
    assert by_name == latest
    # A model by its name.
    found = await rest.ok("GET", "/api/v1/images:byName", query={"name": "mistral-7b-companyB"})
    assert found == r["b7"]


async def test_release_engineer_queries(rest: Rest) -> None:
    r = await registry(rest)
    # Find all production deployments that succeeded, each with its model name and release version.
    live = await rest.ok(
        "GET", "/api/v1/deployments", query={"environment": "production", "status": "success"}
    )
    assert [d["id"] for d in live["deployments"]] == [
        r["d_b"]["id"],
        r["d_prod_new"]["id"],
        r["d_prod_old"]["id"],
    ]
    newest = live["deployments"][1]
    assert (newest["model_name"], newest["release_version"]) == ("llama-3-7b-companyA", "2.0.0")
    # Find all deployments for a customer.
    company = await rest.ok("GET", "/api/v1/deployments", query={"company": "CompanyA"})
    assert sorted(d["id"] for d in company["deployments"]) == sorted(
        r[k]["id"] for k in ("d_prod_old", "d_prod_new", "d_failed")
    )
    assert {d["company"] for d in company["deployments"]} == {"CompanyA"}
    # Deployment history of a model, newest deployed_at first.
    history = await rest.ok("GET", "/api/v1/deployments", query={"model_id": r["a7"]["id"]})
    assert [d["id"] for d in history["deployments"]] == [
        r["d_prod_new"]["id"],
        r["d_failed"]["id"],
        r["d_prod_old"]["id"],
    ]
    # Find failed deployments.
    failed = await rest.ok("GET", "/api/v1/deployments", query={"status": "failed"})
    assert [d["id"] for d in failed["deployments"]] == [r["d_failed"]["id"]]
    # google.protobuf.Timestamp query parameters take RFC 3339.
    recent = await rest.ok(
        "GET",
        "/api/v1/deployments",
        query={"deployed_after": "2024-01-01T00:00:00Z", "environment": "production"},
    )
    assert [d["id"] for d in recent["deployments"]] == [r["d_b"]["id"], r["d_prod_new"]["id"]]
    window = await rest.ok(
        "GET",
        "/api/v1/deployments",
        query={"deployed_after": "2024-01-01T00:00:00Z", "deployed_before": "2024-03-01T00:00:00Z"},
    )
    assert [d["id"] for d in window["deployments"]] == [r["d_failed"]["id"]]
    # bool query parameters: terminate one and ask for the live ones only (a failed one is not).
    await rest.ok("DELETE", f"/api/v1/deployments/{r['d_prod_old']['id']}")
    active = await rest.ok(
        "GET", "/api/v1/deployments", query={"model_id": r["a7"]["id"], "active_only": "true"}
    )
    assert [d["id"] for d in active["deployments"]] == [r["d_prod_new"]["id"]]


async def test_pagination_and_ordering_through_query_parameters(rest: Rest) -> None:
    for i in range(5):
        await rest.create("models", {"name": f"paged-{i}", "storage_path": "s3://m/"})
    seen: list[str] = []
    token = ""
    for _ in range(10):
        query: dict[str, Any] = {"page_size": 2, "order_by": "name desc"}
        if token:
            query["page_token"] = token
        page = await rest.ok("GET", "/api/v1/models", query=query)
        seen += [m["name"] for m in page["models"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == [f"paged-{i}" for i in reversed(range(5))]
    # "+" in a query string is a space (query_param_unescape_plus), as browsers and curl send it.
    plus = await rest.ok("GET", "/api/v1/models?order_by=name+desc&page_size=1")
    assert [m["name"] for m in plus["models"]] == ["paged-4"]
    # A page token of other filters is the server's INVALID_ARGUMENT, as JSON.
    first = await rest.ok("GET", "/api/v1/models", query={"page_size": 1})
    other = await rest.get("/api/v1/models", query={"page_token": first["next_page_token"], "company": "X"})
    assert_status_body(other, 400, 3)


async def test_json_in_accepts_either_case_and_json_out_is_snake_case(rest: Rest) -> None:
    model = await rest.create(
        "models",
        {"name": "camel", "storagePath": "s3://camel/", "baseModel": "llama-3", "parameterCount": "7B"},
    )
    assert model["storage_path"] == "s3://camel/"
    assert model["base_model"] == "llama-3" and model["parameter_count"] == "7B"
    assert "storagePath" not in model and "createdAt" not in model
    # Every field is printed, empty ones too, so clients see a stable shape.
    assert model["description"] == "" and model["tags"] == []
    empty = await rest.ok("GET", "/api/v1/deployments", query={"company": "nobody"})
    assert empty == {"deployments": [], "next_page_token": ""}


async def test_int64_fields_are_json_strings_and_accept_numbers_or_strings(rest: Rest) -> None:
    model = await rest.create("models", {"name": "sizes", "storage_path": "s3://s/"})
    as_number = await rest.create(
        "releases", {"image_id": model["id"], "version": "1", "size_bytes": 15000000000}
    )
    as_string = await rest.create(
        "releases", {"image_id": model["id"], "version": "2", "size_bytes": "15000000001"}
    )
    assert as_number["size_bytes"] == "15000000000"
    assert as_string["size_bytes"] == "15000000001"
