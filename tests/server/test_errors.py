"""Every documented error path: invalid input, missing and duplicate resources, deletes with
children, deprecated releases, etags, update masks, termination and request_id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from catapult.v1 import (
    artifact_pb2,
    artifact_service_pb2,
    audit_log_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)
from tests.support.api import (
    Stubs,
    auth,
    build,
    create_artifact,
    create_deployment,
    create_model,
    create_model_and_release,
    create_release,
    ids,
    list_all,
    unique,
)
from tests.support.errors import Failures, assert_no_database_text, error_details, expect_error, field_matches

INVALID = grpc.StatusCode.INVALID_ARGUMENT
UNKNOWN_ID = "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


# --- invalid input ---------------------------------------------------------------------

# A valid request body per resource; the test removes or spoils one field of it.
Create = Callable[[Stubs, str, dict[str, Any]], Awaitable[Any]]


async def create_model_raw(stubs: Stubs, key: str, values: dict[str, Any]) -> Any:
    request = model_service_pb2.CreateModelRequest(model=build(model_pb2.Model, values))
    return await stubs.models.CreateModel(request, metadata=auth(key))


async def create_release_raw(stubs: Stubs, key: str, values: dict[str, Any]) -> Any:
    request = release_service_pb2.CreateReleaseRequest(release=build(release_pb2.Release, values))
    return await stubs.releases.CreateRelease(request, metadata=auth(key))


async def create_artifact_raw(stubs: Stubs, key: str, values: dict[str, Any]) -> Any:
    request = artifact_service_pb2.CreateArtifactRequest(artifact=build(artifact_pb2.Artifact, values))
    return await stubs.artifacts.CreateArtifact(request, metadata=auth(key))


async def create_deployment_raw(stubs: Stubs, key: str, values: dict[str, Any]) -> Any:
    request = deployment_service_pb2.CreateDeploymentRequest(
        deployment=build(deployment_pb2.Deployment, values)
    )
    return await stubs.deployments.CreateDeployment(request, metadata=auth(key))


CREATES: dict[str, Create] = {
    "model": create_model_raw,
    "release": create_release_raw,
    "artifact": create_artifact_raw,
    "deployment": create_deployment_raw,
}


async def valid_values(stubs: Stubs, key: str, resource: str) -> dict[str, Any]:
    if resource == "model":
        return {"name": unique("llama-3-7b-companyA"), "storage_path": "s3://ml-models/companyA/llama-3-7b/"}
    model = await create_model(stubs, key)
    if resource == "release":
        return {"image_id": model.id, "version": "1.0.0", "quantization": "fp16"}
    release = await create_release(stubs, key, model.id)
    if resource == "artifact":
        return {
            "release_id": release.id,
            "name": "inference-1.0.0-py311.whl",
            "artifact_type": "wheel",
            "file_path": "s3://artifacts/inference-1.0.0.whl",
        }
    return {"release_id": release.id, "environment": "production"}


async def test_valid_values_are_accepted(stubs: Stubs, writer_key: str) -> None:
    """The baseline the invalid-input tests spoil really is valid."""
    for resource, create in CREATES.items():
        created = await create(stubs, writer_key, await valid_values(stubs, writer_key, resource))
        assert created.id


REQUIRED = [
    ("model", "name"),
    ("model", "storage_path"),
    ("release", "image_id"),
    ("release", "version"),
    ("artifact", "release_id"),
    ("artifact", "name"),
    ("artifact", "artifact_type"),
    ("artifact", "file_path"),
    ("deployment", "release_id"),
    ("deployment", "environment"),
]


async def test_missing_required_fields(stubs: Stubs, writer_key: str) -> None:
    failures = Failures()
    for resource, field in REQUIRED:
        values = await valid_values(stubs, writer_key, resource)
        del values[field]
        call = CREATES[resource](stubs, writer_key, values)
        await failures.check(
            f"{resource} without {field}", expect_error(call, INVALID, "INVALID_FIELD", field)
        )
        values[field] = "   " if field not in ("image_id", "release_id") else ""
        call = CREATES[resource](stubs, writer_key, values)
        await failures.check(
            f"{resource} with blank {field}", expect_error(call, INVALID, "INVALID_FIELD", field)
        )
    failures.assert_none()


async def test_every_missing_field_is_named(stubs: Stubs, writer_key: str) -> None:
    err = await expect_error(create_artifact_raw(stubs, writer_key, {}), INVALID, "INVALID_FIELD")
    fields = error_details(err).fields
    for name in ("release_id", "name", "artifact_type", "file_path"):
        assert any(field_matches(f, name) for f in fields), f"{name} not named in {fields}"


TOO_LONG = [
    ("model", "name", 256),
    ("model", "storage_path", 1001),
    ("model", "company", 256),
    ("model", "base_model", 101),
    ("model", "parameter_count", 51),
    ("model", "repository", 501),
    ("release", "version", 101),
    ("release", "tag", 101),
    ("release", "digest", 256),
    ("artifact", "name", 256),
    ("artifact", "file_path", 1001),
    ("artifact", "python_version", 21),
    ("deployment", "cluster", 256),
    ("deployment", "endpoint_url", 501),
]


@pytest.mark.parametrize(("resource", "field", "length"), TOO_LONG)
async def test_value_too_long(stubs: Stubs, writer_key: str, resource: str, field: str, length: int) -> None:
    values = await valid_values(stubs, writer_key, resource)
    values[field] = (
        "https://x.example.com/" + "a" * (length - 22) if field == "endpoint_url" else "a" * length
    )
    assert len(values[field]) == length
    await expect_error(CREATES[resource](stubs, writer_key, values), INVALID, "INVALID_FIELD", field=field)


async def test_longest_allowed_values_are_accepted(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, name="n" * 255, storage_path="s" * 1000)
    assert len(model.name) == 255
    assert len(model.storage_path) == 1000


async def test_metadata_too_large(stubs: Stubs, writer_key: str) -> None:
    failures = Failures()
    for resource, create in CREATES.items():
        values = await valid_values(stubs, writer_key, resource)
        values["metadata"] = {"blob": "x" * (65 * 1024)}
        call = create(stubs, writer_key, values)
        await failures.check(resource, expect_error(call, INVALID, "INVALID_FIELD", field="metadata"))
    failures.assert_none()


async def test_metadata_below_the_limit_is_kept(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, metadata={"blob": "x" * (60 * 1024), "n": 1})
    got = await stubs.models.GetModel(
        model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
    )
    assert len(got.metadata["blob"]) == 60 * 1024
    assert got.metadata["n"] == 1


BAD_VALUES = [
    # Quantization and environment are open vocabularies: any lowercase token, so these are not.
    ("release", "quantization", "FP16"),
    ("release", "status", "retired"),
    ("artifact", "artifact_type", "egg"),
    ("deployment", "environment", "eu prod"),
    ("deployment", "status", "running"),
    ("deployment", "replicas", -1),
    ("artifact", "size_bytes", -1),
    ("release", "size_bytes", -5),
    ("release", "image_id", "not-a-uuid"),
    ("deployment", "release_id", "not-a-uuid"),
]


async def test_open_vocabularies_take_any_lowercase_token(stubs: Stubs, writer_key: str) -> None:
    for resource, field, value in (
        ("release", "quantization", "q4_k_m"),
        ("release", "quantization", "awq"),
        ("deployment", "environment", "eu-prod"),
        ("deployment", "environment", "canary"),
    ):
        values = await valid_values(stubs, writer_key, resource)
        values[field] = value
        created = await CREATES[resource](stubs, writer_key, values)
        assert getattr(created, field) == value


async def test_invalid_values(stubs: Stubs, writer_key: str) -> None:
    failures = Failures()
    for resource, field, value in BAD_VALUES:
        values = await valid_values(stubs, writer_key, resource)
        values[field] = value
        call = CREATES[resource](stubs, writer_key, values)
        await failures.check(
            f"{resource}.{field}={value!r}", expect_error(call, INVALID, "INVALID_FIELD", field)
        )
    failures.assert_none()


GETS: dict[str, Callable[[Stubs, str, str], Awaitable[Any]]] = {
    "model": lambda s, k, i: s.models.GetModel(model_service_pb2.GetModelRequest(id=i), metadata=auth(k)),
    "release": lambda s, k, i: s.releases.GetRelease(
        release_service_pb2.GetReleaseRequest(id=i), metadata=auth(k)
    ),
    "artifact": lambda s, k, i: s.artifacts.GetArtifact(
        artifact_service_pb2.GetArtifactRequest(id=i), metadata=auth(k)
    ),
    "deployment": lambda s, k, i: s.deployments.GetDeployment(
        deployment_service_pb2.GetDeploymentRequest(id=i), metadata=auth(k)
    ),
}


async def test_get_with_an_invalid_uuid(stubs: Stubs, reader_key: str) -> None:
    failures = Failures()
    for resource, get in GETS.items():
        for bad in ("", "42", "not-a-uuid", "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5"):
            call = get(stubs, reader_key, bad)
            await failures.check(
                f"{resource} {bad!r}", expect_error(call, INVALID, "INVALID_FIELD", field="id")
            )
    failures.assert_none()


async def test_get_an_unknown_id(stubs: Stubs, reader_key: str) -> None:
    failures = Failures()
    for resource, get in GETS.items():
        call = get(stubs, reader_key, UNKNOWN_ID)
        await failures.check(resource, expect_error(call, grpc.StatusCode.NOT_FOUND, "RESOURCE_NOT_FOUND"))
    failures.assert_none()


async def test_get_model_by_unknown_name(stubs: Stubs, reader_key: str) -> None:
    await expect_error(
        stubs.models.GetModelByName(
            model_service_pb2.GetModelByNameRequest(name="nope"), metadata=auth(reader_key)
        ),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )
    await expect_error(
        stubs.models.GetModelByName(
            model_service_pb2.GetModelByNameRequest(name=""), metadata=auth(reader_key)
        ),
        INVALID,
        "INVALID_FIELD",
        field="name",
    )


# --- uniqueness and references ---------------------------------------------------------


async def test_duplicate_model_name(stubs: Stubs, writer_key: str) -> None:
    await create_model(stubs, writer_key, name="llama-3-7b-companyA")
    err = await expect_error(
        create_model(stubs, writer_key, name="llama-3-7b-companyA"),
        grpc.StatusCode.ALREADY_EXISTS,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert_no_database_text(err.details() or "")


async def test_rename_onto_a_taken_name(stubs: Stubs, writer_key: str) -> None:
    await create_model(stubs, writer_key, name="taken")
    other = await create_model(stubs, writer_key, name="free")
    request = model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=other.id, name="taken"))
    await expect_error(
        stubs.models.UpdateModel(request, metadata=auth(writer_key)),
        grpc.StatusCode.ALREADY_EXISTS,
        "RESOURCE_ALREADY_EXISTS",
    )


@pytest.mark.parametrize("quantization", ["fp16", ""])
async def test_duplicate_release(stubs: Stubs, writer_key: str, quantization: str) -> None:
    model = await create_model(stubs, writer_key)
    await create_release(stubs, writer_key, model.id, version="1.0.0", quantization=quantization)
    err = await expect_error(
        create_release(stubs, writer_key, model.id, version="1.0.0", quantization=quantization),
        grpc.StatusCode.ALREADY_EXISTS,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert_no_database_text(err.details() or "")
    # The key is the triple: another quantization, version or model is a new release.
    await create_release(stubs, writer_key, model.id, version="1.0.0", quantization="int8")
    await create_release(stubs, writer_key, model.id, version="1.0.1", quantization=quantization)
    other = await create_model(stubs, writer_key)
    await create_release(stubs, writer_key, other.id, version="1.0.0", quantization=quantization)


async def test_children_of_unknown_parents(stubs: Stubs, writer_key: str) -> None:
    for call in (
        create_release(stubs, writer_key, UNKNOWN_ID),
        create_artifact(stubs, writer_key, UNKNOWN_ID),
        create_deployment(stubs, writer_key, UNKNOWN_ID),
    ):
        err = await expect_error(call, grpc.StatusCode.NOT_FOUND, "RESOURCE_NOT_FOUND")
        assert_no_database_text(err.details() or "")


# --- deletes with children -------------------------------------------------------------


async def test_delete_model_with_releases_needs_force(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    r1 = await create_release(stubs, writer_key, model.id)
    r2 = await create_release(stubs, writer_key, model.id)
    for release in (r1, r2):
        await create_artifact(stubs, writer_key, release.id)
    await create_artifact(stubs, writer_key, r1.id)
    # History, not live: a live deployment is never deleted, even with force (tests/server/test_live.py).
    await create_deployment(stubs, writer_key, r1.id, status="failed")
    await create_deployment(stubs, writer_key, r2.id, status="terminated")
    bystander = await create_model(stubs, writer_key)
    kept = await create_release(stubs, writer_key, bystander.id)

    await expect_error(
        stubs.models.DeleteModel(
            model_service_pb2.DeleteModelRequest(id=model.id), metadata=auth(writer_key)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "HAS_CHILDREN",
    )
    still = await stubs.models.GetModel(
        model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
    )
    assert still.id == model.id

    deleted = await stubs.models.DeleteModel(
        model_service_pb2.DeleteModelRequest(id=model.id, force=True), metadata=auth(writer_key)
    )
    assert deleted.id == model.id
    assert (deleted.deleted_releases, deleted.deleted_artifacts, deleted.deleted_deployments) == (2, 3, 2)
    await expect_error(GETS["model"](stubs, writer_key, model.id), grpc.StatusCode.NOT_FOUND)
    await expect_error(GETS["release"](stubs, writer_key, r1.id), grpc.StatusCode.NOT_FOUND)
    assert (await GETS["release"](stubs, writer_key, kept.id)).id == kept.id

    logs = await stubs.audit_logs.ListAuditLogs(
        audit_log_service_pb2.ListAuditLogsRequest(resource_id=model.id, action="delete"),
        metadata=auth(writer_key),
    )
    assert len(logs.audit_logs) == 1
    row = logs.audit_logs[0]
    assert (row.resource_type, row.api_key_name) == ("model", "test-writer")
    assert row.changes.fields, "a forced delete records the children that went with it"


async def test_delete_model_without_children(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    deleted = await stubs.models.DeleteModel(
        model_service_pb2.DeleteModelRequest(id=model.id), metadata=auth(writer_key)
    )
    assert (deleted.id, deleted.deleted_releases) == (model.id, 0)
    await expect_error(GETS["model"](stubs, writer_key, model.id), grpc.StatusCode.NOT_FOUND)
    await expect_error(
        stubs.models.DeleteModel(
            model_service_pb2.DeleteModelRequest(id=model.id), metadata=auth(writer_key)
        ),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


@pytest.mark.parametrize("child", ["artifact", "deployment"])
async def test_delete_release_with_children_needs_force(stubs: Stubs, writer_key: str, child: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    if child == "artifact":
        await create_artifact(stubs, writer_key, release.id)
    else:
        await create_deployment(stubs, writer_key, release.id, status="terminated")
    await expect_error(
        stubs.releases.DeleteRelease(
            release_service_pb2.DeleteReleaseRequest(id=release.id), metadata=auth(writer_key)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "HAS_CHILDREN",
    )
    deleted = await stubs.releases.DeleteRelease(
        release_service_pb2.DeleteReleaseRequest(id=release.id, force=True), metadata=auth(writer_key)
    )
    assert deleted.id == release.id
    expected = (1, 0) if child == "artifact" else (0, 1)
    assert (deleted.deleted_artifacts, deleted.deleted_deployments) == expected
    await expect_error(GETS["release"](stubs, writer_key, release.id), grpc.StatusCode.NOT_FOUND)
    logs = await stubs.audit_logs.ListAuditLogs(
        audit_log_service_pb2.ListAuditLogsRequest(resource_id=release.id, action="delete"),
        metadata=auth(writer_key),
    )
    assert len(logs.audit_logs) == 1


# --- deprecated releases ---------------------------------------------------------------


async def test_deploying_a_deprecated_release_needs_force(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deprecated = await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(
            release=release_pb2.Release(id=release.id, status="deprecated"), update_mask=mask("status")
        ),
        metadata=auth(writer_key),
    )
    assert deprecated.status == "deprecated"
    await expect_error(
        create_deployment(stubs, writer_key, release.id, environment="production"),
        grpc.StatusCode.FAILED_PRECONDITION,
        "RELEASE_DEPRECATED",
    )
    listed = await stubs.deployments.ListDeployments(
        deployment_service_pb2.ListDeploymentsRequest(release_id=release.id), metadata=auth(writer_key)
    )
    assert list(listed.deployments) == []
    forced = await create_deployment(stubs, writer_key, release.id, environment="production", force=True)
    assert forced.release_id == release.id


# --- etags -----------------------------------------------------------------------------


async def test_model_etag(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, description="v1")
    first_etag = model.etag
    updated = await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(
            model=model_pb2.Model(id=model.id, description="v2"), etag=first_etag
        ),
        metadata=auth(writer_key),
    )
    assert updated.description == "v2"
    assert updated.etag and updated.etag != first_etag, "the etag changes on every update"
    await expect_error(
        stubs.models.UpdateModel(
            model_service_pb2.UpdateModelRequest(
                model=model_pb2.Model(id=model.id, description="v3"), etag=first_etag
            ),
            metadata=auth(writer_key),
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    got = await GETS["model"](stubs, writer_key, model.id)
    assert got.description == "v2", "a rejected update changes nothing"
    assert got.etag == updated.etag
    await expect_error(
        stubs.models.DeleteModel(
            model_service_pb2.DeleteModelRequest(id=model.id, etag=first_etag), metadata=auth(writer_key)
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    await stubs.models.DeleteModel(
        model_service_pb2.DeleteModelRequest(id=model.id, etag=updated.etag), metadata=auth(writer_key)
    )
    await expect_error(GETS["model"](stubs, writer_key, model.id), grpc.StatusCode.NOT_FOUND)


async def test_release_artifact_and_deployment_etags(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key, release_notes="v1")
    stale = release.etag
    fresh = await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(
            release=release_pb2.Release(id=release.id, release_notes="v2"), etag=release.etag
        ),
        metadata=auth(writer_key),
    )
    assert fresh.etag != stale
    await expect_error(
        stubs.releases.UpdateRelease(
            release_service_pb2.UpdateReleaseRequest(
                release=release_pb2.Release(id=release.id, release_notes="v3"), etag=stale
            ),
            metadata=auth(writer_key),
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    await expect_error(
        stubs.releases.DeleteRelease(
            release_service_pb2.DeleteReleaseRequest(id=release.id, etag=stale), metadata=auth(writer_key)
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )

    artifact = await create_artifact(stubs, writer_key, release.id, checksum="sha256:1")
    changed = await stubs.artifacts.UpdateArtifact(
        artifact_service_pb2.UpdateArtifactRequest(
            artifact=artifact_pb2.Artifact(id=artifact.id, checksum="sha256:2"), etag=artifact.etag
        ),
        metadata=auth(writer_key),
    )
    assert changed.checksum == "sha256:2"
    assert changed.etag != artifact.etag
    await expect_error(
        stubs.artifacts.DeleteArtifact(
            artifact_service_pb2.DeleteArtifactRequest(id=artifact.id, etag=artifact.etag),
            metadata=auth(writer_key),
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )

    deployment = await create_deployment(stubs, writer_key, release.id, status="deploying")
    live = await stubs.deployments.UpdateDeployment(
        deployment_service_pb2.UpdateDeploymentRequest(
            deployment=deployment_pb2.Deployment(id=deployment.id, status="success"), etag=deployment.etag
        ),
        metadata=auth(writer_key),
    )
    assert live.status == "success"
    await expect_error(
        stubs.deployments.DeleteDeployment(
            deployment_service_pb2.DeleteDeploymentRequest(id=deployment.id, etag=deployment.etag),
            metadata=auth(writer_key),
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    terminated = await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=deployment.id, etag=live.etag),
        metadata=auth(writer_key),
    )
    assert terminated.status == "terminated"


# --- update masks ----------------------------------------------------------------------


async def test_update_mask_with_an_unknown_or_output_only_path(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, description="kept")
    failures = Failures()
    for path in ("no_such_field", "id", "created_at", "etag", "metadata.gpu"):
        await failures.check(path, expect_update_mask_rejected(stubs, writer_key, model.id, path))
    failures.assert_none()
    assert (await GETS["model"](stubs, writer_key, model.id)).description == "kept"


async def expect_update_mask_rejected(stubs: Stubs, key: str, model_id: str, path: str) -> None:
    request = model_service_pb2.UpdateModelRequest(
        model=model_pb2.Model(id=model_id, description="changed"), update_mask=mask("description", path)
    )
    await expect_error(stubs.models.UpdateModel(request, metadata=auth(key)), INVALID)


async def test_update_mask_clears_a_field(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(
        stubs, writer_key, description="to be cleared", company="CompanyA", tags=["a", "b"]
    )
    updated = await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(
            model=model_pb2.Model(id=model.id), update_mask=mask("description", "tags")
        ),
        metadata=auth(writer_key),
    )
    assert updated.description == ""
    assert list(updated.tags) == []
    assert updated.company == "CompanyA", "fields outside the mask are left alone"
    got = await GETS["model"](stubs, writer_key, model.id)
    assert (got.description, list(got.tags), got.company) == ("", [], "CompanyA")


async def test_update_mask_ignores_fields_outside_it(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, description="old", company="CompanyA")
    updated = await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(
            model=model_pb2.Model(id=model.id, description="new", company="CompanyB"),
            update_mask=mask("company"),
        ),
        metadata=auth(writer_key),
    )
    assert (updated.description, updated.company) == ("old", "CompanyB")


async def test_update_without_mask_leaves_empty_fields_unchanged(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(
        stubs,
        writer_key,
        description="kept",
        company="CompanyA",
        base_model="llama-3",
        tags=["production"],
        metadata={"k": "v"},
    )
    updated = await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, company="CompanyB")),
        metadata=auth(writer_key),
    )
    got = await GETS["model"](stubs, writer_key, model.id)
    for m in (updated, got):
        assert m.company == "CompanyB"
        assert (m.name, m.storage_path, m.description, m.base_model) == (
            model.name,
            model.storage_path,
            "kept",
            "llama-3",
        )
        assert list(m.tags) == ["production"]
        assert m.metadata["k"] == "v"
    assert got.updated_at.ToDatetime() > model.updated_at.ToDatetime(), "an update moves updated_at"


async def test_update_validates_values(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    await expect_error(
        stubs.models.UpdateModel(
            model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, name="x" * 256)),
            metadata=auth(writer_key),
        ),
        INVALID,
        "INVALID_FIELD",
        field="name",
    )
    await expect_error(
        stubs.models.UpdateModel(
            model_service_pb2.UpdateModelRequest(
                model=model_pb2.Model(id=model.id), update_mask=mask("name")
            ),
            metadata=auth(writer_key),
        ),
        INVALID,
        "INVALID_FIELD",
        field="name",
    )
    release = await create_release(stubs, writer_key, model.id)
    await expect_error(
        stubs.releases.UpdateRelease(
            release_service_pb2.UpdateReleaseRequest(
                release=release_pb2.Release(id=release.id, status="retired")
            ),
            metadata=auth(writer_key),
        ),
        INVALID,
        "INVALID_FIELD",
        field="status",
    )
    await expect_error(
        stubs.models.UpdateModel(
            model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=UNKNOWN_ID, company="c")),
            metadata=auth(writer_key),
        ),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


# --- termination -----------------------------------------------------------------------


async def test_delete_deployment_marks_it_terminated(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deployment = await create_deployment(
        stubs, writer_key, release.id, environment="production", status="success"
    )
    terminated = await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=deployment.id), metadata=auth(writer_key)
    )
    assert terminated.id == deployment.id
    assert terminated.status == "terminated"
    assert terminated.HasField("terminated_at")
    got = await GETS["deployment"](stubs, writer_key, deployment.id)
    assert got.status == "terminated"
    assert got.terminated_at == terminated.terminated_at
    assert got.endpoint_url == deployment.endpoint_url
    listed = await list_all(
        stubs.deployments.ListDeployments,
        deployment_service_pb2.ListDeploymentsRequest(release_id=release.id),
        "deployments",
        writer_key,
    )
    assert ids(listed) == [deployment.id]
    assert listed[0].status == "terminated"
    # Terminating again returns it unchanged.
    again = await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=deployment.id), metadata=auth(writer_key)
    )
    assert again.terminated_at == terminated.terminated_at
    assert again.etag == terminated.etag


async def test_update_status_terminated_sets_terminated_at(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deployment = await create_deployment(stubs, writer_key, release.id, status="success")
    assert not deployment.HasField("terminated_at")
    updated = await stubs.deployments.UpdateDeployment(
        deployment_service_pb2.UpdateDeploymentRequest(
            deployment=deployment_pb2.Deployment(id=deployment.id, status="terminated")
        ),
        metadata=auth(writer_key),
    )
    assert updated.status == "terminated"
    assert updated.HasField("terminated_at")


async def test_delete_unknown_deployment(stubs: Stubs, writer_key: str) -> None:
    await expect_error(
        stubs.deployments.DeleteDeployment(
            deployment_service_pb2.DeleteDeploymentRequest(id=UNKNOWN_ID), metadata=auth(writer_key)
        ),
        grpc.StatusCode.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
    )


# --- request_id ------------------------------------------------------------------------


async def test_create_model_retry_with_request_id(stubs: Stubs, writer_key: str) -> None:
    first = await create_model(stubs, writer_key, request_id="req-model-1", name="llama-3-7b-companyA")
    retry = await create_model(stubs, writer_key, request_id="req-model-1", name="llama-3-7b-companyA")
    assert retry.id == first.id
    models = await list_all(
        stubs.models.ListModels, model_service_pb2.ListModelsRequest(), "models", writer_key
    )
    assert ids(models) == [first.id]


async def test_create_deployment_retry_with_request_id(stubs: Stubs, writer_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    first = await create_deployment(
        stubs, writer_key, release.id, request_id="req-deploy-1", status="success"
    )
    retry = await create_deployment(
        stubs, writer_key, release.id, request_id="req-deploy-1", status="success"
    )
    assert retry.id == first.id
    listed = await list_all(
        stubs.deployments.ListDeployments,
        deployment_service_pb2.ListDeploymentsRequest(release_id=release.id),
        "deployments",
        writer_key,
    )
    assert ids(listed) == [first.id]


async def test_request_id_reused_for_another_method(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, request_id="req-shared")
    await expect_error(
        create_release(stubs, writer_key, model.id, request_id="req-shared"),
        INVALID,
        "REQUEST_ID_REUSED",
    )
    releases = await list_all(
        stubs.releases.ListReleases,
        release_service_pb2.ListReleasesRequest(image_id=model.id),
        "releases",
        writer_key,
    )
    assert releases == [], "the rejected create made nothing"


async def test_create_release_and_artifact_retry_with_request_id(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key)
    release = await create_release(stubs, writer_key, model.id, request_id="req-release", version="1.0.0")
    again = await create_release(stubs, writer_key, model.id, request_id="req-release", version="1.0.0")
    assert again.id == release.id
    artifact = await create_artifact(stubs, writer_key, release.id, request_id="req-artifact", name="a.whl")
    again_artifact = await create_artifact(
        stubs, writer_key, release.id, request_id="req-artifact", name="a.whl"
    )
    assert again_artifact.id == artifact.id
    artifacts = await list_all(
        stubs.artifacts.ListArtifacts,
        artifact_service_pb2.ListArtifactsRequest(release_id=release.id),
        "artifacts",
        writer_key,
    )
    assert ids(artifacts) == [artifact.id]


async def test_parents_cannot_change(stubs: Stubs, writer_key: str) -> None:
    """A release's image_id and an artifact's or deployment's release_id are fixed."""
    model, release = await create_model_and_release(stubs, writer_key)
    other_model, other_release = await create_model_and_release(stubs, writer_key)
    artifact = await create_artifact(stubs, writer_key, release.id)
    deployment = await create_deployment(stubs, writer_key, release.id)
    failures = Failures()
    await failures.check(
        "release.image_id",
        expect_error(
            stubs.releases.UpdateRelease(
                release_service_pb2.UpdateReleaseRequest(
                    release=release_pb2.Release(id=release.id, image_id=other_model.id),
                    update_mask=mask("image_id"),
                ),
                metadata=auth(writer_key),
            ),
            INVALID,
        ),
    )
    await failures.check(
        "artifact.release_id",
        expect_error(
            stubs.artifacts.UpdateArtifact(
                artifact_service_pb2.UpdateArtifactRequest(
                    artifact=artifact_pb2.Artifact(id=artifact.id, release_id=other_release.id),
                    update_mask=mask("release_id"),
                ),
                metadata=auth(writer_key),
            ),
            INVALID,
        ),
    )
    await failures.check(
        "deployment.release_id",
        expect_error(
            stubs.deployments.UpdateDeployment(
                deployment_service_pb2.UpdateDeploymentRequest(
                    deployment=deployment_pb2.Deployment(id=deployment.id, release_id=other_release.id),
                    update_mask=mask("release_id"),
                ),
                metadata=auth(writer_key),
            ),
            INVALID,
        ),
    )
    failures.assert_none()
    assert (await GETS["release"](stubs, writer_key, release.id)).image_id == model.id
    assert (await GETS["artifact"](stubs, writer_key, artifact.id)).release_id == release.id
    assert (await GETS["deployment"](stubs, writer_key, deployment.id)).release_id == release.id
