"""Every documented error path: invalid input, missing and duplicate resources, deletes with
children, deprecated releases, etags, update masks, termination and request_id. Calls that must
fail the same way for many inputs are tables: one parametrized case per row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from catapult.v1 import (
    artifact_pb2,
    audit_log_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
)
from tests.support.api import (
    RESOURCES,
    Stubs,
    auth,
    create,
    create_artifact,
    create_deployment,
    create_model,
    create_model_and_release,
    create_release,
    delete,
    get,
    ids,
    list_all,
    list_every,
    mask,
    unique,
    update,
)
from tests.support.errors import assert_no_database_text, error_details, expect_error, field_matches

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
ABORTED = grpc.StatusCode.ABORTED
UNKNOWN_ID = "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclass
class Registered:
    """A model with a release, an artifact and a deployment of it, each as GetX returns it; and
    another model with a release, for the updates that try to move a child to another parent."""

    model: model_pb2.Model
    release: release_pb2.Release
    artifact: artifact_pb2.Artifact
    deployment: deployment_pb2.Deployment
    other_model: model_pb2.Model
    other_release: release_pb2.Release

    def of(self, resource: str) -> Any:
        return getattr(self, resource)


async def register(stubs: Stubs, key: str) -> Registered:
    model, release = await create_model_and_release(stubs, key, release_notes="v1")
    artifact = await create_artifact(stubs, key, release.id, checksum="sha256:1")
    deployment = await create_deployment(stubs, key, release.id, status="deploying")
    other_model, other_release = await create_model_and_release(stubs, key)
    created: dict[str, Any] = {
        "model": model,
        "release": release,
        "artifact": artifact,
        "deployment": deployment,
    }
    read = {resource: await get(stubs, key, resource, item.id) for resource, item in created.items()}
    return Registered(**read, other_model=other_model, other_release=other_release)


# --- invalid input ---------------------------------------------------------------------


async def valid_values(stubs: Stubs, key: str, resource: str) -> dict[str, Any]:
    """A valid request body for `resource`; the tests remove or spoil one field of it."""
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


@pytest.mark.parametrize("resource", RESOURCES)
async def test_valid_values_are_accepted(stubs: Stubs, writer_key: str, resource: str) -> None:
    """The baseline the invalid-input tests spoil really is valid."""
    created = await create(stubs, writer_key, resource, await valid_values(stubs, writer_key, resource))
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


@pytest.mark.parametrize(("resource", "field"), REQUIRED)
async def test_required_fields(stubs: Stubs, writer_key: str, resource: str, field: str) -> None:
    values = await valid_values(stubs, writer_key, resource)
    del values[field]
    await expect_error(create(stubs, writer_key, resource, values), INVALID, "INVALID_FIELD", field)
    # Blank is missing too: whitespace for text, "" for an id.
    values[field] = "" if field in ("image_id", "release_id") else "   "
    await expect_error(create(stubs, writer_key, resource, values), INVALID, "INVALID_FIELD", field)


async def test_every_missing_field_is_named(stubs: Stubs, writer_key: str) -> None:
    err = await expect_error(create(stubs, writer_key, "artifact", {}), INVALID, "INVALID_FIELD")
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
    await expect_error(create(stubs, writer_key, resource, values), INVALID, "INVALID_FIELD", field=field)


async def test_longest_allowed_values_are_accepted(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, name="n" * 255, storage_path="s" * 1000)
    assert len(model.name) == 255
    assert len(model.storage_path) == 1000


@pytest.mark.parametrize("resource", RESOURCES)
async def test_metadata_too_large(stubs: Stubs, writer_key: str, resource: str) -> None:
    values = await valid_values(stubs, writer_key, resource)
    values["metadata"] = {"blob": "x" * (65 * 1024)}
    await expect_error(
        create(stubs, writer_key, resource, values), INVALID, "INVALID_FIELD", field="metadata"
    )


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


OPEN_VOCABULARY_VALUES = [
    ("release", "quantization", "q4_k_m"),
    ("release", "quantization", "awq"),
    ("deployment", "environment", "eu-prod"),
    ("deployment", "environment", "canary"),
]


@pytest.mark.parametrize(("resource", "field", "value"), OPEN_VOCABULARY_VALUES)
async def test_open_vocabularies_take_any_lowercase_token(
    stubs: Stubs, writer_key: str, resource: str, field: str, value: str
) -> None:
    values = await valid_values(stubs, writer_key, resource)
    values[field] = value
    created = await create(stubs, writer_key, resource, values)
    assert getattr(created, field) == value


@pytest.mark.parametrize(("resource", "field", "value"), BAD_VALUES)
async def test_invalid_values(stubs: Stubs, writer_key: str, resource: str, field: str, value: Any) -> None:
    values = await valid_values(stubs, writer_key, resource)
    values[field] = value
    await expect_error(create(stubs, writer_key, resource, values), INVALID, "INVALID_FIELD", field)


@pytest.mark.parametrize("resource", RESOURCES)
async def test_get_with_an_invalid_uuid(stubs: Stubs, reader_key: str, resource: str) -> None:
    for bad in ("", "42", "not-a-uuid", "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5"):
        await expect_error(get(stubs, reader_key, resource, bad), INVALID, "INVALID_FIELD", field="id")


async def test_get_model_by_an_empty_name(stubs: Stubs, reader_key: str) -> None:
    await expect_error(
        stubs.models.GetModelByName(
            model_service_pb2.GetModelByNameRequest(name=""), metadata=auth(reader_key)
        ),
        INVALID,
        "INVALID_FIELD",
        field="name",
    )


# --- unknown ids and names -------------------------------------------------------------


def _get_unknown(resource: str) -> Callable[[Stubs, str], Awaitable[Any]]:
    return lambda stubs, key: get(stubs, key, resource, UNKNOWN_ID)


# A call naming what does not exist: NOT_FOUND, with no database text in the message.
UNKNOWN: dict[str, Callable[[Stubs, str], Awaitable[Any]]] = {
    **{f"get {resource}": _get_unknown(resource) for resource in RESOURCES},
    "get model by name": lambda s, k: s.models.GetModelByName(
        model_service_pb2.GetModelByNameRequest(name="nope"), metadata=auth(k)
    ),
    "update model": lambda s, k: update(s, k, "model", {"id": UNKNOWN_ID, "company": "c"}),
    "delete deployment": lambda s, k: delete(s, k, "deployment", UNKNOWN_ID),
    "release of an unknown model": lambda s, k: create_release(s, k, UNKNOWN_ID),
    "artifact of an unknown release": lambda s, k: create_artifact(s, k, UNKNOWN_ID),
    "deployment of an unknown release": lambda s, k: create_deployment(s, k, UNKNOWN_ID),
}


@pytest.mark.parametrize("attempt", UNKNOWN.values(), ids=UNKNOWN.keys())
async def test_unknown_is_not_found(
    stubs: Stubs, writer_key: str, attempt: Callable[[Stubs, str], Awaitable[Any]]
) -> None:
    err = await expect_error(attempt(stubs, writer_key), NOT_FOUND, "RESOURCE_NOT_FOUND")
    assert_no_database_text(err.details() or "")


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
    await expect_error(get(stubs, writer_key, "model", model.id), grpc.StatusCode.NOT_FOUND)
    await expect_error(get(stubs, writer_key, "release", r1.id), grpc.StatusCode.NOT_FOUND)
    assert (await get(stubs, writer_key, "release", kept.id)).id == kept.id

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
    await expect_error(get(stubs, writer_key, "model", model.id), grpc.StatusCode.NOT_FOUND)
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
    await expect_error(get(stubs, writer_key, "release", release.id), grpc.StatusCode.NOT_FOUND)
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

# resource → (field, the value an update with the current etag sets, the value a stale one tries)
ETAG_CHANGES = {
    "model": ("description", "v2", "v3"),
    "release": ("release_notes", "v2", "v3"),
    "artifact": ("checksum", "sha256:2", "sha256:3"),
    "deployment": ("status", "success", "failed"),
}


@pytest.mark.parametrize("resource", RESOURCES)
async def test_a_stale_etag_is_aborted(stubs: Stubs, writer_key: str, resource: str) -> None:
    before = (await register(stubs, writer_key)).of(resource)
    field, fresh_value, stale_value = ETAG_CHANGES[resource]
    updated = await update(
        stubs, writer_key, resource, {"id": before.id, field: fresh_value}, etag=before.etag
    )
    assert getattr(updated, field) == fresh_value
    assert updated.etag and updated.etag != before.etag, "the etag changes on every update"

    stale_update = update(
        stubs, writer_key, resource, {"id": before.id, field: stale_value}, etag=before.etag
    )
    await expect_error(stale_update, ABORTED, "ETAG_MISMATCH")
    await expect_error(
        delete(stubs, writer_key, resource, before.id, etag=before.etag), ABORTED, "ETAG_MISMATCH"
    )
    got = await get(stubs, writer_key, resource, before.id)
    assert (getattr(got, field), got.etag) == (fresh_value, updated.etag), "a rejected call changes nothing"

    # The current etag deletes it (a deployment is marked terminated and kept).
    deleted = await delete(
        stubs, writer_key, resource, before.id, etag=updated.etag, force=resource in ("model", "release")
    )
    if resource == "deployment":
        assert deleted.status == "terminated"
    else:
        await expect_error(get(stubs, writer_key, resource, before.id), NOT_FOUND)


# --- updates that are refused ----------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """An update the server refuses with INVALID_ARGUMENT, and must leave the resource as it was."""

    resource: str
    values: Callable[[Registered], dict[str, Any]]  # beside the id
    paths: tuple[str, ...] = ()  # the update mask
    reason: str | None = None
    field: str | None = None  # the BadRequest field violation


def _mask_path(path: str) -> Refused:
    return Refused("model", lambda r: {"description": "changed"}, ("description", path))


REFUSED_UPDATES = {
    "model.name too long": Refused("model", lambda r: {"name": "x" * 256}, (), "INVALID_FIELD", "name"),
    "model.name cleared by the mask": Refused("model", lambda r: {}, ("name",), "INVALID_FIELD", "name"),
    "release.status outside the vocabulary": Refused(
        "release", lambda r: {"status": "retired"}, (), "INVALID_FIELD", "status"
    ),
    # A release's image_id and an artifact's or deployment's release_id are fixed.
    "release.image_id": Refused("release", lambda r: {"image_id": r.other_model.id}, ("image_id",)),
    "artifact.release_id": Refused("artifact", lambda r: {"release_id": r.other_release.id}, ("release_id",)),
    "deployment.release_id": Refused(
        "deployment", lambda r: {"release_id": r.other_release.id}, ("release_id",)
    ),
    # An update mask naming an unknown or output-only field.
    **{
        f"mask path {path}": _mask_path(path)
        for path in ("no_such_field", "id", "created_at", "etag", "metadata.gpu")
    },
}


@pytest.mark.parametrize("refused", REFUSED_UPDATES.values(), ids=REFUSED_UPDATES.keys())
async def test_a_refused_update_changes_nothing(stubs: Stubs, writer_key: str, refused: Refused) -> None:
    registered = await register(stubs, writer_key)
    before = registered.of(refused.resource)
    values = {"id": before.id, **refused.values(registered)}
    attempt = update(stubs, writer_key, refused.resource, values, refused.paths)
    await expect_error(attempt, INVALID, refused.reason, refused.field)
    assert await get(stubs, writer_key, refused.resource, before.id) == before


# --- update masks ----------------------------------------------------------------------


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
    got = await get(stubs, writer_key, "model", model.id)
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
    got = await get(stubs, writer_key, "model", model.id)
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
    got = await get(stubs, writer_key, "deployment", deployment.id)
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


# --- request_id ------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
async def test_a_create_retried_with_its_request_id_returns_the_first(
    stubs: Stubs, writer_key: str, resource: str
) -> None:
    values = await valid_values(stubs, writer_key, resource)
    first = await create(stubs, writer_key, resource, values, request_id=f"req-{resource}-1")
    retry = await create(stubs, writer_key, resource, values, request_id=f"req-{resource}-1")
    assert retry.id == first.id
    parent = {name: value for name, value in values.items() if name in ("image_id", "release_id")}
    assert ids(await list_every(stubs, writer_key, resource, **parent)) == [first.id], "one, not two"


async def test_an_idempotency_key_header_is_the_creates_request_id(stubs: Stubs, writer_key: str) -> None:
    """A proxy sees headers, not request bodies: the idempotency-key header deduplicates a create as
    its request_id does (REST clients may send only the header), and a header that differs from the
    request_id is refused, so a create a proxy retries by the header is never made twice."""
    with_header = (*auth(writer_key), ("idempotency-key", "req-header-1"))
    model = model_pb2.Model(name=unique("by-header"), storage_path="s3://ml-models/by-header/")
    first = await stubs.models.CreateModel(
        model_service_pb2.CreateModelRequest(model=model), metadata=with_header
    )
    again = await stubs.models.CreateModel(
        model_service_pb2.CreateModelRequest(model=model), metadata=with_header
    )
    in_the_body = await stubs.models.CreateModel(
        model_service_pb2.CreateModelRequest(model=model, request_id="req-header-1"),
        metadata=auth(writer_key),
    )
    assert first.id == again.id == in_the_body.id
    await expect_error(
        stubs.models.CreateModel(
            model_service_pb2.CreateModelRequest(model=model, request_id="req-other"), metadata=with_header
        ),
        INVALID,
        "INVALID_FIELD",
        "request_id",
    )


async def test_request_id_reused_for_another_method(stubs: Stubs, writer_key: str) -> None:
    model = await create_model(stubs, writer_key, request_id="req-shared")
    await expect_error(
        create_release(stubs, writer_key, model.id, request_id="req-shared"),
        INVALID,
        "REQUEST_ID_REUSED",
    )
    releases = await list_every(stubs, writer_key, "release", image_id=model.id)
    assert releases == [], "the rejected create made nothing"
