"""Every mutation leaves an audit row (who, what, which request, what changed, from where);
failed mutations leave none; ListAuditLogs filters."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    artifact_pb2,
    artifact_service_pb2,
    audit_log_pb2,
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
    create_artifact,
    create_deployment,
    create_model,
    create_model_and_release,
    create_release,
    list_all,
    to_datetime,
)
from tests.support.errors import expect_error

ListAuditLogs = audit_log_service_pb2.ListAuditLogsRequest


async def audit(stubs: Stubs, key: str, **filters: Any) -> list[audit_log_pb2.AuditLog]:
    return await list_all(stubs.audit_logs.ListAuditLogs, ListAuditLogs(**filters), "audit_logs", key)


async def only_row(stubs: Stubs, key: str, resource_id: str, action: str) -> audit_log_pb2.AuditLog:
    rows = await audit(stubs, key, resource_id=resource_id, action=action)
    assert len(rows) == 1, f"expected one {action} row for {resource_id}, got {rows}"
    return rows[0]


def check_row(
    row: audit_log_pb2.AuditLog, action: str, resource_type: str, resource_id: str, key_name: str
) -> None:
    assert (row.action, row.resource_type, row.resource_id, row.api_key_name) == (
        action,
        resource_type,
        resource_id,
        key_name,
    )
    assert row.api_key_id, "the caller's key id is recorded"
    assert "127.0.0.1" in row.peer, f"peer {row.peer!r}"
    assert row.created_at.seconds > 0
    assert row.id


def changes(row: audit_log_pb2.AuditLog) -> dict[str, Any]:
    return json_format.MessageToDict(row.changes)


async def test_model_mutations_are_audited(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model = await create_model(stubs, writer_key, request_id="req-audit-model", description="old")
    row = await only_row(stubs, reader_key, model.id, "create")
    check_row(row, "create", "model", model.id, "test-writer")
    assert row.request_id == "req-audit-model"
    assert changes(row).get("name") == model.name, "a create records the new values"

    await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=model.id, description="new")),
        metadata=auth(writer_key),
    )
    row = await only_row(stubs, reader_key, model.id, "update")
    check_row(row, "update", "model", model.id, "test-writer")
    assert changes(row)["description"] == {"old": "old", "new": "new"}
    assert "name" not in changes(row), "only what changed"

    await stubs.models.DeleteModel(
        model_service_pb2.DeleteModelRequest(id=model.id), metadata=auth(writer_key)
    )
    check_row(
        await only_row(stubs, reader_key, model.id, "delete"), "delete", "model", model.id, "test-writer"
    )


async def test_release_mutations_are_audited(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model = await create_model(stubs, writer_key)
    release = await create_release(stubs, writer_key, model.id, request_id="req-audit-release")
    row = await only_row(stubs, reader_key, release.id, "create")
    check_row(row, "create", "release", release.id, "test-writer")
    assert row.request_id == "req-audit-release"

    await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(
            release=release_pb2.Release(id=release.id, status="deprecated")
        ),
        metadata=auth(writer_key),
    )
    row = await only_row(stubs, reader_key, release.id, "update")
    check_row(row, "update", "release", release.id, "test-writer")
    assert changes(row)["status"] == {"old": "active", "new": "deprecated"}
    assert "version" not in changes(row), "only what changed"

    await stubs.releases.DeleteRelease(
        release_service_pb2.DeleteReleaseRequest(id=release.id), metadata=auth(writer_key)
    )
    check_row(
        await only_row(stubs, reader_key, release.id, "delete"),
        "delete",
        "release",
        release.id,
        "test-writer",
    )


async def test_artifact_mutations_are_audited(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    artifact = await create_artifact(stubs, writer_key, release.id, checksum="sha256:1")
    row = await only_row(stubs, reader_key, artifact.id, "create")
    check_row(row, "create", "artifact", artifact.id, "test-writer")
    assert row.request_id == "", "no request_id was sent"

    await stubs.artifacts.UpdateArtifact(
        artifact_service_pb2.UpdateArtifactRequest(
            artifact=artifact_pb2.Artifact(id=artifact.id, checksum="sha256:2")
        ),
        metadata=auth(writer_key),
    )
    row = await only_row(stubs, reader_key, artifact.id, "update")
    assert changes(row)["checksum"] == {"old": "sha256:1", "new": "sha256:2"}
    assert "name" not in changes(row), "only what changed"

    await stubs.artifacts.DeleteArtifact(
        artifact_service_pb2.DeleteArtifactRequest(id=artifact.id), metadata=auth(writer_key)
    )
    check_row(
        await only_row(stubs, reader_key, artifact.id, "delete"),
        "delete",
        "artifact",
        artifact.id,
        "test-writer",
    )


async def test_deployment_mutations_are_audited(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    _, release = await create_model_and_release(stubs, writer_key)
    deployment = await create_deployment(
        stubs, writer_key, release.id, request_id="req-audit-deploy", status="deploying", replicas=1
    )
    row = await only_row(stubs, reader_key, deployment.id, "create")
    check_row(row, "create", "deployment", deployment.id, "test-writer")
    assert row.request_id == "req-audit-deploy"

    await stubs.deployments.UpdateDeployment(
        deployment_service_pb2.UpdateDeploymentRequest(
            deployment=deployment_pb2.Deployment(id=deployment.id, status="success", replicas=3)
        ),
        metadata=auth(writer_key),
    )
    row = await only_row(stubs, reader_key, deployment.id, "update")
    check_row(row, "update", "deployment", deployment.id, "test-writer")
    assert changes(row) == {
        "status": {"old": "deploying", "new": "success"},
        "replicas": {"old": 1, "new": 3},
    }

    await stubs.deployments.DeleteDeployment(
        deployment_service_pb2.DeleteDeploymentRequest(id=deployment.id), metadata=auth(writer_key)
    )
    row = await only_row(stubs, reader_key, deployment.id, "terminate")
    check_row(row, "terminate", "deployment", deployment.id, "test-writer")


async def test_api_key_mutations_are_audited(stubs: Stubs, admin_key: str) -> None:
    created = await stubs.api_keys.CreateApiKey(
        api_key_service_pb2.CreateApiKeyRequest(api_key=api_key_pb2.ApiKey(name="ci-deployer")),
        metadata=auth(admin_key),
    )
    key_id = created.api_key.id
    row = await only_row(stubs, admin_key, key_id, "create")
    check_row(row, "create", "api_key", key_id, "test-admin")
    assert created.secret not in row.SerializeToString().decode("utf-8", "replace"), "no secret in the log"

    await stubs.api_keys.RevokeApiKey(
        api_key_service_pb2.RevokeApiKeyRequest(id=key_id), metadata=auth(admin_key)
    )
    check_row(await only_row(stubs, admin_key, key_id, "revoke"), "revoke", "api_key", key_id, "test-admin")


async def test_forced_delete_records_its_children(stubs: Stubs, writer_key: str) -> None:
    model, release = await create_model_and_release(stubs, writer_key)
    await create_artifact(stubs, writer_key, release.id)
    await create_deployment(stubs, writer_key, release.id, status="failed")  # history, not live
    await stubs.models.DeleteModel(
        model_service_pb2.DeleteModelRequest(id=model.id, force=True), metadata=auth(writer_key)
    )
    row = await only_row(stubs, writer_key, model.id, "delete")
    assert row.changes.fields, "the children that went with the model are in the log"


async def test_failed_mutations_write_no_row(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    model, release = await create_model_and_release(stubs, writer_key, version="1.0.0")
    await create_deployment(stubs, writer_key, release.id)
    before = await audit(stubs, reader_key)
    failures = [
        (create_model(stubs, writer_key, name=model.name), grpc.StatusCode.ALREADY_EXISTS),
        (create_model(stubs, writer_key, name=""), grpc.StatusCode.INVALID_ARGUMENT),
        (create_release(stubs, writer_key, model.id, version="1.0.0"), grpc.StatusCode.ALREADY_EXISTS),
        (
            stubs.models.DeleteModel(
                model_service_pb2.DeleteModelRequest(id=model.id), metadata=auth(writer_key)
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (
            stubs.models.UpdateModel(
                model_service_pb2.UpdateModelRequest(
                    model=model_pb2.Model(id=model.id, company="X"), etag="stale"
                ),
                metadata=auth(writer_key),
            ),
            grpc.StatusCode.ABORTED,
        ),
    ]
    for call, code in failures:
        await expect_error(call, code)
    after = await audit(stubs, reader_key)
    assert [r.id for r in after] == [r.id for r in before]


async def test_failed_duplicate_create_writes_no_row(stubs: Stubs, writer_key: str, reader_key: str) -> None:
    await create_model(stubs, writer_key, name="llama-3-7b-companyA")
    before = await audit(stubs, reader_key, resource_type="model")
    await expect_error(
        create_model(stubs, writer_key, name="llama-3-7b-companyA"), grpc.StatusCode.ALREADY_EXISTS
    )
    after = await audit(stubs, reader_key, resource_type="model")
    assert len(before) == 1
    assert [r.id for r in after] == [r.id for r in before]


async def test_list_audit_logs_filters(
    stubs: Stubs, writer_key: str, admin_key: str, reader_key: str
) -> None:
    baseline = await audit(stubs, reader_key)  # whatever setting up the keys logged
    m1 = await create_model(stubs, writer_key)
    r1 = await create_release(stubs, writer_key, m1.id)
    await stubs.models.UpdateModel(
        model_service_pb2.UpdateModelRequest(model=model_pb2.Model(id=m1.id, company="CompanyA")),
        metadata=auth(writer_key),
    )
    m2 = await create_model(stubs, admin_key)
    everything = await audit(stubs, reader_key)
    assert [r.id for r in everything[4:]] == [r.id for r in baseline]
    created = [to_datetime(r.created_at) for r in everything]
    assert created == sorted(created, reverse=True), "newest first"

    assert {r.resource_id for r in await audit(stubs, reader_key, resource_type="model")} == {m1.id, m2.id}
    assert [r.resource_id for r in await audit(stubs, reader_key, resource_type="release")] == [r1.id]
    assert [r.action for r in await audit(stubs, reader_key, resource_id=m1.id)] == ["update", "create"]
    assert [
        r.resource_id
        for r in await audit(stubs, reader_key, resource_type="model", after=everything[1].created_at)
    ] == [m2.id, m1.id]
    assert [r.resource_id for r in await audit(stubs, reader_key, action="update")] == [m1.id]
    assert [r.resource_id for r in await audit(stubs, reader_key, api_key_name="test-admin")] == [m2.id]
    assert len(await audit(stubs, reader_key, api_key_name="test-writer")) == 3
    assert await audit(stubs, reader_key, api_key_name="nobody") == []
    assert [
        r.resource_id for r in await audit(stubs, reader_key, resource_type="model", action="create")
    ] == [
        m2.id,
        m1.id,
    ]

    # after is inclusive, before exclusive; both use the rows' own timestamps.
    newest_first = everything
    pivot = newest_first[1]  # the update of m1
    after = await audit(stubs, reader_key, after=pivot.created_at)
    assert [r.id for r in after] == [r.id for r in newest_first[:2]]
    before = await audit(stubs, reader_key, before=pivot.created_at)
    assert [r.id for r in before] == [r.id for r in newest_first[2:]], "before is exclusive"
    window = await audit(
        stubs, reader_key, after=newest_first[2].created_at, before=newest_first[0].created_at
    )
    assert [r.id for r in window] == [r.id for r in newest_first[1:3]]

    paged = await list_all(
        stubs.audit_logs.ListAuditLogs, ListAuditLogs(), "audit_logs", reader_key, page_size=1
    )
    assert [r.id for r in paged] == [r.id for r in everything]


@pytest.mark.parametrize(
    "request_",
    [
        ListAuditLogs(resource_id="not-a-uuid"),
        ListAuditLogs(resource_type="spaceship"),
        ListAuditLogs(action="explode"),
        ListAuditLogs(page_size=-1),
    ],
)
async def test_list_audit_logs_rejects_bad_filters(stubs: Stubs, reader_key: str, request_: Any) -> None:
    await expect_error(
        stubs.audit_logs.ListAuditLogs(request_, metadata=auth(reader_key)), grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_a_denied_call_of_a_known_key_is_recorded(stubs: Stubs, reader_key: str) -> None:
    """A reader trying to write leaves a trace ("deny", naming the method); the write does not happen."""
    await expect_error(create_model(stubs, reader_key), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    denials = await stubs.audit_logs.ListAuditLogs(
        audit_log_service_pb2.ListAuditLogsRequest(action="deny"), metadata=auth(reader_key)
    )
    (row,) = denials.audit_logs
    assert (row.resource_type, row.api_key_name) == ("api_key", "test-reader")
    assert row.changes["method"] == "/catapult.v1.ModelService/CreateModel"
    assert row.changes["reason"] == "ROLE_NOT_ALLOWED"
    assert not (
        await stubs.models.ListModels(model_service_pb2.ListModelsRequest(), metadata=auth(reader_key))
    ).models
