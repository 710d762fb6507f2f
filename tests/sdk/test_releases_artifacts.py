"""Releases and artifacts through both clients."""

from __future__ import annotations

import pytest

import catapult
from tests.support.sdk import collect


async def test_create_release_by_model_name_or_id(client: catapult.AsyncClient) -> None:
    model = await client.create_model("m", storage_path="s3://m/")
    by_name = await client.create_release(
        "m",
        "1.0.0",
        tag="v1.0-fp16",
        digest="sha256:abc",
        quantization="fp16",
        size_bytes=123,
        platform="linux/amd64",
        architecture="amd64",
        os="linux",
        release_notes="first",
        metadata={"pytorch_version": "2.1.0"},
    )
    assert (by_name.image_id, by_name.model_name, by_name.status) == (model.id, "m", "active")
    assert (by_name.tag, by_name.size_bytes, by_name.os) == ("v1.0-fp16", 123, "linux")
    by_id = await client.create_release(model.id, "1.0.0", quantization="int8", status="deprecated")
    assert by_id.image_id == model.id and by_id.status == "deprecated"
    assert await client.get_release(by_name.id) == by_name

    with pytest.raises(catapult.AlreadyExistsError):
        await client.create_release("m", "1.0.0", quantization="fp16")
    with pytest.raises(catapult.NotFoundError):
        await client.create_release("no-such-model", "1.0.0")


async def test_latest_release_and_list_releases(client: catapult.AsyncClient) -> None:
    model = await client.create_model("m", storage_path="s3://m/")
    v1 = await client.create_release("m", "1.0.0", quantization="fp16")
    v2 = await client.create_release("m", "2.0.0", quantization="int8")
    v3 = await client.create_release("m", "3.0.0", quantization="fp16")
    await client.record_deployment(v1.id, environment="production", status="success")

    assert (await client.get_latest_release("m")).id == v3.id
    assert (await client.get_latest_release(model.id, quantization="int8")).id == v2.id
    assert (await client.get_latest_release("m", environment="production")).id == v1.id
    with pytest.raises(catapult.NotFoundError):
        await client.get_latest_release("m", environment="staging")

    every = await collect(client.list_releases("m", page_size=1))  # three pages
    assert [r.id for r in every] == [v3.id, v2.id, v1.id]
    assert [r.id for r in await collect(client.list_releases(model.id, quantization="fp16"))] == [
        v3.id,
        v1.id,
    ]
    assert [r.id for r in await collect(client.list_releases(version="2.0.0"))] == [v2.id]
    assert [r.version for r in await collect(client.list_releases("m", order_by="version"))] == [
        "1.0.0",
        "2.0.0",
        "3.0.0",
    ]


async def test_update_deprecate_and_delete_release(client: catapult.AsyncClient) -> None:
    await client.create_model("m", storage_path="s3://m/")
    release = await client.create_release("m", "1.0.0", release_notes="draft")
    updated = await client.update_release(release.id, release_notes="final", digest="sha256:d")
    assert (updated.release_notes, updated.digest, updated.version) == ("final", "sha256:d", "1.0.0")

    deprecated = await client.deprecate_release(release.id, etag=updated.etag)
    assert deprecated.status == "deprecated"
    assert [r.id for r in await collect(client.list_releases("m", status="deprecated"))] == [release.id]
    with pytest.raises(catapult.ConflictError):
        await client.deprecate_release(release.id, etag=updated.etag)

    await client.create_artifact(release.id, "a.whl", artifact_type="wheel", file_path="s3://a.whl")
    with pytest.raises(catapult.FailedPreconditionError) as refused:
        await client.delete_release(release.id)
    assert refused.value.reason == "HAS_CHILDREN"
    deleted = await client.delete_release(release.id, force=True)
    assert (deleted.id, deleted.deleted_artifacts) == (release.id, 1)
    with pytest.raises(catapult.NotFoundError):
        await client.get_release(release.id)


async def test_artifacts(client: catapult.AsyncClient) -> None:
    await client.create_model("m", storage_path="s3://m/")
    release = await client.create_release("m", "1.0.0")
    other = await client.create_release("m", "2.0.0")
    wheel = await client.create_artifact(
        release.id,
        "inference-1.0.0-py311.whl",
        artifact_type="wheel",
        file_path="s3://artifacts/inference-1.0.0.whl",
        size_bytes=1024,
        checksum="sha256:def",
        platform="linux_x86_64",
        python_version="3.11",
        metadata={"built_by": "ci"},
    )
    assert wheel.uploaded_by == "test-writer", "defaults to the calling key's name"
    binary = await client.create_artifact(
        release.id, "server", artifact_type="binary", file_path="s3://bin/server", uploaded_by="me"
    )
    same_file = await client.create_artifact(
        other.id, "copy.whl", artifact_type="wheel", file_path="s3://c.whl", checksum="sha256:def"
    )
    assert await client.get_artifact(wheel.id) == wheel

    assert [a.id for a in await collect(client.list_artifacts(release.id, page_size=1))] == [
        binary.id,
        wheel.id,
    ]
    assert [a.id for a in await collect(client.list_artifacts(artifact_type="binary"))] == [binary.id]
    by_checksum = await collect(client.list_artifacts(checksum="sha256:def", order_by="name"))
    assert [a.id for a in by_checksum] == [same_file.id, wheel.id]

    updated = await client.update_artifact(wheel.id, size_bytes=2048, checksum="sha256:new")
    assert (updated.size_bytes, updated.checksum, updated.name) == (2048, "sha256:new", wheel.name)
    with pytest.raises(catapult.ConflictError):
        await client.update_artifact(wheel.id, size_bytes=1, etag=wheel.etag)
    with pytest.raises(catapult.ConflictError):
        await client.delete_artifact(wheel.id, etag=wheel.etag)
    assert (await client.delete_artifact(wheel.id, etag=updated.etag)).id == wheel.id
    with pytest.raises(catapult.NotFoundError):
        await client.get_artifact(wheel.id)
