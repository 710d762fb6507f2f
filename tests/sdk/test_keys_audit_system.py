"""API keys, the audit log and the system RPCs through both clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import catapult
from tests.support.polling import poll_until
from tests.support.sdk import ConnectFn, collect


async def test_api_keys(connect: ConnectFn, admin: catapult.AsyncClient) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    created = await admin.create_api_key("dashboard", role="reader", expires_at=expires)
    assert created.secret.startswith("ctp_")
    assert (created.api_key.name, created.api_key.role, created.api_key.created_by) == (
        "dashboard",
        "reader",
        "test-admin",
    )
    assert catapult.as_datetime(created.api_key.expires_at) == expires
    writer = await admin.create_api_key("ci-deployer")
    assert writer.api_key.role == "writer", "writer is the default role"

    dashboard = connect(created.secret)
    assert (await dashboard.info()).api_version == "v1"
    caller = await dashboard.caller()
    assert (caller.api_key_name, caller.role) == ("dashboard", "reader")
    summary = await dashboard.registry_summary()  # a reader may count
    assert summary.model_count == len([m async for m in admin.list_models()])
    with pytest.raises(catapult.PermissionDeniedError):
        await dashboard.create_model("x", storage_path="s3://x/")

    names = [k.name async for k in admin.list_api_keys(page_size=1)]
    assert names[:2] == ["ci-deployer", "dashboard"] and "test-admin" in names

    revoked = await admin.revoke_api_key(created.api_key.id)
    assert catapult.as_datetime(revoked.revoked_at) is not None
    assert await admin.revoke_api_key(created.api_key.id) == revoked, "revoking twice changes nothing"
    assert "dashboard" not in [k.name async for k in admin.list_api_keys()]
    assert "dashboard" in [k.name async for k in admin.list_api_keys(include_revoked=True)]

    async def rejected() -> catapult.UnauthenticatedError | None:
        try:
            await dashboard.info()
        except catapult.UnauthenticatedError as err:
            return err
        return None

    # Each server process trusts a key lookup for up to 2 s.
    assert (await poll_until(rejected, within=10)).reason == "API_KEY_REVOKED"


async def test_audit_log(client: catapult.AsyncClient, admin: catapult.AsyncClient) -> None:
    start = datetime.now(UTC)
    model = await client.create_model("m", storage_path="s3://m/", request_id="my-request-1")
    await client.update_model(model.id, description="d")
    release = await client.create_release(model.id, "1.0.0")

    rows = await collect(admin.list_audit_logs(resource_id=model.id, page_size=1))
    assert [(r.action, r.resource_type) for r in rows] == [("update", "model"), ("create", "model")]
    assert rows[1].request_id == "my-request-1" and rows[1].api_key_name == "test-writer"
    assert catapult.as_dict(rows[0].changes) == {"description": {"old": "", "new": "d"}}

    creates = await collect(admin.list_audit_logs(action="create", api_key_name="test-writer"))
    assert {r.resource_id for r in creates} == {model.id, release.id}
    releases = await collect(admin.list_audit_logs(resource_type="release"))
    assert [r.resource_id for r in releases] == [release.id]
    assert len(await collect(admin.list_audit_logs(after=start))) == 3
    earlier = await collect(admin.list_audit_logs(before=start))
    assert {r.resource_type for r in earlier} == {"api_key"}, "only the fixtures' keys came before"


async def test_info_and_health(connect: ConnectFn, client: catapult.AsyncClient) -> None:
    info = await client.info()
    assert info.version and info.api_version == "v1"
    assert info.database.reachable and info.database.schema_revision
    assert catapult.as_datetime(info.started_at) is not None

    anonymous = connect(None)
    health = await anonymous.health()
    assert health.status == "ok" and health.version == info.version, "health needs no key"
    with pytest.raises(catapult.UnauthenticatedError):
        await anonymous.info()
