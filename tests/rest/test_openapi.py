"""The OpenAPI document Envoy serves at /api/openapi.json describes what Envoy serves: every path
and method in it is called (as is and under /api) and answers as documented, with the documented
field names; every documented query parameter is accepted."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from catapult_server.envoy import OPENAPI_FILE, REPO_ENVOY_DIR
from tests.support.rest import Reply, Rest

_counter = itertools.count(1)
DOCUMENT = json.loads((REPO_ENVOY_DIR / OPENAPI_FILE).read_text())
# Every call answered with one JSON body (the watches' event streams are tests/rest/test_streaming.py's).
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
    if "text/event-stream" not in operation.get("produces", [])
]
# The resource a path's {id} or {x.id} names, by its collection.
KINDS = {
    "models": "model",
    "images": "model",
    "releases": "release",
    "artifacts": "artifact",
    "deployments": "deployment",
    "api-keys": "api_key",
}


@pytest.fixture
def admin(rest: Rest, admin_key: str) -> Rest:
    return Rest(rest.port, admin_key)


def definition(ref: str) -> dict[str, Any]:
    name = ref.removeprefix("#/definitions/")
    found: dict[str, Any] = DOCUMENT["definitions"][name]
    return found


def check_documented(value: Any, schema: dict[str, Any], where: str) -> None:
    """Every key Envoy printed is a documented property, and (every field being printed) every
    documented scalar property is there."""
    if "$ref" in schema:
        schema = definition(schema["$ref"])
    if schema.get("type") == "array" and isinstance(value, list):
        for item in value:
            check_documented(item, schema.get("items", {}), where + "[]")
        return
    properties = schema.get("properties")
    if not isinstance(value, dict) or properties is None:
        return
    assert set(value) <= set(properties), f"{where}: undocumented fields {set(value) - set(properties)}"
    scalars = {
        name
        for name, prop in properties.items()
        if prop.get("type") in ("string", "integer", "boolean", "array")
        and prop.get("format") != "date-time"
        and "$ref" not in prop
    }
    assert scalars <= set(value), f"{where}: documented fields missing {scalars - set(value)}"
    for name, item in value.items():
        check_documented(item, properties[name], f"{where}.{name}")


class Registry:
    """Creates fresh resources through the API for each call that needs one."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    async def create(self, kind: str) -> dict[str, Any]:
        rest = self.rest
        if kind == "model":
            return dict(await rest.ok("POST", "/v1/models", await self.body("model")))
        if kind == "api_key":
            created = await rest.ok("POST", "/v1/api-keys", await self.body("api_key"))
            return dict(created["api_key"])
        collection = {"release": "releases", "artifact": "artifacts", "deployment": "deployments"}[kind]
        return dict(await rest.ok("POST", f"/v1/{collection}", await self.body(kind)))

    async def body(self, kind: str, update: bool = False) -> dict[str, Any]:
        """A valid request body for creating (or updating) a `kind`."""
        n = next(_counter)
        if update:
            updates: dict[str, dict[str, Any]] = {
                "model": {"description": f"updated {n}"},
                "release": {"release_notes": f"updated {n}"},
                "artifact": {"checksum": f"sha256:{n}"},
                "deployment": {"replicas": n % 5 + 1},
            }
            return updates[kind]
        if kind == "model":
            return {
                "name": f"openapi-model-{n}",
                "storage_path": "s3://m/",
                "tags": ["t"],
                "metadata": {"k": n},
            }
        if kind == "release":
            model = await self.create("model")
            return {"image_id": model["id"], "version": f"1.0.{n}", "quantization": "fp16", "size_bytes": "7"}
        if kind == "artifact":
            release = await self.create("release")
            return {
                "release_id": release["id"],
                "name": f"a-{n}.whl",
                "artifact_type": "wheel",
                "file_path": "s3://a",
            }
        if kind == "deployment":
            release = await self.create("release")
            return {"release_id": release["id"], "environment": "staging", "status": "success", "replicas": 1}
        if kind == "api_key":
            return {"name": f"openapi-key-{n}", "role": "reader"}
        raise AssertionError(kind)

    async def request(
        self, method: str, path: str, operation: dict[str, Any]
    ) -> tuple[str, Any, dict[str, str]]:
        """(path with its parameters filled in, body, required query) for one documented call."""
        collection = path.split("/")[2].split(":")[0] if path.startswith("/v1/") else ""
        kind = KINDS.get(collection, "")
        body: Any = None
        query: dict[str, str] = {}
        if "{" in path:
            resource = await self.create(kind)
            path = re.sub(r"\{[a-z_.]+\}", resource["id"], path)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "body":
                body = await self.body(kind, update=method in ("PUT", "PATCH"))
        if path.endswith(":byName"):
            query["name"] = (await self.create("model"))["name"]
        if path.endswith(":latest"):
            query["image_id"] = (await self.create("release"))["image_id"]
        if path.endswith("/v1/models:rollout"):
            query["model_name"] = (await self.create("model"))["name"]
        return path, body, query


def sample(parameter: dict[str, Any]) -> str:
    """A value of the documented type for a query parameter."""
    kind, fmt = parameter.get("type"), parameter.get("format")
    if kind == "integer":
        return "1"
    if kind == "boolean":
        return "true"
    if fmt == "date-time":
        return "2024-01-01T00:00:00Z"
    if parameter["name"] == "update_mask":
        return "description"
    return "production"


def answered_by_server(reply: Reply, what: str) -> None:
    assert reply.from_server, f"{what}: Envoy answered itself: {reply}"
    assert reply.status not in (404, 405, 501) or reply.json().get("details"), f"{what}: {reply}"
    assert reply.headers.get("content-type") == "application/json", f"{what}: {reply}"


def test_the_document_is_for_envoys_routes() -> None:
    assert DOCUMENT["swagger"] == "2.0"
    assert {"/v1/models", "/v1/images", "/v1/releases:latest", "/health"} <= set(DOCUMENT["paths"])
    # Field and parameter names are the proto names, as preserve_proto_field_names prints them.
    assert "storage_path" in DOCUMENT["definitions"]["Model"]["properties"]
    names = {p["name"] for _, _, op in OPERATIONS for p in op.get("parameters", [])}
    assert "page_size" in names and "pageSize" not in names
    assert DOCUMENT["securityDefinitions"]["ApiKey"] == {
        "type": "apiKey",
        "name": "X-API-Key",
        "in": "header",
    }


async def test_envoy_serves_the_committed_document(rest: Rest) -> None:
    for path in ("/api/openapi.json", "/openapi.json"):
        served = await rest.get(path, key="")
        assert served.status == 200 and served.headers["content-type"] == "application/json"
        assert served.json() == DOCUMENT
    docs = await rest.get("/docs", key="")
    assert docs.status == 302 and docs.headers["location"].endswith("/api/openapi.json")


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_every_documented_call_answers_as_documented(admin: Rest, prefix: str) -> None:
    registry = Registry(admin)
    for method, path, operation in OPERATIONS:
        where = f"{method} {prefix}{path}"
        filled, body, query = await registry.request(method, path, operation)
        reply = await admin.call(method, prefix + filled, body, query=query)
        assert reply.status == 200, f"{where}: {reply}"
        answered_by_server(reply, where)
        check_documented(reply.json(), operation["responses"]["200"]["schema"], where)


async def test_every_documented_query_parameter_is_accepted(admin: Rest) -> None:
    registry = Registry(admin)
    for method, path, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            where = f"{method} {path}?{parameter['name']}"
            filled, body, query = await registry.request(method, path, operation)
            query[parameter["name"]] = sample(parameter)
            answered_by_server(await admin.call(method, "/api" + filled, body, query=query), where)
