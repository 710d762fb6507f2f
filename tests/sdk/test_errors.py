"""Each typed error, raised from a real server response, with its gRPC code and ErrorInfo reason:
one table row per way to get it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

import catapult
from tests.support.sdk import ConnectFn

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Caller:
    """What a row may call with: a writer's client, and clients with other keys."""

    client: catapult.AsyncClient
    connect: ConnectFn
    reader_key: str


async def _created_twice(c: Caller) -> Any:
    await c.client.create_model("taken", storage_path="s3://t/")
    return await c.client.create_model("taken", storage_path="s3://t/")


async def _request_id_reused(c: Caller) -> Any:
    await c.client.create_model("m", storage_path="s3://m/", request_id="shared-id")
    return await c.client.create_release("m", "1.0.0", request_id="shared-id")


async def _stale_etag(c: Caller) -> Any:
    model = await c.client.create_model("m", storage_path="s3://m/")
    await c.client.update_model(model.id, description="someone else")
    return await c.client.update_model(model.id, description="mine", etag=model.etag)


async def _deploying_a_deprecated_release(c: Caller) -> Any:
    await c.client.create_model("m", storage_path="s3://m/")
    release = await c.client.create_release("m", "1.0.0", status="deprecated")
    return await c.client.record_deployment(release.id, environment="production")


async def _deleting_a_model_with_releases(c: Caller) -> Any:
    await c.client.create_model("m", storage_path="s3://m/")
    await c.client.create_release("m", "1.0.0")
    return await c.client.delete_model("m")


@dataclass(frozen=True)
class Raises:
    error: type[catapult.CatapultError]
    code: grpc.StatusCode
    reason: str
    attempt: Callable[[Caller], Awaitable[Any]]


CODE = grpc.StatusCode
RAISES = {
    "unknown release id": Raises(
        catapult.NotFoundError,
        CODE.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        lambda c: c.client.get_release(MISSING_ID),
    ),
    "unknown model name": Raises(
        catapult.NotFoundError,
        CODE.NOT_FOUND,
        "RESOURCE_NOT_FOUND",
        lambda c: c.client.get_model("no-such-model"),
    ),
    "duplicate model": Raises(
        catapult.AlreadyExistsError, CODE.ALREADY_EXISTS, "RESOURCE_ALREADY_EXISTS", _created_twice
    ),
    "request id reused": Raises(
        catapult.InvalidArgumentError, CODE.INVALID_ARGUMENT, "REQUEST_ID_REUSED", _request_id_reused
    ),
    "no key": Raises(
        catapult.UnauthenticatedError,
        CODE.UNAUTHENTICATED,
        "API_KEY_MISSING",
        lambda c: c.connect(None).info(),
    ),
    "unknown key": Raises(
        catapult.UnauthenticatedError,
        CODE.UNAUTHENTICATED,
        "API_KEY_INVALID",
        lambda c: c.connect("ctp_AbCdEfGh_not-a-real-key").info(),
    ),
    "reader writing": Raises(
        catapult.PermissionDeniedError,
        CODE.PERMISSION_DENIED,
        "ROLE_NOT_ALLOWED",
        lambda c: c.connect(c.reader_key).create_model("m", storage_path="s3://m/"),
    ),
    "writer managing keys": Raises(
        catapult.PermissionDeniedError,
        CODE.PERMISSION_DENIED,
        "ROLE_NOT_ALLOWED",
        lambda c: c.client.create_api_key("not-for-writers"),
    ),
    "stale etag": Raises(catapult.ConflictError, CODE.ABORTED, "ETAG_MISMATCH", _stale_etag),
    "deprecated release": Raises(
        catapult.FailedPreconditionError,
        CODE.FAILED_PRECONDITION,
        "RELEASE_DEPRECATED",
        _deploying_a_deprecated_release,
    ),
    "model with releases": Raises(
        catapult.FailedPreconditionError,
        CODE.FAILED_PRECONDITION,
        "HAS_CHILDREN",
        _deleting_a_model_with_releases,
    ),
}


@pytest.mark.parametrize("case", RAISES.values(), ids=RAISES.keys())
async def test_typed_errors(
    client: catapult.AsyncClient, connect: ConnectFn, reader_key: str, case: Raises
) -> None:
    with pytest.raises(case.error) as err:
        await case.attempt(Caller(client, connect, reader_key))
    assert (err.value.code, err.value.reason) == (case.code, case.reason)
    assert err.value.message, "the server's message"
    # Every one is a CatapultError, keeping the grpc error and its google.rpc.Status.
    assert isinstance(err.value, catapult.CatapultError)
    assert isinstance(err.value.__cause__, grpc.RpcError), "the grpc error is kept as the cause"
    assert err.value.status is not None and err.value.status.code == case.code.value[0]


async def test_not_found_names_what_is_missing(client: catapult.AsyncClient) -> None:
    with pytest.raises(catapult.NotFoundError) as err:
        await client.get_release(MISSING_ID)
    assert MISSING_ID in str(err.value) + err.value.resource_name


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


async def test_a_reader_reads(connect: ConnectFn, reader_key: str) -> None:
    assert [m async for m in connect(reader_key).list_models()] == []
