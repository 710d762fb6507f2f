"""The API contract (proto/catapult/v1) against the design: read from the committed
descriptor set, the same bytes Envoy's transcoder loads."""

from __future__ import annotations

import pytest
from google.api import annotations_pb2, field_behavior_pb2, http_pb2
from google.protobuf import descriptor_pb2

from tests.support.paths import REPO

DESCRIPTOR_SET = REPO / "envoy" / "catapult_descriptor.pb"


def _load() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    fds = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    return {f.name: f for f in fds.file}


FILES = _load()
CATAPULT = {name: f for name, f in FILES.items() if f.package == "catapult.v1"}
MESSAGES = {m.name: m for f in CATAPULT.values() for m in f.message_type}
SERVICES = {s.name: s for f in CATAPULT.values() for s in f.service}


def fields(message: str) -> dict[str, descriptor_pb2.FieldDescriptorProto]:
    return {f.name: f for f in MESSAGES[message].field}


def http_rule(service: str, method: str) -> http_pb2.HttpRule:
    (m,) = [m for m in SERVICES[service].method if m.name == method]
    return m.options.Extensions[annotations_pb2.http]


def bindings(rule: http_pb2.HttpRule) -> list[tuple[str, str]]:
    """(verb, path) of a rule and its additional bindings."""
    out = []
    for r in [rule, *rule.additional_bindings]:
        verb = r.WhichOneof("pattern")
        out.append((verb, getattr(r, verb)))
    return out


# Every field of the design's "Database Schema" and "Data Model Details", by the wire names
# the issue fixes (release.image_id, artifact.artifact_type, model.repository kept).
DESIGN_FIELDS = {
    "Model": "id name company base_model parameter_count storage_path repository description tags "
    "metadata created_at updated_at etag",
    "Release": "id image_id version tag digest quantization size_bytes platform architecture os status "
    "release_notes metadata created_at etag",
    "Artifact": "id release_id name artifact_type file_path size_bytes checksum platform python_version "
    "metadata created_at uploaded_by etag",
    "Deployment": "id release_id environment cluster k8s_namespace endpoint_url replicas status deployed_by "
    "deployed_at terminated_at metadata etag model_id model_name company release_version release_tag "
    "quantization",
}


@pytest.mark.parametrize("message", sorted(DESIGN_FIELDS))
def test_every_design_field_exists(message: str) -> None:
    missing = set(DESIGN_FIELDS[message].split()) - set(fields(message))
    assert not missing, f"{message} lacks {sorted(missing)}"


def test_wire_types_follow_the_contract() -> None:
    F = descriptor_pb2.FieldDescriptorProto
    for message in DESIGN_FIELDS:
        f = fields(message)
        assert f["id"].type == F.TYPE_STRING
        assert f["metadata"].type_name == ".google.protobuf.Struct"
        assert f["created_at"].type_name == ".google.protobuf.Timestamp"
        for name in ("status", "quantization", "environment", "artifact_type"):
            if name in f:
                assert f[name].type == F.TYPE_STRING, f"{message}.{name} stays a string"
    assert fields("Model")["tags"].label == F.LABEL_REPEATED
    assert fields("Deployment")["deployed_at"].type_name == ".google.protobuf.Timestamp"


def test_ids_etags_and_joined_deployment_fields_are_output_only() -> None:
    def output_only(message: str, field: str) -> bool:
        opts = fields(message)[field].options.Extensions[field_behavior_pb2.field_behavior]
        return field_behavior_pb2.OUTPUT_ONLY in opts

    for message in DESIGN_FIELDS:
        assert output_only(message, "id")
        assert output_only(message, "etag")
    for joined in ("model_id", "model_name", "company", "release_version", "release_tag", "quantization"):
        assert output_only("Deployment", joined)


def test_every_rpc_has_an_http_binding() -> None:
    unbound = [
        f"{s.name}.{m.name}"
        for s in SERVICES.values()
        for m in s.method
        if not m.options.HasExtension(annotations_pb2.http)
    ]
    assert not unbound
    assert len([m for s in SERVICES.values() for m in s.method]) >= 28


def test_read_rpcs_have_no_side_effects() -> None:
    no_side_effects = descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
    for s in SERVICES.values():
        for m in s.method:
            if m.name.startswith(("Get", "List", "Health")):
                assert m.options.idempotency_level == no_side_effects, f"{s.name}.{m.name}"


@pytest.mark.parametrize(
    ("service", "resource", "collection"),
    [
        ("ModelService", "Model", "/v1/models"),
        ("ReleaseService", "Release", "/v1/releases"),
        ("ArtifactService", "Artifact", "/v1/artifacts"),
        ("DeploymentService", "Deployment", "/v1/deployments"),
    ],
)
def test_standard_methods_on_the_design_routes(service: str, resource: str, collection: str) -> None:
    body = resource.lower()
    create = http_rule(service, f"Create{resource}")
    assert (create.post, create.body) == (collection, body), "Create's body is the resource itself"
    assert ("get", f"{collection}/{{id}}") in bindings(http_rule(service, f"Get{resource}"))
    assert ("get", collection) in bindings(http_rule(service, f"List{resource}s"))
    update = bindings(http_rule(service, f"Update{resource}"))
    assert update[:2] == [("put", f"{collection}/{{{body}.id}}"), ("patch", f"{collection}/{{{body}.id}}")]
    assert ("delete", f"{collection}/{{id}}") in bindings(http_rule(service, f"Delete{resource}"))


def test_models_keep_the_legacy_images_routes() -> None:
    for method in ("CreateModel", "GetModel", "GetModelByName", "ListModels", "UpdateModel", "DeleteModel"):
        paths = [path for _, path in bindings(http_rule("ModelService", method))]
        assert any(p.startswith("/v1/models") for p in paths), method
        assert any(p.startswith("/v1/images") for p in paths), method


def test_system_keys_and_audit_routes() -> None:
    assert http_rule("SystemService", "GetInfo").get == "/v1/info"
    assert http_rule("SystemService", "Health").get == "/health"
    assert http_rule("ApiKeyService", "CreateApiKey").post == "/v1/api-keys"
    assert http_rule("ApiKeyService", "ListApiKeys").get == "/v1/api-keys"
    assert http_rule("ApiKeyService", "RevokeApiKey").delete == "/v1/api-keys/{id}"
    assert http_rule("AuditLogService", "ListAuditLogs").get == "/v1/audit-logs"
    assert "secret" in fields("CreateApiKeyResponse")


# The query parameters scripts depend on (the list), plus paging on every list.
LIST_FILTERS = {
    ("ListModelsRequest", "models"): "search company tag base_model parameter_count",
    ("ListReleasesRequest", "releases"): "image_id model_name version quantization status",
    ("ListDeploymentsRequest", "deployments"): "environment status cluster k8s_namespace company model_id "
    "release_id endpoint_url active_only deployed_after deployed_before",
    ("ListArtifactsRequest", "artifacts"): "release_id artifact_type checksum",
    ("ListAuditLogsRequest", "audit_logs"): "resource_type resource_id action api_key_name after before",
    ("ListApiKeysRequest", "api_keys"): "",
}


@pytest.mark.parametrize(("request_message", "list_field"), sorted(LIST_FILTERS))
def test_list_requests_page_and_filter(request_message: str, list_field: str) -> None:
    wanted = {"page_size", "page_token"} | set(LIST_FILTERS[(request_message, list_field)].split())
    missing = wanted - set(fields(request_message))
    assert not missing, f"{request_message} lacks {sorted(missing)}"
    if request_message != "ListApiKeysRequest":
        assert "order_by" in fields(request_message) or request_message == "ListAuditLogsRequest"
    response = request_message.replace("Request", "Response")
    assert {list_field, "next_page_token"} <= set(fields(response))
    assert fields("ListModelsRequest")["tag"].label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED


def test_mutations_take_request_id_etag_mask_and_force() -> None:
    for resource in ("Model", "Release", "Artifact", "Deployment"):
        assert "request_id" in fields(f"Create{resource}Request")
        assert {"etag", "update_mask"} <= set(fields(f"Update{resource}Request"))
        assert "etag" in fields(f"Delete{resource}Request")
    assert "request_id" in fields("CreateApiKeyRequest")
    assert "force" in fields("DeleteModelRequest")
    assert "force" in fields("DeleteReleaseRequest")
    assert "force" in fields("CreateDeploymentRequest")


def test_descriptor_set_carries_what_envoy_needs() -> None:
    # Without error_details the transcoder silently drops error details (clients get an empty body);
    # without source info the OpenAPI and reflection lose their comments.
    assert "google/rpc/error_details.proto" in FILES
    assert "google/api/annotations.proto" in FILES
    assert all(f.HasField("source_code_info") for f in CATAPULT.values())


def test_rpc_comments_state_errors() -> None:
    """Every RPC's leading comment names the errors it returns (or says it needs no key)."""
    for f in CATAPULT.values():
        for si, s in enumerate(f.service):
            for mi, m in enumerate(s.method):
                path = [6, si, 2, mi]  # FileDescriptorProto.service, ServiceDescriptorProto.method
                (loc,) = [loc for loc in f.source_code_info.location if list(loc.path) == path]
                comment = loc.leading_comments
                assert comment.strip(), f"{s.name}.{m.name} has no comment"
                assert "Error" in comment or "API key" in comment, f"{s.name}.{m.name}: {comment}"


def test_python_stubs_import() -> None:
    from catapult.v1 import (  # noqa: F401
        api_key_service_pb2_grpc,
        artifact_service_pb2_grpc,
        audit_log_service_pb2_grpc,
        deployment_service_pb2_grpc,
        model_service_pb2_grpc,
        release_service_pb2_grpc,
        system_service_pb2_grpc,
    )
    from catapult.v1.model_pb2 import Model

    assert Model(name="llama-3-7b-companyA", tags=["production"]).tags == ["production"]
