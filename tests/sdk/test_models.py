"""Models through both clients: create, get by id and by name, lazy listing over many pages,
updates that change only the fields given, etags, deletes."""

from __future__ import annotations

import pytest

import catapult
from tests.support.sdk import collect


async def test_create_and_get_by_id_and_name(client: catapult.AsyncClient) -> None:
    model = await client.create_model(
        "llama-3-7b-companyA",
        storage_path="s3://ml-models/companyA/llama-3-7b/",
        company="CompanyA",
        base_model="llama-3",
        parameter_count="7B",
        description="chat model",
        tags=["production", "chatbot"],
        metadata={"accuracy": 0.95, "dataset": {"name": "wiki", "rows": 1000}},
    )
    assert model.id and model.etag
    assert list(model.tags) == ["production", "chatbot"]
    assert catapult.as_dict(model.metadata) == {"accuracy": 0.95, "dataset": {"name": "wiki", "rows": 1000}}
    created_at = catapult.as_datetime(model.created_at)
    assert created_at is not None and created_at.tzinfo is not None

    assert await client.get_model(model.id) == model
    assert await client.get_model("llama-3-7b-companyA") == model
    assert await client.get_model_by_name("llama-3-7b-companyA") == model


async def test_get_model_by_name_that_looks_like_a_uuid(client: catapult.AsyncClient) -> None:
    name = "2f1c7a9e-0000-4000-8000-000000000001"
    model = await client.create_model(name, storage_path="s3://m/")
    with pytest.raises(catapult.NotFoundError):
        await client.get_model(name)  # a UUID is taken as an id
    assert (await client.get_model_by_name(name)).id == model.id


async def test_list_models_filters(client: catapult.AsyncClient) -> None:
    a = await client.create_model("alpha-7b", storage_path="s3://a/", company="A", tags=["prod", "chat"])
    b = await client.create_model("beta-70b", storage_path="s3://b/", company="B", tags=["prod"])
    c = await client.create_model(
        "gamma-7b", storage_path="s3://c/", company="A", base_model="llama-3", parameter_count="7B"
    )

    def names(models: list[catapult.Model]) -> list[str]:
        return [m.name for m in models]

    assert names(await collect(client.list_models())) == [c.name, b.name, a.name], "newest first"
    assert names(await collect(client.list_models(order_by="name"))) == [a.name, b.name, c.name]
    assert names(await collect(client.list_models(company="A", order_by="name"))) == [a.name, c.name]
    assert names(await collect(client.list_models(tags=["prod", "chat"]))) == [a.name]
    assert names(await collect(client.list_models(search="7B", order_by="name"))) == [a.name, c.name]
    assert names(await collect(client.list_models(base_model="llama-3", parameter_count="7B"))) == [c.name]


async def test_list_models_pages_lazily_through_every_page(client: catapult.AsyncClient) -> None:
    names = [f"paged-{i}" for i in range(7)]
    for name in names:
        await client.create_model(name, storage_path="s3://p/")
    # 7 models, 2 a page: four pages, all of them read.
    assert [m.name async for m in client.list_models(order_by="name", page_size=2)] == names

    # Lazy: the third model is deleted after the first page was read and before the second was
    # asked for, so a lister that fetched ahead would still yield it.
    seen = []
    async for model in client.list_models(order_by="name", page_size=2):
        seen.append(model.name)
        if model.name == "paged-1":
            await client.delete_model("paged-2")
    assert seen == [n for n in names if n != "paged-2"]


async def test_update_changes_only_the_fields_given(client: catapult.AsyncClient) -> None:
    model = await client.create_model(
        "m", storage_path="s3://m/", company="A", description="old", tags=["x"], metadata={"k": "v"}
    )
    updated = await client.update_model("m", description="new")
    assert updated.description == "new"
    assert (updated.company, list(updated.tags), catapult.as_dict(updated.metadata)) == (
        "A",
        ["x"],
        {"k": "v"},
    )
    assert updated.etag != model.etag

    # Empty values clear fields: the update mask names what was passed, even when empty.
    cleared = await client.update_model(model.id, company="", tags=[], metadata={})
    assert (cleared.company, list(cleared.tags), catapult.as_dict(cleared.metadata)) == ("", [], {})
    assert cleared.description == "new"

    renamed = await client.update_model(model.id, name="m2", tags=["a", "b"], metadata={"n": 1})
    assert renamed.name == "m2" and list(renamed.tags) == ["a", "b"]
    assert (await client.get_model("m2")).id == model.id


async def test_update_with_etag(client: catapult.AsyncClient) -> None:
    model = await client.create_model("etagged", storage_path="s3://e/")
    first = await client.update_model(model.id, description="one", etag=model.etag)
    with pytest.raises(catapult.ConflictError) as stale:
        await client.update_model(model.id, description="two", etag=model.etag)
    assert stale.value.reason == "ETAG_MISMATCH"
    assert (await client.update_model(model.id, description="two", etag=first.etag)).description == "two"


async def test_update_needs_a_field(client: catapult.AsyncClient) -> None:
    model = await client.create_model("nothing", storage_path="s3://n/")
    with pytest.raises(ValueError, match="nothing to update"):
        await client.update_model(model.id)


async def test_delete_model_with_force_and_etag(client: catapult.AsyncClient) -> None:
    model = await client.create_model("doomed", storage_path="s3://d/")
    release = await client.create_release("doomed", "1.0.0")
    await client.create_artifact(release.id, "a.whl", artifact_type="wheel", file_path="s3://a.whl")
    live = await client.record_deployment(release.id, environment="staging")

    with pytest.raises(catapult.FailedPreconditionError) as refused:
        await client.delete_model("doomed", force=True)
    assert refused.value.reason == "HAS_LIVE_DEPLOYMENTS", "what is live is never deleted"
    await client.terminate_deployment(live.id)
    with pytest.raises(catapult.FailedPreconditionError) as refused:
        await client.delete_model("doomed")
    assert refused.value.reason == "HAS_CHILDREN"
    with pytest.raises(catapult.ConflictError):
        await client.delete_model("doomed", force=True, etag="stale")

    deleted = await client.delete_model("doomed", force=True, etag=model.etag)
    assert (deleted.id, deleted.deleted_releases, deleted.deleted_artifacts, deleted.deleted_deployments) == (
        model.id,
        1,
        1,
        1,
    )
    with pytest.raises(catapult.NotFoundError):
        await client.get_model(model.id)

    empty = await client.create_model("empty", storage_path="s3://e/")
    assert (await client.delete_model(empty.id)).id == empty.id
