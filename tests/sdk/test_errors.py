"""Each typed error, raised from a real server response, with its ErrorInfo reason."""

from __future__ import annotations

import grpc
import pytest

import catapult
from tests.support.sdk import ConnectFn


async def test_not_found(client: catapult.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(catapult.NotFoundError) as err:
        await client.get_release(missing)
    assert (err.value.code, err.value.reason) == (grpc.StatusCode.NOT_FOUND, "RESOURCE_NOT_FOUND")
    assert err.value.message and missing in str(err.value) + err.value.resource_name
    with pytest.raises(catapult.NotFoundError):
        await client.get_model("no-such-model")


async def test_already_exists(client: catapult.AsyncClient) -> None:
    await client.create_model("taken", storage_path="s3://t/")
    with pytest.raises(catapult.AlreadyExistsError) as err:
        await client.create_model("taken", storage_path="s3://t/")
    assert (err.value.code, err.value.reason) == (grpc.StatusCode.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS")


async def test_invalid_argument_carries_the_field_violations(client: catapult.AsyncClient) -> None:
    with pytest.raises(catapult.InvalidArgumentError) as err:
        await client.create_model("", storage_path="")
    assert (err.value.code, err.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    fields = {violation.field for violation in err.value.field_violations}
    assert {"model.name", "model.storage_path"} <= fields
    assert all(violation.description for violation in err.value.field_violations)
    assert "model.name" in str(err.value)

    with pytest.raises(catapult.InvalidArgumentError) as bad_page:
        [m async for m in client.list_models(page_size=-1)]
    assert [v.field for v in bad_page.value.field_violations] == ["page_size"]

    await client.create_model("m", storage_path="s3://m/", request_id="shared-id")
    with pytest.raises(catapult.InvalidArgumentError) as reused:
        await client.create_release("m", "1.0.0", request_id="shared-id")
    assert reused.value.reason == "REQUEST_ID_REUSED"


async def test_unauthenticated(connect: ConnectFn) -> None:
    with pytest.raises(catapult.UnauthenticatedError) as missing:
        await connect(None).info()
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING")
    with pytest.raises(catapult.UnauthenticatedError) as invalid:
        await connect("ctp_AbCdEfGh_not-a-real-key").info()
    assert invalid.value.reason == "API_KEY_INVALID"


async def test_permission_denied(connect: ConnectFn, reader_key: str, writer_key: str) -> None:
    reader = connect(reader_key)
    assert [m async for m in reader.list_models()] == [], "a reader reads"
    with pytest.raises(catapult.PermissionDeniedError) as err:
        await reader.create_model("m", storage_path="s3://m/")
    assert (err.value.code, err.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    with pytest.raises(catapult.PermissionDeniedError):
        await connect(writer_key).create_api_key("not-for-writers")


async def test_conflict_on_a_stale_etag(client: catapult.AsyncClient) -> None:
    model = await client.create_model("m", storage_path="s3://m/")
    await client.update_model(model.id, description="someone else")
    with pytest.raises(catapult.ConflictError) as err:
        await client.update_model(model.id, description="mine", etag=model.etag)
    assert (err.value.code, err.value.reason) == (grpc.StatusCode.ABORTED, "ETAG_MISMATCH")


async def test_failed_precondition(client: catapult.AsyncClient) -> None:
    await client.create_model("m", storage_path="s3://m/")
    release = await client.create_release("m", "1.0.0", status="deprecated")
    with pytest.raises(catapult.FailedPreconditionError) as deprecated:
        await client.record_deployment(release.id, environment="production")
    assert (deprecated.value.code, deprecated.value.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "RELEASE_DEPRECATED",
    )
    with pytest.raises(catapult.FailedPreconditionError) as children:
        await client.delete_model("m")
    assert children.value.reason == "HAS_CHILDREN"


async def test_every_error_is_a_catapult_error(client: catapult.AsyncClient) -> None:
    with pytest.raises(catapult.CatapultError) as err:
        await client.get_model("nope")
    assert isinstance(err.value, catapult.NotFoundError)
    assert isinstance(err.value.__cause__, grpc.RpcError), "the grpc error is kept as the cause"
    assert err.value.status is not None and err.value.status.code == grpc.StatusCode.NOT_FOUND.value[0]
